"""The ledger kinds as the real adapters report them: Midtrans through its local fake and jasa's webhook endpoint
(capture -> settlement, authorize, a VA settled at once), and what Stripe and Xendit say about holds and
settlement. The core's side of it: tests/payments/test_ledger_kinds.py."""

from __future__ import annotations

import json

import pytest

from jasa.core import clock
from jasa.core.money import Money
from jasa.payments.gateways.base import Method, Status
from jasa.payments.models import InvoiceStatus, PaymentIntent, SavedPaymentMethod
from jasa.payments.services import ledger_verify, payment_charge_saved, payment_start, payment_sync
from tests.payments.test_ledger_kinds import kinds, totals

pytestmark = pytest.mark.django_db


# --- Midtrans through its local fake and jasa's webhook endpoint -------------------------------------------


@pytest.fixture
def midtrans_ws(workspace, fake_midtrans):
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=workspace, gateway="midtrans", is_default=True, credentials={
        "server_key": fake_midtrans.server_key, "core_api_url": fake_midtrans.url,
        "snap_url": f"{fake_midtrans.url}/snap/v1"})
    return workspace


@pytest.fixture
def notify(client, fake_midtrans, django_capture_on_commit_callbacks):
    """Deliver a Midtrans HTTP notification (signed as Midtrans signs it) to /webhooks/midtrans."""

    def deliver(body: bytes) -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post("/webhooks/midtrans", data=body, content_type="application/json")
        assert answer.status_code == 200
        return answer.json()

    return deliver


def _card_payment(midtrans_ws, invoice_factory, amount: int) -> PaymentIntent:
    """A saved card charged off-session that waits (the fake's tok-3ds), so each later status is Midtrans'."""
    invoice = invoice_factory(midtrans_ws, amount)
    saved = SavedPaymentMethod.objects.create(workspace=midtrans_ws, client=invoice.client, gateway="midtrans",
                                              token="tok-3ds", method="card", consent_at=clock.now())
    payment = payment_charge_saved(invoice=invoice, saved_method=saved, idempotency_key=f"mt-card-{amount}")
    assert payment.status == Status.REQUIRES_ACTION
    return payment


def test_midtrans_card_capture_then_settlement(midtrans_ws, invoice_factory, fake_midtrans, notify):
    payment = _card_payment(midtrans_ws, invoice_factory, 500_000)
    fake_midtrans.set_status(payment.reference, "capture", "accept")
    notify(json.dumps(fake_midtrans.notification(payment.reference)).encode())
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED
    assert kinds(payment) == {"captured": [500_000], "gateway_fee": [16_500]}  # card 2.9 % + Rp 2.000
    assert payment.fee_amount == 16_500
    captured = totals(payment.invoice)
    assert payment.invoice.status == InvoiceStatus.PAID and captured["paid"] == Money(500_000)

    fake_midtrans.set_status(payment.reference, "settlement")  # the next day
    settlement = json.dumps(fake_midtrans.notification(payment.reference)).encode()
    assert notify(settlement)["duplicate"] is False
    assert notify(settlement)["duplicate"] is True  # Midtrans repeats until it hears 200
    payment_sync(payment.pk)
    assert kinds(payment) == {"captured": [500_000], "gateway_fee": [16_500], "settled": [500_000]}
    assert totals(payment.invoice) == captured  # paid, fees and balance are what they were
    ledger_verify(payment.invoice)


def test_midtrans_card_authorize_then_settlement_before_the_capture_notification(
        midtrans_ws, invoice_factory, fake_midtrans, notify):
    payment = _card_payment(midtrans_ws, invoice_factory, 200_000)
    fake_midtrans.set_status(payment.reference, "authorize", "accept")  # pre-authorised: held, not captured
    notify(json.dumps(fake_midtrans.notification(payment.reference)).encode())
    payment.refresh_from_db()
    assert payment.status == Status.PROCESSING
    assert kinds(payment) == {"authorized": [200_000]}
    assert totals(payment.invoice)["paid"] == Money(0) and payment.invoice.status == InvoiceStatus.OPEN

    fake_midtrans.set_status(payment.reference, "capture", "accept")
    late_capture = json.dumps(fake_midtrans.notification(payment.reference)).encode()  # delayed in transit
    fake_midtrans.set_status(payment.reference, "settlement")
    notify(json.dumps(fake_midtrans.notification(payment.reference)).encode())
    notify(late_capture)  # arrives last; its re-read says settlement: nothing new
    assert kinds(payment) == {"authorized": [200_000], "captured": [200_000], "gateway_fee": [7_800],
                              "settled": [200_000]}
    amounts = totals(payment.invoice)
    assert payment.invoice.status == InvoiceStatus.PAID
    assert (amounts["captured"], amounts["paid"], amounts["balance"]) == (Money(200_000), Money(200_000), Money(0))
    ledger_verify(payment.invoice)


def test_midtrans_va_settlement_is_captured_and_settled_at_once(midtrans_ws, invoice_factory, fake_midtrans, notify):
    payment = payment_start(invoice=invoice_factory(midtrans_ws, 350_000), idempotency_key="mt-va",
                            method="va_bni")
    fake_midtrans.set_status(payment.reference, "settlement")
    notify(json.dumps(fake_midtrans.notification(payment.reference)).encode())
    assert kinds(payment) == {"captured": [350_000], "gateway_fee": [4_000], "settled": [350_000]}
    assert totals(payment.invoice)["paid"] == Money(350_000)
    ledger_verify(payment.invoice)


def test_midtrans_refund_and_chargeback_statuses_imply_settlement():
    from jasa.payments.gateways.midtrans import AUTHORIZED_STATUSES, SETTLED_STATUSES, STATUS_TABLE

    known = {tx for tx, _, _ in STATUS_TABLE}
    assert AUTHORIZED_STATUSES <= known and SETTLED_STATUSES <= known
    # Midtrans' status cycle: settlement leads only to these, and capture is not yet settled
    assert SETTLED_STATUSES == {"settlement", "refund", "partial_refund", "chargeback", "partial_chargeback"}
    assert "capture" not in SETTLED_STATUSES and "pending" not in SETTLED_STATUSES


# --- what Stripe and Xendit report ---------------------------------------------------------------------------


def test_stripe_requires_capture_is_an_authorization(stripe_gw, fake_stripe, make_request):
    request = make_request(Method.CARD)
    intent = stripe_gw.charge_saved(request, "cus_123/pm_card_visa")
    fake_stripe.set_intent(intent.gateway_reference, status="requires_capture", amount_received=0)
    held = stripe_gw.get_status(request.reference, gateway_reference=intent.gateway_reference)
    assert held.status is Status.PROCESSING and held.authorized and not held.settled
    fake_stripe.set_intent(intent.gateway_reference, status="succeeded", amount_received=intent.raw["amount"])
    captured = stripe_gw.get_status(request.reference, gateway_reference=intent.gateway_reference)
    assert captured.status is Status.SUCCEEDED and not captured.authorized


def test_xendit_settled_invoice_and_awaiting_capture(xendit, fake_xendit, make_request):
    request = make_request()
    invoice_id = xendit.create_checkout(request).gateway_reference
    fake_xendit.set_invoice(invoice_id, "PAID", paid_amount=150_000, payment_channel="BCA")
    paid = xendit.get_status(request.reference, gateway_reference=invoice_id)
    assert paid.status is Status.SUCCEEDED and not paid.settled
    fake_xendit.set_invoice(invoice_id, "SETTLED")
    assert xendit.get_status(request.reference, gateway_reference=invoice_id).settled

    card = make_request(Method.DANA)
    pid = xendit.create_direct(card).gateway_reference
    fake_xendit.set_payment_request(pid, "AWAITING_CAPTURE")
    held = xendit.get_status(card.reference, gateway_reference=pid)
    assert held.status is Status.PROCESSING and held.authorized
