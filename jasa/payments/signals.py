"""Events of the payment core for domain code (bookings, projects, subscriptions).

Sent after the transaction that made the change commits, exactly once per transition::

    from jasa.payments.signals import invoice_paid

    @receiver(invoice_paid)
    def _confirm(sender, invoice, payment, **kw): ...
"""

from django.dispatch import Signal

invoice_paid = Signal()  # invoice, payment
payment_failed = Signal()  # payment  (failed, canceled or expired)
payment_refunded = Signal()  # payment, refund
payment_status_changed = Signal()  # payment, old, new
refund_owed = Signal()  # refund  (a refund owed by bank transfer was recorded: the client must be told)
# setup  (saving a card without a payment left pending: setup.status, and setup.saved_method when it succeeded)
saved_method_setup_finished = Signal()
