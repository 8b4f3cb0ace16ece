"""The real adapters plugged into the payment core: start a payment, receive the gateway's webhook at
/webhooks/<gateway>, re-read the status from the (fake) gateway, and refund — end to end over HTTP."""

from __future__ import annotations

import json

import pytest

from jasa.core import clock
from jasa.core.money import Money
from jasa.payments.gateways.base import Status
from jasa.payments.models import WebhookEvent
from jasa.payments.services import payment_refund, payment_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(workspace):
    from jasa.payments.services_config import gateway_account_save

    def make(gateway: str, credentials: dict[str, str]):
        gateway_account_save(workspace=workspace, gateway=gateway, credentials=credentials, is_default=True)
        return workspace

    return make


def deliver(client, gateway: str, body: bytes, headers: dict[str, str] | None = None):
    return client.post(f"/webhooks/{gateway}", data=body, content_type="application/json", headers=headers or {})


def test_midtrans_va_paid_by_notification(account, invoice_factory, fake_midtrans, client,
                                          django_capture_on_commit_callbacks):
    ws = account("midtrans", {"server_key": fake_midtrans.server_key, "core_api_url": fake_midtrans.url,
                              "snap_url": f"{fake_midtrans.url}/snap/v1"})
    invoice = invoice_factory(ws, 500_000)
    payment = payment_start(invoice=invoice, idempotency_key="mt-1", gateway="midtrans", method="va_bca")
    assert payment.status == Status.REQUIRES_ACTION
    assert fake_midtrans.last("POST", "/v2/charge").json()["transaction_details"] == {
        "order_id": payment.reference, "gross_amount": 500_000}

    fake_midtrans.set_status(payment.reference, "settlement")
    forged = fake_midtrans.notification(payment.reference, server_key="not-the-key")
    assert deliver(client, "midtrans", json.dumps(forged).encode()).status_code == 400
    payment.refresh_from_db()
    assert payment.status == Status.REQUIRES_ACTION

    body = json.dumps(fake_midtrans.notification(payment.reference)).encode()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "midtrans", body).status_code == 200
    assert deliver(client, "midtrans", body).json()["duplicate"] is True
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == Status.SUCCEEDED
    assert invoice.status == "paid"
    assert WebhookEvent.objects.get().state == WebhookEvent.PROCESSED


def test_xendit_invoice_paid_by_callback(account, invoice_factory, fake_xendit, client,
                                         django_capture_on_commit_callbacks):
    ws = account("xendit", {"secret_key": fake_xendit.secret_key, "callback_token": fake_xendit.callback_token,
                            "api_base": fake_xendit.url})
    payment = payment_start(invoice=invoice_factory(ws, 250_000), idempotency_key="xn-1", gateway="xendit",
                            return_url="https://jasa.example/done")
    assert payment.status == Status.REQUIRES_ACTION
    fake_xendit.set_invoice(payment.gateway_reference, "PAID", paid_amount=250_000, payment_channel="BCA")
    body = fake_xendit.invoice_callback(payment.gateway_reference)
    assert deliver(client, "xendit", body, {"x-callback-token": "wrong"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "xendit", body, {"x-callback-token": fake_xendit.callback_token}).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED


def test_stripe_checkout_paid_then_refunded(account, invoice_factory, fake_stripe, client, frozen_clock,
                                            django_capture_on_commit_callbacks):
    ws = account("stripe", {"secret_key": fake_stripe.secret_key, "webhook_secret": fake_stripe.webhook_secret,
                            "api_base": fake_stripe.url})
    payment = payment_start(invoice=invoice_factory(ws, 300_000), idempotency_key="st-1", gateway="stripe",
                            return_url="https://jasa.example/done")
    assert payment.gateway_reference.startswith("cs_")
    form = {k: v[-1] for k, v in fake_stripe.last("POST", "/v1/checkout/sessions").form().items()}
    assert form["line_items[0][price_data][unit_amount]"] == "30000000"  # Rp 300.000 in Stripe's hundredths

    intent = fake_stripe.pay_session(payment.gateway_reference)
    body = fake_stripe.event("payment_intent.succeeded", intent)
    stale = {"Stripe-Signature": fake_stripe.signature(body, int(clock.now().timestamp()) - 600)}
    assert deliver(client, "stripe", body, stale).status_code == 400
    fresh = {"Stripe-Signature": fake_stripe.signature(body, int(clock.now().timestamp()))}
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "stripe", body, fresh).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED

    payment_refund(payment=payment, amount=Money(100_000), reason="Klien membatalkan sebagian")
    refund_call = fake_stripe.last("POST", "/v1/refunds")
    assert {k: v[-1] for k, v in refund_call.form().items()}["amount"] == "10000000"
    assert refund_call.headers["idempotency-key"].startswith("refund-")
    payment.refresh_from_db()
    assert payment.status == Status.PARTIALLY_REFUNDED
