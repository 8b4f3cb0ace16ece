"""Bookings reacting to the payment core's events, and feeding the slot engine its bookings."""

from __future__ import annotations

import datetime as dt
import logging

from django.dispatch import receiver

from jasa.bookings import availability, billing, selectors, services
from jasa.core import clock, jobs
from jasa.payments.services_refund_notice import client_told_elsewhere
from jasa.payments.signals import invoice_paid, payment_failed, payment_refunded, payment_status_changed

log = logging.getLogger(__name__)

availability.bookings_provider(selectors.busy_intervals)
client_told_elsewhere(billing.cancellation_told_client)  # no second email about a cancellation's refund


@receiver(invoice_paid, dispatch_uid="bookings.invoice_paid")
def _invoice_paid(sender, invoice, payment=None, **kwargs):
    try:
        services.on_invoice_paid(invoice, payment)
    except Exception:  # noqa: BLE001 - never break the payment core's event delivery; retry as a job
        log.exception("confirming the booking of invoice %s failed; retrying as a job", invoice.pk)
        jobs.schedule(services.CONFIRM_RETRY_JOB, key=f"invoice:{invoice.pk}:booking-confirm",
                      due_at=clock.now() + dt.timedelta(minutes=1), payload={"invoice": str(invoice.pk)},
                      workspace=invoice.workspace)


@receiver(payment_failed, dispatch_uid="bookings.payment_failed")
def _payment_failed(sender, payment, **kwargs):
    services.on_payment_failed(payment)


@receiver(payment_status_changed, dispatch_uid="bookings.payment_status_changed")
def _payment_status_changed(sender, payment, old=None, new=None, **kwargs):
    services.on_payment_status_changed(payment, old, new or payment.status)


@receiver(payment_refunded, dispatch_uid="bookings.payment_refunded")
def _payment_refunded(sender, payment, refund, **kwargs):
    services.on_payment_refunded(payment, refund)
