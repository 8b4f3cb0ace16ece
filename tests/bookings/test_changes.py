"""Cancel (refund by policy), reschedule (free window, moves reminders and the calendar event), outcomes."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.bookings.models import BookingStatus
from jasa.bookings.services import (
    booking_cancel,
    booking_mark_attended,
    booking_mark_no_show,
    booking_reschedule,
)
from jasa.core import clock
from jasa.core.errors import Conflict, InvalidTransition, PermissionDenied
from jasa.core.models import ScheduledJob
from jasa.core.money import Money
from jasa.notifications.models import OutboxMessage
from jasa.payments.gateways.base import Method
from jasa.payments.models import Refund
from tests.bookings.conftest import FRI_9, THU_9, THU_10

pytestmark = pytest.mark.django_db


def _jobs(booking, part):
    return ScheduledJob.objects.filter(key__startswith=f"booking:{booking.pk}:{part}")


def test_cancel_inside_the_window_refunds_the_deposit(hold, pay, gateway):
    booking = pay(hold(start=FRI_9))
    booking = booking_cancel(booking=booking, by="client", reason="sakit")
    assert booking.status == BookingStatus.CANCELLED and booking.cancelled_by == "client"
    assert booking.deposit_refunded_amount == 100_000 and booking.deposit_kept == Money(0)
    refund = Refund.objects.get()
    assert refund.amount == Money(100_000) and refund.status == "succeeded"
    assert refund.refund_key.startswith(f"booking:{booking.pk}:refund:")
    assert not _jobs(booking, "reminder").filter(status="pending").exists()
    assert OutboxMessage.objects.filter(dedupe_key=f"booking:{booking.pk}:cancelled:email").exists()
    # cancelling again changes nothing and refunds nothing more
    booking_cancel(booking=booking, by="client")
    assert Refund.objects.count() == 1


def test_late_cancel_keeps_the_deposit(hold, pay):
    booking = pay(hold(start=FRI_9))
    clock.advance(FRI_9 - dt.timedelta(hours=2) - clock.now())
    booking = booking_cancel(booking=booking, by="client")
    assert booking.status == BookingStatus.CANCELLED
    assert booking.deposit_refunded_amount == 0 and booking.deposit_kept == Money(100_000)
    assert not Refund.objects.exists()


def test_partial_refund_policy_and_staff_cancel_refunds_in_full(hold, pay, offer_factory):
    offer = offer_factory(name_id="Separuh", refund_percent=50)
    client_cancelled = booking_cancel(booking=pay(hold(offer=offer, start=FRI_9)), by="client")
    assert client_cancelled.deposit_refunded_amount == 50_000
    staff_cancelled = booking_cancel(booking=pay(hold(offer=offer, start=THU_10)), by="staff")
    assert staff_cancelled.deposit_refunded_amount == 100_000


def test_refund_the_gateway_cannot_make_is_owed_by_transfer(hold, pay):
    booking = pay(hold(start=FRI_9), method=Method.VA_BCA)  # VA payments cannot be refunded by the gateway
    booking = booking_cancel(booking=booking, by="client")
    assert booking.status == BookingStatus.CANCELLED
    assert booking.deposit_refunded_amount == 0 and booking.refund_owed_amount == 100_000
    assert booking.deposit_kept == Money(0)


def test_cancelled_slot_is_free_again(hold, pay):
    booking_cancel(booking=pay(hold(start=FRI_9)), by="client")
    assert hold(start=FRI_9).status == BookingStatus.AWAITING_DEPOSIT


def test_reschedule_moves_booking_reminders_and_messages(hold, pay, run_due):
    booking = pay(hold(start=FRI_9))
    old_keys = set(_jobs(booking, "reminder").values_list("key", flat=True))
    new_start = FRI_9 + dt.timedelta(hours=3)
    booking = booking_reschedule(booking=booking, start=new_start, by="client")
    assert booking.start_at == new_start and booking.reschedule_count == 1
    assert set(_jobs(booking, "reminder").filter(key__in=old_keys).values_list("status", flat=True)) == {"canceled"}
    pending = _jobs(booking, "reminder").filter(status="pending")
    assert sorted(j.due_at for j in pending) == [new_start - dt.timedelta(days=1), new_start - dt.timedelta(hours=1)]
    assert _jobs(booking, "calendar").exists()
    assert OutboxMessage.objects.filter(dedupe_key=f"booking:{booking.pk}:rescheduled:1:email").exists()
    assert hold(start=FRI_9).status == BookingStatus.AWAITING_DEPOSIT  # the old time is free


def test_reschedule_into_an_overlapping_time_of_its_own_is_allowed(hold, pay, offer_factory):
    offer = offer_factory(name_id="Setengah jam", slot_interval_minutes=30)
    booking = pay(hold(offer=offer, start=FRI_9))
    moved = booking_reschedule(booking=booking, start=FRI_9 + dt.timedelta(minutes=30), by="client")
    assert moved.start_at == FRI_9 + dt.timedelta(minutes=30)


def test_reschedule_rules(hold, pay):
    taken = pay(hold(start=THU_10))
    booking = pay(hold(start=FRI_9))
    with pytest.raises(Conflict):
        booking_reschedule(booking=booking, start=taken.start_at, by="client")
    clock.advance(FRI_9 - dt.timedelta(hours=20) - clock.now())  # inside 24 h: no longer free for the client
    with pytest.raises(PermissionDenied):
        booking_reschedule(booking=booking, start=FRI_9 + dt.timedelta(hours=2), by="client")
    moved = booking_reschedule(booking=booking, start=FRI_9 + dt.timedelta(hours=2), by="staff")
    assert moved.start_at == FRI_9 + dt.timedelta(hours=2)


def test_no_show_keeps_deposit_and_charges_balance_when_policy_says(hold, pay, offer_factory):
    offer = offer_factory(name_id="Ketat", no_show_charges_balance=True)
    booking = pay(hold(offer=offer))
    with pytest.raises(Conflict):
        booking_mark_no_show(booking=booking)  # not started yet
    clock.advance(THU_9 + dt.timedelta(minutes=20) - clock.now())
    booking = booking_mark_no_show(booking=booking)
    assert booking.status == BookingStatus.NO_SHOW and booking.deposit_kept == Money(100_000)
    assert booking.balance_invoice is not None and booking.balance_invoice.total == Money(400_000)
    with pytest.raises(InvalidTransition):
        booking_mark_attended(booking=booking)


def _saved_card(booking, token: str):
    from jasa.payments.models import SavedPaymentMethod

    return SavedPaymentMethod.objects.create(
        workspace=booking.workspace, client=booking.client, gateway="testpay", token=token, method="card",
        brand="visa", masked="481111******1114", expiry_month=12, expiry_year=2030, consent_at=clock.now(),
    )


@pytest.mark.parametrize(("token", "paid"), [("tok-ok", True), ("tok-decline", False)])
def test_no_show_balance_is_charged_to_the_saved_card(hold, pay, offer_factory, django_capture_on_commit_callbacks,
                                                      token, paid):
    """With the client's saved card the balance is charged off-session, once; a declined card leaves the
    balance invoice open for the client to pay from its reminders."""
    from jasa.bookings.services import booking_charge_balance_saved

    offer = offer_factory(name_id="Ketat", no_show_charges_balance=True)
    booking = pay(hold(offer=offer))
    _saved_card(booking, token)
    clock.advance(THU_9 + dt.timedelta(minutes=20) - clock.now())
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_mark_no_show(booking=booking)
    invoice = booking.balance_invoice
    invoice.refresh_from_db()
    assert invoice.total == Money(400_000)
    assert (invoice.status == "paid") is paid
    with django_capture_on_commit_callbacks(execute=True):
        booking_charge_balance_saved(booking_id=booking.pk)  # a repeat charges nothing more
    assert invoice.payments.count() == 1


def test_no_show_balance_without_a_saved_card_stays_an_open_invoice(hold, pay, offer_factory,
                                                                    django_capture_on_commit_callbacks):
    offer = offer_factory(name_id="Ketat", no_show_charges_balance=True)
    booking = pay(hold(offer=offer))
    clock.advance(THU_9 + dt.timedelta(minutes=20) - clock.now())
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_mark_no_show(booking=booking)
    booking.balance_invoice.refresh_from_db()
    assert booking.balance_invoice.status == "open" and booking.balance_invoice.payments.count() == 0


def test_no_show_without_balance_policy_issues_nothing(hold, pay):
    booking = pay(hold())
    clock.advance(THU_9 + dt.timedelta(minutes=20) - clock.now())
    booking = booking_mark_no_show(booking=booking)
    assert booking.balance_invoice is None


def test_attended(hold, pay):
    booking = pay(hold())
    clock.advance(THU_9 + dt.timedelta(hours=1) - clock.now())
    booking = booking_mark_attended(booking=booking)
    assert booking.status == BookingStatus.ATTENDED
    assert booking.balance_invoice is not None  # balance due after the session


def test_awaiting_hold_can_be_cancelled_without_refund(hold):
    booking = booking_cancel(booking=hold(), by="client")
    assert booking.status == BookingStatus.CANCELLED and booking.deposit_refunded_amount == 0


def test_bookings_go_with_their_workspace_but_keep_their_offer(hold, pay, offer, workspace):
    from django.db.models import RestrictedError

    booking = pay(hold())
    with pytest.raises(RestrictedError):
        offer.delete()
    workspace.delete()  # a tenant's deletion takes its bookings with it
    assert not type(booking).objects.filter(pk=booking.pk).exists()


def test_cancel_voids_an_open_balance_invoice(hold, pay, offer_factory):
    offer = offer_factory(name_id="Lunas dulu", balance_due="before")
    booking = pay(hold(offer=offer, start=FRI_9))
    assert booking.balance_invoice.status == "open"
    booking = booking_cancel(booking=booking, by="staff")
    booking.balance_invoice.refresh_from_db()
    assert booking.balance_invoice.status == "void"
