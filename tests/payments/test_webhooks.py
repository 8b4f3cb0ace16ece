"""Webhooks: verified first, stored once, answered fast; forged/malformed change nothing;
duplicates and reordering never apply anything twice (property test)."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jasa.core.money import Money
from jasa.payments.gateways.base import Status
from jasa.payments.models import LedgerEntry, WebhookEvent
from jasa.payments.services import ledger_verify, payment_start, webhook_receive

pytestmark = pytest.mark.django_db
URL = "/webhooks/testpay"


def post(client, headers, body):
    return client.post(URL, data=body, content_type="application/json",
                       headers={k: v for k, v in headers.items() if k != "Content-Type"})


def test_valid_webhook_triggers_a_re_read(ws, invoice_factory, fakegw, client, django_capture_on_commit_callbacks):
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="w1")
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    headers, body = fakegw.webhook("evt-1", payment.reference, status="paid")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, headers, body)
    assert response.status_code == 200 and response.json() == {"ok": True, "duplicate": False}
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.PROCESSED and event.payment_id == payment.pk
    assert event.workspace_id == ws.pk


def test_duplicate_is_200_and_stored_once(ws, invoice_factory, fakegw, client):
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="w2")
    headers, body = fakegw.webhook("evt-dup", payment.reference)
    assert post(client, headers, body).json()["duplicate"] is False
    again = post(client, headers, body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1


def test_claims_are_not_trusted(ws, invoice_factory, fakegw, client, django_capture_on_commit_callbacks):
    """A correctly signed event claiming "paid" changes nothing while the gateway says otherwise."""
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="w3")
    headers, body = fakegw.webhook("evt-claim", payment.reference, status="paid")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, headers, body)
    payment.refresh_from_db()
    assert payment.status == Status.REQUIRES_ACTION
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("tamper", ["forged", "unsigned", "malformed", "no-id"])
def test_forged_or_malformed_is_4xx_and_changes_nothing(ws, invoice_factory, fakegw, client, tamper):
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="w4")
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    headers, body = fakegw.webhook("evt-x", payment.reference)
    if tamper == "forged":
        body = body.replace(b"paid", b"PAID")
    elif tamper == "unsigned":
        headers = {}
    elif tamper == "malformed":
        body = b"{not json"
        headers = {"X-Testpay-Signature": fakegw.sign(body)}
    elif tamper == "no-id":
        body = json.dumps({"reference": payment.reference}).encode()
        headers = {"X-Testpay-Signature": fakegw.sign(body)}
    response = post(client, headers, body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == Status.REQUIRES_ACTION


def test_unknown_gateway_is_404_and_get_is_405(client, db):
    assert client.post("/webhooks/nonesuch", data=b"{}", content_type="application/json").status_code == 404
    assert client.get(URL).status_code == 405


def test_unknown_reference_is_stored_and_ignored(ws, fakegw, client, django_capture_on_commit_callbacks):
    headers, body = fakegw.webhook("evt-other", "not-a-payment")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, headers, body).status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEvent.IGNORED


def test_lost_queue_task_is_picked_up_by_reconciliation(ws, invoice_factory, fakegw, frozen_clock):
    import datetime as dt

    from jasa.core import clock
    from jasa.payments.services import payments_reconcile

    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="w5")
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    headers, body = fakegw.webhook("evt-lost", payment.reference)
    webhook_receive("testpay", headers, body)  # its on-commit task never ran (no commit in this test)
    clock.advance(dt.timedelta(minutes=2))
    assert payments_reconcile()["webhooks"] == 1
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED
    assert WebhookEvent.objects.get().state == WebhookEvent.PROCESSED


def test_a_batch_tries_every_event_then_reraises_a_gateway_failure(ws, invoice_factory, fakegw):
    """The webhook pump queues a few events per task: one failing status call must not stop the
    others, and must still fail the task so the queue retries it."""
    from jasa.payments.gateways.base import GatewayError
    from jasa.payments.services import GatewayUnavailable, webhook_process_many

    first = payment_start(invoice=invoice_factory(ws), idempotency_key="b1")
    second = payment_start(invoice=invoice_factory(ws), idempotency_key="b2")
    for payment in (first, second):
        fakegw.set_status(payment.reference, Status.SUCCEEDED)
    events = [webhook_receive("testpay", *fakegw.webhook(f"evt-b{i}", p.reference)).pk
              for i, p in enumerate((first, second))]
    fakegw.fail_next.append(GatewayError("status API down"))
    with pytest.raises(GatewayUnavailable):
        webhook_process_many(events)
    states = dict(WebhookEvent.objects.filter(pk__in=events).values_list("pk", "state"))
    assert states == {events[0]: WebhookEvent.FAILED, events[1]: WebhookEvent.PROCESSED}
    assert webhook_process_many(events) == [WebhookEvent.PROCESSED, WebhookEvent.PROCESSED]  # the retry
    second.refresh_from_db()
    assert second.status == Status.SUCCEEDED


# --- property: any delivery order with duplicates ends where the clean order ends ------------------

_RUNS = itertools.count()
TIMELINES = {
    "paid": [Status.REQUIRES_ACTION, Status.PROCESSING, Status.SUCCEEDED],
    "declined": [Status.REQUIRES_ACTION, Status.FAILED],
    "refunded": [Status.PROCESSING, Status.SUCCEEDED, (Status.PARTIALLY_REFUNDED, 250_000),
                 (Status.REFUNDED, 1_000_000)],
    "disputed": [Status.REQUIRES_ACTION, Status.SUCCEEDED, Status.DISPUTED],
    "expired": [Status.PROCESSING, Status.EXPIRED],
}


def _outcome(payment):
    payment.refresh_from_db()
    payment.invoice.refresh_from_db()
    ledger = dict(LedgerEntry.objects.filter(payment=payment).values_list("kind").annotate(s=Sum("amount"))
                  .order_by())
    return payment.status, payment.invoice.status, ledger, payment.invoice.receipts.count()


def _run(fakegw, ws, invoice_factory, capture, name, deliveries_per_step, key):
    """Drive the gateway through a timeline; after each step deliver the chosen events (indexes into the
    events emitted so far, possibly repeated); finally deliver every event not yet delivered."""
    timeline = TIMELINES[name]
    payment = payment_start(invoice=invoice_factory(ws, 1_000_000), idempotency_key=key)
    events: list[tuple[dict, bytes]] = []
    delivered: set[int] = set()
    counts: Counter = Counter()

    def deliver(i):
        headers, body = events[i]
        with capture(execute=True):
            webhook_receive("testpay", headers, body)
        delivered.add(i)
        counts[i] += 1

    for step, state in enumerate(timeline):
        status, refunded = state if isinstance(state, tuple) else (state, None)
        extra = {"refunded": Money(refunded)} if refunded else {}
        fakegw.set_status(payment.reference, status, **extra)
        events.append(fakegw.webhook(f"{key}-evt-{step}", payment.reference, status=str(status)))
        for pick in deliveries_per_step[step] if step < len(deliveries_per_step) else [step]:
            deliver(pick % (step + 1))
    for i in range(len(events)):
        if i not in delivered:
            deliver(i)
    ledger_verify(payment.invoice)
    return _outcome(payment)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(TIMELINES)),
    deliveries=st.lists(st.lists(st.integers(min_value=0, max_value=10), max_size=4), max_size=5),
    run_id=st.just(0),
)
def test_any_duplicated_reordered_delivery_matches_the_clean_one(
    ws, invoice_factory, fakegw, django_capture_on_commit_callbacks, name, deliveries, run_id
):
    run_id = next(_RUNS)
    # receipts are emailed after commit; their PDF is not under test here and costs time per example
    from jasa.payments import services

    services_enqueue = services._enqueue_receipt_email
    services._enqueue_receipt_email = lambda receipt_id: None
    try:
        _compare(ws, invoice_factory, fakegw, django_capture_on_commit_callbacks, name, deliveries, run_id)
    finally:
        services._enqueue_receipt_email = services_enqueue


def _compare(ws, invoice_factory, fakegw, django_capture_on_commit_callbacks, name, deliveries, run_id):
    clean = _run(fakegw, ws, invoice_factory, django_capture_on_commit_callbacks, name,
                 [[i] for i in range(len(TIMELINES[name]))], f"clean-{run_id}")
    messy = _run(fakegw, ws, invoice_factory, django_capture_on_commit_callbacks, name, deliveries,
                 f"messy-{run_id}")
    assert messy == clean


def test_account_in_url_verifies_with_that_account_only(ws, invoice_factory, fakegw, client):
    import uuid

    from jasa.payments.models import GatewayAccount

    account = GatewayAccount.objects.get(workspace=ws, gateway="testpay")
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="acct")
    headers, body = fakegw.webhook("evt-acct", payment.reference)
    h = {k: v for k, v in headers.items() if k != "Content-Type"}
    ok = client.post(f"/webhooks/testpay/{account.pk}", data=body, content_type="application/json", headers=h)
    assert ok.status_code == 200
    unknown = client.post(f"/webhooks/testpay/{uuid.uuid4()}", data=body, content_type="application/json", headers=h)
    assert unknown.status_code == 400
