"""The sandbox's misbehaving notifications, sent over HTTP to jasa's real endpoint (live server), change
nothing twice and nothing backwards: duplicates and out-of-order events end in one capture, forged ones in none."""

from __future__ import annotations

import pytest

from jasa.core.money import Money
from jasa.payments.gateways.base import Status


@pytest.fixture
def pay(transactional_db, live_server, settings, workspace):
    from jasa.accounts.models import Client
    from jasa.payments.services import invoice_create, invoice_issue, payment_start
    from jasa.payments.services_config import gateway_account_save
    from jasa.sandbox.services import merchant_for_workspace

    settings.SITE_URL = live_server.url
    merchant = merchant_for_workspace(workspace)
    gateway_account_save(workspace=workspace, gateway="sandbox", is_default=True, credentials=merchant.credentials)
    buyer = Client.objects.create(workspace=workspace, name="Budi", email="budi@example.test")

    def start(method="va_bca"):
        invoice = invoice_issue(invoice_create(workspace=workspace, client=buyer, lines=[
            {"kind": "service", "description": "Konsultasi", "amount": Money(300_000)}]))
        return payment_start(invoice=invoice, idempotency_key=f"k-{invoice.pk}", method=method)

    start.merchant = merchant
    return start


def _simulate(payment):
    from jasa.sandbox.models import SandboxPayment
    from jasa.sandbox.services import payment_simulate

    payment_simulate(SandboxPayment.objects.get(reference=payment.reference).pk)


def test_duplicated_and_reordered_notifications_capture_once(pay):
    from jasa.payments.models import LedgerEntry, PaymentIntent, Receipt, WebhookEvent
    from jasa.sandbox.models import SandboxFaults, SandboxWebhook

    SandboxFaults.objects.create(merchant=pay.merchant, webhook_duplicate=True, webhook_out_of_order=True)
    payment = pay()
    assert SandboxWebhook.objects.filter(status=SandboxWebhook.HELD).count() == 2  # "pending" waits
    _simulate(payment)
    deliveries = SandboxWebhook.objects.order_by("sent_at")
    assert [d.event_type for d in deliveries] == ["payment.paid"] * 2 + ["payment.pending"] * 2
    assert {d.status for d in deliveries} == {SandboxWebhook.SENT}
    assert WebhookEvent.objects.filter(gateway="sandbox").count() == 2  # stored once per event id
    payment = PaymentIntent.objects.get(pk=payment.pk)
    assert payment.status == Status.SUCCEEDED  # the late "pending" did not move it back
    assert LedgerEntry.objects.filter(payment=payment, kind="captured").count() == 1
    assert Receipt.objects.filter(payment=payment).count() == 1


def test_forged_notifications_are_refused_and_change_nothing(pay):
    from jasa.payments.models import PaymentIntent, WebhookEvent
    from jasa.payments.services import payment_sync
    from jasa.sandbox.models import SandboxFaults, SandboxWebhook

    SandboxFaults.objects.create(merchant=pay.merchant, webhook_forged=True)
    payment = pay("qris")
    _simulate(payment)
    assert set(SandboxWebhook.objects.values_list("response_status", flat=True)) == {400}
    assert not WebhookEvent.objects.exists()
    assert PaymentIntent.objects.get(pk=payment.pk).status == Status.REQUIRES_ACTION
    # the status API is the truth: asking the gateway finds the payment paid
    assert payment_sync(payment.pk).status == Status.SUCCEEDED


def test_lost_notifications_are_made_good_by_reconciliation(pay, frozen_clock):
    import datetime as dt

    from jasa.core import clock
    from jasa.payments.models import PaymentIntent
    from jasa.payments.services import payments_reconcile
    from jasa.sandbox.models import SandboxFaults

    SandboxFaults.objects.create(merchant=pay.merchant, webhook_lost=True)
    payment = pay("va_bni")
    _simulate(payment)
    assert PaymentIntent.objects.get(pk=payment.pk).status == Status.REQUIRES_ACTION
    clock.advance(dt.timedelta(hours=2))
    payments_reconcile()
    assert PaymentIntent.objects.get(pk=payment.pk).status == Status.SUCCEEDED
