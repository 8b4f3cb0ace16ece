"""A paid deposit confirms the booking once: confirmation email with a valid .ics, WhatsApp, staff notice,
reminders planned, balance invoice per the offer; late deposits confirm or are refunded."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest

from jasa.bookings.models import BookingStatus
from jasa.bookings.services import booking_confirm
from jasa.core import clock
from jasa.core.errors import Conflict
from jasa.core.models import ScheduledJob
from jasa.core.money import Money
from jasa.notifications.models import OutboxMessage
from tests.bookings.conftest import FRI_9, THU_9

pytestmark = pytest.mark.django_db


def _messages(booking):
    return OutboxMessage.objects.filter(dedupe_key__startswith=f"booking:{booking.pk}:")


def test_paid_deposit_confirms_and_notifies_once(hold, pay, staff):
    booking = pay(hold(start=FRI_9))
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.hold_expires_at is None and booking.confirmed_at == clock.now()
    assert booking.deposit_paid_amount == 100_000
    sent = {(m.channel, m.recipient, m.template) for m in _messages(booking)}
    assert ("email", booking.client.email, "bookings.confirmed") in sent
    assert ("whatsapp", "+6281234567890", "bookings.confirmed") in sent
    assert ("email", staff.user.email, "bookings.staff_new") in sent
    reminders = ScheduledJob.objects.filter(key__startswith=f"booking:{booking.pk}:reminder:")
    assert sorted(j.due_at for j in reminders) == [FRI_9 - dt.timedelta(days=1), FRI_9 - dt.timedelta(hours=1)]
    calendar_job = ScheduledJob.objects.get(key__startswith=f"booking:{booking.pk}:calendar:")
    assert calendar_job.due_at == clock.now()
    count = _messages(booking).count()
    assert booking_confirm(booking=booking).status == BookingStatus.CONFIRMED  # a duplicate event
    pay(booking)  # a duplicate webhook and sync
    assert _messages(booking).count() == count


def test_confirmation_email_carries_a_valid_ics(hold, pay):
    booking = pay(hold())
    message = _messages(booking).get(channel="email", template="bookings.confirmed")
    [attachment] = message.attachments
    assert attachment["filename"].endswith(".ics") and attachment["content_type"].startswith("text/calendar")
    import base64

    cal = icalendar.Calendar.from_ical(base64.b64decode(attachment["data_b64"]))
    [event] = cal.walk("VEVENT")
    assert event.decoded("dtstart") == THU_9 and event.decoded("dtend") == THU_9 + dt.timedelta(hours=1)
    assert str(event["uid"]) == f"booking-{booking.pk}@jasa"
    assert str(cal["version"]) == "2.0" and cal["prodid"]
    assert "Konsultasi 60 menit" in str(event["summary"])


def test_balance_invoice_issued_before_the_session_when_the_offer_says_so(hold, pay, offer_factory, run_due):
    offer = offer_factory(name_id="Sesi", balance_due="before", balance_due_hours_before=12)
    booking = pay(hold(offer=offer))
    assert booking.balance_invoice is not None
    assert booking.balance_invoice.total == Money(400_000) and booking.balance_invoice.status == "open"
    assert booking.balance_invoice.due_at == THU_9 - dt.timedelta(hours=12)
    assert _messages(booking).filter(template="bookings.balance_due").count() >= 1
    # reminders until paid: the first round goes out a day later
    clock.advance(dt.timedelta(days=1, minutes=1))
    run_due()
    assert _messages(booking).filter(dedupe_key=f"booking:{booking.pk}:balance:1:email").exists()


def test_balance_after_the_session_is_issued_when_it_ends(hold, pay, run_due):
    booking = pay(hold())
    assert booking.balance_invoice is None
    clock.advance(THU_9 + dt.timedelta(hours=1, minutes=1) - clock.now())
    run_due()
    booking.refresh_from_db()
    assert booking.balance_invoice is not None and booking.balance_invoice.total == Money(400_000)


def test_full_prepayment_has_no_balance(hold, pay, offer_factory):
    offer = offer_factory(name_id="Lunas", deposit_kind="full")
    booking = pay(hold(offer=offer))
    assert booking.deposit == Money(500_000) and booking.balance.is_zero
    assert booking.balance_invoice is None


def test_free_offer_confirms_without_payment(hold, offer_factory):
    offer = offer_factory(name_id="Gratis", price_amount=0)
    booking = hold(offer=offer)
    assert booking.status == BookingStatus.CONFIRMED and booking.deposit_invoice is None


def test_deposit_after_the_hold_lapsed_confirms_when_still_free(hold, pay, run_due):
    booking = hold()
    clock.advance(dt.timedelta(minutes=20))
    run_due()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    booking = pay(booking)
    assert booking.status == BookingStatus.CONFIRMED


def test_deposit_after_someone_else_took_the_slot_is_refunded(hold, pay, run_due, gateway):
    late = hold()
    clock.advance(dt.timedelta(minutes=20))
    other = pay(hold())
    assert other.status == BookingStatus.CONFIRMED
    late = pay(late)
    assert late.status == BookingStatus.EXPIRED
    assert late.deposit_refunded_amount == 100_000
    assert gateway.refund_calls


def test_calendar_job_runs_for_a_staff_member_without_a_calendar(hold, pay, run_due):
    booking = pay(hold(start=FRI_9))
    run_due()
    job = ScheduledJob.objects.get(key__startswith=f"booking:{booking.pk}:calendar:")
    assert job.status == "done", job.last_error


def test_missed_payment_event_is_repaired_by_the_hold_expiry_job(hold, gateway, run_due):
    """The deposit was paid but the event never reached bookings (a crash after the payment committed)."""
    from jasa.payments.gateways.base import Method, Status
    from jasa.payments.services import payment_sync

    booking = hold(start=FRI_9)
    payment = booking.deposit_invoice.payments.get()
    gateway.set_status(payment.reference, Status.SUCCEEDED, method=Method.CARD)
    payment_sync(payment.pk)  # on-commit callbacks are dropped here: no invoice_paid signal
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_DEPOSIT and booking.deposit_invoice.status == "paid"
    clock.advance(dt.timedelta(minutes=16))
    assert hold(start=THU_9).status == BookingStatus.AWAITING_DEPOSIT  # lazy expiry leaves the paid hold alone
    with pytest.raises(Conflict):
        hold(start=FRI_9)  # the paid hold still blocks its time
    run_due()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_failing_confirmation_is_retried_as_a_job(hold, pay, run_due, monkeypatch):
    from jasa.bookings import services

    real = services.on_invoice_paid
    calls = {"n": 0}

    def flaky(invoice, payment):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("smtp down")
        return real(invoice, payment)

    monkeypatch.setattr(services, "on_invoice_paid", flaky)
    booking = pay(hold(start=FRI_9))
    assert booking.status == BookingStatus.AWAITING_DEPOSIT
    assert ScheduledJob.objects.filter(key=f"invoice:{booking.deposit_invoice_id}:booking-confirm").exists()
    clock.advance(dt.timedelta(minutes=2))
    run_due()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
