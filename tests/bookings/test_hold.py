"""Holding a slot: the hold, its deposit invoice and payment, conflicts, and expiry that frees the slot."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.bookings.models import Booking, BookingStatus
from jasa.core import audit, clock
from jasa.core.errors import Conflict, ValidationError
from jasa.core.money import Money
from jasa.payments.gateways.base import Method, Status
from tests.bookings.conftest import THU_9, THU_10

pytestmark = pytest.mark.django_db


def test_hold_blocks_slot_and_starts_deposit_payment(hold, offer, now):
    booking = hold()
    assert booking.status == BookingStatus.AWAITING_DEPOSIT
    assert booking.start_at == THU_9 and booking.end_at == THU_9 + dt.timedelta(hours=1)
    assert booking.hold_expires_at == now + dt.timedelta(minutes=15)
    assert booking.deposit == Money(100_000) and booking.balance == Money(400_000)
    invoice = booking.deposit_invoice
    assert invoice.status == "open" and invoice.total == Money(100_000)
    assert invoice.source == f"booking:{booking.pk}:deposit"
    assert booking.checkout_url.startswith("https://pay.example.test/")
    assert booking.client.phone == "+6281234567890"
    assert booking.client.user.email == booking.client.email
    assert audit.for_object(booking).filter(action="booking.held").exists()


def test_same_slot_twice_is_a_conflict_but_other_slots_are_free(hold):
    hold()
    with pytest.raises(Conflict) as exc:
        hold()
    assert exc.value.code == "slot_taken"
    assert hold(start=THU_10).status == BookingStatus.AWAITING_DEPOSIT
    assert Booking.objects.filter(status=BookingStatus.AWAITING_DEPOSIT).count() == 2


def test_time_outside_working_hours_or_without_offset_is_refused(hold):
    with pytest.raises(Conflict):
        hold(start=THU_9.replace(hour=20))
    with pytest.raises(ValidationError):
        hold(start=THU_9.replace(tzinfo=None))
    with pytest.raises(ValidationError) as exc:
        hold(client_phone="12")
    assert exc.value.field == "client.phone"


def test_required_answer_missing_is_a_field_error(hold, offer_factory):
    offer = offer_factory(name_id="Audit", questions=[{"key": "topic", "label_id": "Topik", "required": True}])
    with pytest.raises(ValidationError) as exc:
        hold(offer=offer)
    assert exc.value.field == "answers.topic"
    assert hold(offer=offer, answers={"topic": "SEO", "other": "ignored"}).answers == {"topic": "SEO"}


def test_expired_hold_frees_the_slot_through_the_sweep(hold, run_due):
    first = hold()
    clock.advance(dt.timedelta(minutes=16))
    assert run_due() >= 1
    first.refresh_from_db()
    assert first.status == BookingStatus.EXPIRED and first.end_reason == "hold lapsed"
    assert hold().status == BookingStatus.AWAITING_DEPOSIT


def test_lapsed_hold_is_expired_lazily_by_the_next_hold(hold):
    first = hold()
    clock.advance(dt.timedelta(minutes=15))
    second = hold()  # no sweep ran: the hold transaction expires the lapsed one first
    first.refresh_from_db()
    assert first.status == BookingStatus.EXPIRED
    assert second.status == BookingStatus.AWAITING_DEPOSIT


def test_pending_va_payment_keeps_the_hold_until_it_expires(hold, gateway, run_due, django_capture_on_commit_callbacks):
    from jasa.payments.services import payment_sync

    booking = hold()
    payment = booking.deposit_invoice.payments.get()
    gateway.set_status(payment.reference, Status.PROCESSING, method=Method.VA_BCA)  # VA number shown, unpaid
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(payment.pk)
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert booking.hold_expires_at == payment.expires_at > clock.now() + dt.timedelta(hours=1)
    clock.advance(dt.timedelta(minutes=30))
    run_due()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_DEPOSIT
    with pytest.raises(Conflict):
        hold()


def test_failed_payment_releases_the_hold(hold, pay):
    booking = pay(hold(), status=Status.FAILED)
    assert booking.status == BookingStatus.EXPIRED
    assert hold().status == BookingStatus.AWAITING_DEPOSIT


def test_payment_that_cannot_start_releases_the_hold(hold, gateway):
    from jasa.bookings.services import GatewayUnavailable
    from jasa.payments.gateways.base import GatewayError

    gateway.fail_next.append(GatewayError("timeout"))
    with pytest.raises(GatewayUnavailable) as exc:
        hold()
    assert exc.value.status == 503
    assert Booking.objects.get().status == BookingStatus.EXPIRED
    assert hold().status == BookingStatus.AWAITING_DEPOSIT  # the client's retry gets the slot


def test_payment_the_gateway_refuses_at_once_is_not_reported_as_a_hold(hold, gateway):
    """A gateway that refuses the deposit payment outright (bad credentials, declined) must not leave the
    client believing the slot is held: the hold is released and the caller gets a clear 503."""
    from jasa.bookings.services import GatewayUnavailable
    from jasa.payments.gateways.base import GatewayDeclined

    gateway.fail_next.append(GatewayDeclined("merchant credentials do not match", code="unauthorized"))
    with pytest.raises(GatewayUnavailable):
        hold()
    assert Booking.objects.get().status == BookingStatus.EXPIRED
    assert hold().status == BookingStatus.AWAITING_DEPOSIT


def test_guest_gets_an_account_reachable_by_login_code(hold, client, mailoutbox):
    booking = hold(client_email="tamu@example.test")
    user = booking.client.user
    assert user.email == "tamu@example.test" and not user.has_usable_password()
    resp = client.post("/accounts/login/code/", {"email": "tamu@example.test"})
    assert resp.status_code == 302
    assert [m.to for m in mailoutbox] == [["tamu@example.test"]]  # the login code goes to the guest's inbox


def test_hold_expiry_waits_for_a_va_chosen_on_the_hosted_page(hold, gateway, run_due,
                                                               django_capture_on_commit_callbacks):
    """The client picked a VA on the hosted page but the status did not move: the expiry job itself
    sees the pending VA payment and keeps the hold until that payment expires."""
    from jasa.payments.services import payment_sync

    booking = hold()
    payment = booking.deposit_invoice.payments.get()
    gateway.set_status(payment.reference, Status.REQUIRES_ACTION, method=Method.VA_BCA)
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(payment.pk)
    payment.refresh_from_db()
    assert payment.method == "va_bca"
    clock.advance(dt.timedelta(minutes=16))
    run_due()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_DEPOSIT and booking.hold_expires_at == payment.expires_at
