"""Models of subscriptions."""

from django.db import models  # noqa: F401
