"""Scheduled work of bookings: thin handlers that load the booking and call a service."""

from __future__ import annotations

from jasa.bookings import services
from jasa.bookings.models import Booking
from jasa.core import jobs


def _booking(job) -> Booking | None:
    return Booking.objects.filter(pk=job.payload.get("booking")).first()


@jobs.handler(services.HOLD_JOB)
def _hold_expiry(job) -> None:
    booking = _booking(job)
    if booking is not None:
        services.booking_expire_hold(booking=booking)


@jobs.handler(services.REMINDER_JOB)
def _reminder(job) -> None:
    p = job.payload
    services.booking_send_reminder(booking_id=p["booking"], offset=int(p["offset"]), start=p["start"],
                                   channels=p.get("channels") or services.DEFAULT_CHANNELS)


@jobs.handler(services.BALANCE_ISSUE_JOB)
def _balance_issue(job) -> None:
    booking = _booking(job)
    if booking is not None:
        services.booking_issue_balance(booking=booking)


@jobs.handler(services.BALANCE_REMINDER_JOB)
def _balance_reminder(job) -> None:
    services.booking_balance_reminder(booking_id=job.payload["booking"], round_no=int(job.payload.get("round", 1)))


@jobs.handler(services.CALENDAR_JOB)
def _calendar(job) -> None:
    booking = Booking.objects.select_related("offer", "staff__user", "client", "workspace").filter(
        pk=job.payload.get("booking")).first()
    if booking is not None:
        services.booking_calendar_sync(booking)


@jobs.handler(services.CONFIRM_RETRY_JOB)
def _confirm_retry(job) -> None:
    from jasa.payments.models import Invoice

    invoice = Invoice.objects.filter(pk=job.payload.get("invoice")).first()
    if invoice is not None and invoice.status == "paid":
        services.on_invoice_paid(invoice, None)
