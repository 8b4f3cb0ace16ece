"""Bookings reacting to the payment core's events, and feeding the slot engine its bookings."""

from __future__ import annotations

from django.dispatch import receiver

from jasa.bookings import availability, selectors, services
from jasa.payments.signals import invoice_paid, payment_failed, payment_status_changed

availability.bookings_provider(selectors.busy_intervals)


@receiver(invoice_paid, dispatch_uid="bookings.invoice_paid")
def _invoice_paid(sender, invoice, payment=None, **kwargs):
    services.on_invoice_paid(invoice, payment)


@receiver(payment_failed, dispatch_uid="bookings.payment_failed")
def _payment_failed(sender, payment, **kwargs):
    services.on_payment_failed(payment)


@receiver(payment_status_changed, dispatch_uid="bookings.payment_status_changed")
def _payment_status_changed(sender, payment, old=None, new=None, **kwargs):
    services.on_payment_status_changed(payment, old, new or payment.status)
