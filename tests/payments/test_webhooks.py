"""Webhooks: verified first, stored once, answered fast; forged/malformed change nothing;
duplicated, reordered and lost deliveries against a lagging status API never apply anything twice nor
backwards (property test, with tests/payments/lagging.py)."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from jasa.core import clock
from jasa.payments.gateways.base import Status
from jasa.payments.models import LedgerEntry, WebhookEvent, can_transition
from jasa.payments.services import ledger_verify, payment_start, webhook_receive
from tests.payments.lagging import TIMELINES, Lagging, LaggingSandbox, LaggingTestpay, Recorder, Run

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


def test_a_claim_the_status_api_does_not_show_yet_is_asked_again(ws, invoice_factory, fakegw, frozen_clock, client,
                                                                  django_capture_on_commit_callbacks):
    """A chargeback announced while the gateway's status API still says "succeeded": nothing is applied
    from the claim, the event stays received (staff see why, in their language), and reconciliation applies
    it once the API shows it."""
    from jasa.accounts.models import Membership
    from jasa.payments.services import payments_reconcile

    payment = payment_start(invoice=invoice_factory(ws, 400_000), idempotency_key="lag")
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_receive("testpay", *fakegw.webhook("evt-cb", payment.reference, status="disputed"))
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.RECEIVED and event.attempts == 1
    assert "disputed" in event.error and "succeeded" in event.error
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED  # what the status API said, and no more
    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    for language, says in [("en", "status API did not show what this notification announced yet"),
                           ("id", "belum menunjukkan apa yang dikabarkan notifikasi ini")]:
        page = client.get(f"/dashboard/{ws.slug}/payments/webhooks/", headers={"Accept-Language": language})
        assert page.status_code == 200 and says in page.content.decode(), language

    fakegw.set_status(payment.reference, Status.DISPUTED)  # the status API caught up
    clock.advance(dt.timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert payments_reconcile()["webhooks"] == 1
    event.refresh_from_db()
    payment.refresh_from_db()
    assert (event.state, event.error, event.attempts) == (WebhookEvent.PROCESSED, "", 2)
    assert payment.status == Status.DISPUTED
    assert list(LedgerEntry.objects.filter(payment=payment, kind="chargeback").values_list("amount", flat=True)) == [
        400_000]


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


# --- property: a lagging status API, messy deliveries and reconciliation end where the clean run ends -------


@st.composite
def _plans(draw):
    gateway, timeline = draw(st.sampled_from([(g, name) for g in sorted(TIMELINES) for name in sorted(TIMELINES[g])]))
    action = st.one_of(
        st.tuples(st.just("deliver"), st.integers(0, 20)),
        st.tuples(st.just("task_lost"), st.integers(0, 20)),  # stored, but the queue lost its task
        st.tuples(st.just("reconcile"), st.just(0)),
    )
    # after the payment starts and after each gateway-side step: what reaches jasa (nothing: all lost)
    actions = draw(st.lists(st.lists(action, max_size=4), min_size=len(TIMELINES[gateway][timeline][1]) + 1,
                            max_size=len(TIMELINES[gateway][timeline][1]) + 1))
    # at most 8 lagging reads: an event behind the status API is asked again by each reconciliation run,
    # which gives up after 10 attempts (payments_reconcile), so a longer lag is not a promise jasa makes
    lags = draw(st.lists(st.integers(0, 3), max_size=8))
    return gateway, timeline, actions, lags, draw(st.randoms(use_true_random=False))


@pytest.fixture
def lagging_gateways(fakegw, monkeypatch):
    """Both gateways of the property test with a lagging status API; the sandbox's notifications are
    kept for the test to deliver (the test is the network) and receipts are not emailed (not under test)."""
    from jasa.payments import services
    from jasa.payments.gateways import base
    from jasa.payments.gateways.sandbox import SandboxGateway
    from jasa.sandbox import webhooks

    monkeypatch.setattr(services, "_enqueue_receipt_email", lambda receipt_id: None)
    monkeypatch.setattr(webhooks, "_enqueue", lambda ids: None)
    base.register(LaggingTestpay)
    base.register(LaggingSandbox)
    yield
    base.register(SandboxGateway)


@settings(max_examples=60, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=_plans())
# found by this test before webhook_process kept an event whose claim the re-read did not show: the
# chargeback's only notification re-read a lagging "partially refunded", and the chargeback was lost
@example(plan=("testpay", "chargeback", [[("deliver", 0), ("deliver", 0)], [("deliver", 5)], [], []], [0, 0, 2, 2],
               random.Random(0)))
# a refund made in the gateway's dashboard, announced once, re-read while the status API still lags
@example(plan=("testpay", "refunded_at_gateway", [[], [], [("deliver", 1)], [("reconcile", 0)], []], [0, 0, 1, 3],
               random.Random(0)))
def test_any_duplicated_reordered_delivery_matches_the_clean_one(
    ws, invoice_factory, lagging_gateways, django_capture_on_commit_callbacks, plan
):
    """Whatever the network and a lagging status API do, jasa ends where in-order delivery to a consistent
    gateway ends: same payment and invoice status, ledger (kinds, amounts, count), receipts, refunds and
    signals; and no status ever moved backwards (tests/payments/lagging.py describes the model)."""
    from django.db import transaction

    from jasa.payments.services_config import gateway_account_save
    from jasa.sandbox.services import merchant_for_workspace

    gateway, timeline, actions, lags, rng = plan
    clock.freeze(dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC))
    with transaction.atomic(), Recorder().connected() as recorder:  # each example rolls back
        gateway_account_save(workspace=ws, gateway="sandbox", credentials=merchant_for_workspace(ws).credentials)

        def run(key):
            return Run(gateway=gateway, timeline=timeline, key=key, ws=ws, invoice_factory=invoice_factory,
                       capture=django_capture_on_commit_callbacks, recorder=recorder)

        Lagging.reset([])
        clean = run("clean")
        clean.play_in_order()
        Lagging.reset(lags)
        messy = run("messy")
        messy.play(actions, rng)

        for done in (clean, messy):
            ledger_verify(done.invoice)
        expected, got = clean.outcome(), messy.outcome()
        assert expected["events_left"] == [] and got["events_left"] == []
        for name in ("payment", "invoice", "ledger", "ledger_totals", "receipts", "refunds", "signals",
                     "settled_path"):
            assert got[name] == expected[name], (name, got[name], expected[name], plan)
        for old, new in got["transitions"]:
            assert can_transition(old, new), (old, new)
        visited = iter(new for _old, new in expected["transitions"])
        assert all(new in visited for _old, new in got["transitions"]), (got["transitions"], expected["transitions"])
        asked_again = WebhookEvent.objects.filter(payment=messy.payment, attempts__gt=1).count()
        event(f"{gateway}: {timeline}")
        event(f"lagging reads: {sum(1 for lag in Lagging.reads if lag)}; events asked again: {asked_again}")
        transaction.set_rollback(True)
