"""The sandbox's misbehaving notifications, sent over HTTP to jasa's real endpoint (live server), change
nothing twice and nothing backwards: duplicates and out-of-order events end in one capture, forged ones in none,
delayed ones arriving after the payment was synced change nothing, and a delayed one alone still completes it."""

from __future__ import annotations

import datetime as dt

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


DELAY = dt.timedelta(seconds=120)


@pytest.fixture
def invoice_paid_signals():
    """The payments that domain code (bookings, projects) was told about: it must hear of each once."""
    from jasa.payments.signals import invoice_paid

    heard: list[str] = []

    def receiver(sender, invoice, payment, **kwargs):
        heard.append(str(payment.pk))

    invoice_paid.connect(receiver, weak=False, dispatch_uid="tests.faults_end_to_end")
    yield heard
    invoice_paid.disconnect(dispatch_uid="tests.faults_end_to_end")


def _applied_once(payment_pk, heard: list[str]) -> None:
    """One capture and its fee in the ledger, one receipt, the invoice paid, one audit entry, one signal."""
    from jasa.core.models import AuditEntry
    from jasa.payments.models import LedgerEntry, PaymentIntent, Receipt

    payment = PaymentIntent.objects.get(pk=payment_pk)
    assert payment.status == Status.SUCCEEDED
    kinds = sorted(LedgerEntry.objects.filter(payment=payment).values_list("kind", flat=True))
    assert kinds == ["captured", "gateway_fee"]
    assert Receipt.objects.filter(payment=payment).count() == 1
    assert payment.invoice.status == "paid"
    assert AuditEntry.objects.filter(action="payment.succeeded", object_id=str(payment.pk)).count() == 1
    assert heard == [str(payment.pk)]


def _deliveries(payment) -> list:
    from jasa.sandbox.models import SandboxWebhook

    return list(SandboxWebhook.objects.filter(payment__reference=payment.reference).order_by("created_at"))


def test_delayed_notifications_after_the_status_page_synced_apply_nothing_twice(
        pay, live_server, frozen_clock, invoice_paid_signals):
    import requests
    from django.urls import reverse

    from jasa.core import clock, jobs
    from jasa.payments.models import WebhookEvent
    from jasa.payments.views_client import pay_token
    from jasa.sandbox.models import SandboxFaults, SandboxWebhook

    SandboxFaults.objects.create(merchant=pay.merchant, webhook_delay_seconds=int(DELAY.total_seconds()))
    payment = pay("va_bca")
    _simulate(payment)
    assert [d.status for d in _deliveries(payment)] == [SandboxWebhook.PENDING] * 2  # "pending", "paid": waiting
    assert not WebhookEvent.objects.exists()

    # the client's status page asks the gateway meanwhile (the status API is the truth) and shows the payment paid
    invoice = payment.invoice
    status_path = reverse("payments:pay_status", args=[invoice.pk, payment.pk])
    page = requests.get(f"{live_server.url}{status_path}?t={pay_token(invoice)}", timeout=10)
    assert page.status_code == 200 and 'data-status="succeeded"' in page.text
    _applied_once(payment.pk, invoice_paid_signals)

    # two minutes later the late notifications reach jasa's endpoint: stored and processed, nothing applied twice
    clock.advance(DELAY + dt.timedelta(seconds=1))
    jobs.sweep()
    deliveries = _deliveries(payment)
    assert {(d.status, d.response_status) for d in deliveries} == {(SandboxWebhook.SENT, 200)}
    events = WebhookEvent.objects.filter(gateway="sandbox")
    assert sorted(events.values_list("event_id", flat=True)) == sorted(d.event_id for d in deliveries)
    assert {(e.state, e.payment_id) for e in events} == {(WebhookEvent.PROCESSED, payment.pk)}
    _applied_once(payment.pk, invoice_paid_signals)


def test_a_delayed_notification_alone_completes_the_payment(pay, frozen_clock, invoice_paid_signals):
    from jasa.core import clock, jobs
    from jasa.payments.models import PaymentIntent, WebhookEvent
    from jasa.sandbox.models import SandboxFaults, SandboxPayment, SandboxWebhook
    from jasa.sandbox.services import payment_ewallet_decide

    SandboxFaults.objects.create(merchant=pay.merchant, webhook_delay_seconds=int(DELAY.total_seconds()))
    payment = pay("gopay")
    payment_ewallet_decide(SandboxPayment.objects.get(reference=payment.reference).pk, approve=True)
    # no status page open, no reconciliation run: only the notifications, which are not due yet
    clock.advance(DELAY - dt.timedelta(seconds=10))
    jobs.sweep()
    assert [d.status for d in _deliveries(payment)] == [SandboxWebhook.PENDING] * 2
    assert PaymentIntent.objects.get(pk=payment.pk).status == Status.REQUIRES_ACTION
    assert invoice_paid_signals == []

    clock.advance(dt.timedelta(seconds=11))
    jobs.sweep()
    assert {d.status for d in _deliveries(payment)} == {SandboxWebhook.SENT}
    paid_event = WebhookEvent.objects.get(gateway="sandbox", kind="payment.paid")
    assert paid_event.state == WebhookEvent.PROCESSED and paid_event.received_at == clock.now()
    _applied_once(payment.pk, invoice_paid_signals)
