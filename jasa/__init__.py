"""jasa: sell consultations, milestone projects and subscriptions, and get paid."""

__version__ = "0.1.0"
