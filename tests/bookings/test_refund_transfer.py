"""A deposit paid by VA cannot be refunded through the gateway: the client gives a bank account on the
manage page, staff record the transfer from the booking, the client sees the deposit refunded."""

from __future__ import annotations

import pytest

from jasa.bookings.links import manage_path
from jasa.bookings.models import BookingStatus
from jasa.bookings.services import booking_cancel, booking_refund_account
from jasa.core.errors import Conflict
from jasa.core.money import Money
from jasa.payments.gateways.base import Method, Status
from jasa.payments.models import Refund, RefundChannel, RefundStatus
from jasa.payments.services import ledger_verify, refund_record_manual
from tests.bookings.conftest import FRI_9

pytestmark = pytest.mark.django_db


@pytest.fixture
def cancelled_va(hold, pay):
    booking = pay(hold(start=FRI_9), method=Method.VA_BCA)
    return booking_cancel(booking=booking, by="client")


def test_cancel_makes_an_owed_refund_in_the_payment_core(cancelled_va, hold, pay):
    [owed] = Refund.objects.all()
    assert owed.channel == RefundChannel.BANK_TRANSFER and owed.status == RefundStatus.PENDING
    assert owed.amount == Money(100_000) and cancelled_va.refund_owed_amount == 100_000
    # a card deposit is refunded by the gateway; nothing is owed
    card = booking_cancel(booking=pay(hold()), by="staff")
    assert card.deposit_refunded_amount == 100_000 and card.refund_owed_amount == 0
    assert Refund.objects.filter(channel=RefundChannel.BANK_TRANSFER).count() == 1


def test_recorded_transfer_moves_owed_to_refunded(cancelled_va, django_capture_on_commit_callbacks):
    booking_refund_account(booking=cancelled_va, bank_name="BCA", account_number="1234567890",
                           account_holder="Sari Dewi")
    [owed] = Refund.objects.all()
    payment = owed.payment
    for _ in range(2):  # a double submit records once
        with django_capture_on_commit_callbacks(execute=True):
            refund_record_manual(payment=payment, amount=owed.amount, reason=owed.reason,
                                 transfer_reference="TRF-1", refund_key=owed.refund_key)
    cancelled_va.refresh_from_db()
    assert cancelled_va.deposit_refunded_amount == 100_000 and cancelled_va.refund_owed_amount == 0
    payment.refresh_from_db()
    assert payment.status == Status.REFUNDED
    ledger_verify(payment.invoice)
    with pytest.raises(Conflict):
        booking_refund_account(booking=cancelled_va, bank_name="BCA", account_number="1234567890",
                               account_holder="Sari Dewi")


def test_pages_client_account_staff_record_client_sees_refunded(client, cancelled_va, workspace, smtp_server,
                                                                django_capture_on_commit_callbacks):
    page = client.get(manage_path(cancelled_va)).content.decode()
    assert 'id="refund-account-form"' in page
    bad = client.post(manage_path(cancelled_va, "bookings:refund_account"),
                      {"bank_name": "BCA", "account_number": "12ab", "account_holder": "Sari"}, follow=True)
    assert 'id="refund-account-form"' in bad.content.decode()
    assert Refund.objects.get().account_number == ""
    client.post(manage_path(cancelled_va, "bookings:refund_account"),
                {"bank_name": "BCA", "account_number": "123 456 7890", "account_holder": "Sari Dewi"})
    page = client.get(manage_path(cancelled_va)).content.decode()
    assert 'id="refund-account-form"' not in page and "****7890" in page

    client.force_login(workspace.memberships.get(role="owner").user)
    detail_url = f"/dashboard/{workspace.slug}/bookings/{cancelled_va.pk}/"
    detail = client.get(detail_url).content.decode()
    assert "1234567890" in detail and "Sari Dewi" in detail and 'value="100000"' in detail
    owed = Refund.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/dashboard/{workspace.slug}/payments/{owed.payment_id}/refund-transfer/", {
            "amount": "100000", "transfer_reference": "BCA-2026-1", "reason": owed.reason,
            "refund_key": owed.refund_key, "next": detail_url,
        })
    assert resp.status_code == 302 and resp["Location"] == detail_url
    assert "refund-transfer-form" not in client.get(detail_url).content.decode()
    client.logout()
    page = client.get(manage_path(cancelled_va)).content.decode()
    assert 'class="refund-note refund-done" data-refunded="100000"' in page and "refund-owed" not in page
    assert cancelled_va.status == BookingStatus.CANCELLED
    [mail] = smtp_server.wait_for(cancelled_va.client.email)
    assert "BCA-2026-1" in mail.get_body(("plain",)).get_content()


def test_staff_without_refund_capability_sees_no_form(client, cancelled_va, workspace, member_factory):
    # the booking's own staff member manages it but may not move money
    client.force_login(cancelled_va.staff.user)
    detail = client.get(f"/dashboard/{workspace.slug}/bookings/{cancelled_va.pk}/").content.decode()
    assert "refund-transfer-form" not in detail
