"""Real processes on PostgreSQL: racing ones record one ledger entry per fact and take gap-free numbers; one
killed between the gateway's answer and jasa's commit leaves nothing that reconciliation and a retry with
the same Idempotency-Key do not repair, with one charge at the gateway."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from jasa.core import clock
from jasa.payments.gateways.base import Status
from jasa.payments.models import Invoice, LedgerEntry, LedgerKind, PaymentIntent, Receipt, WebhookEvent
from jasa.payments.services import ledger_verify, payment_start, payments_reconcile
from tests.core.procs import child_env, database_url_for_children
from tests.payments.gateways.fakes.midtrans import FakeMidtrans
from tests.payments.gateways.fakes.server import FakeGateway as FakeServer
from tests.payments.gateways.fakes.stripe import FakeStripe

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="process races need PostgreSQL"),
]


def _children(jobs: list[list[str]]) -> list[str]:
    s = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["DATABASE_URL"] = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env["JASA_TESTING"] = "1"
    start = str(time.time() + 3)  # everyone starts at once, after Django has loaded
    procs = [subprocess.Popen([sys.executable, "-m", "tests.payments.race_worker", job[0], start, *job[1:]],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for job in jobs]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        outputs.append(out)
    return outputs


def _confirmed_once(payment, invoice) -> None:
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == Status.SUCCEEDED
    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerKind.CAPTURED).count() == 1
    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerKind.GATEWAY_FEE).count() == 1
    assert Receipt.objects.filter(payment=payment).count() == 1
    assert invoice.status == "paid"
    ledger_verify(invoice)


def test_two_processes_confirm_the_same_payment_once(transactional_db, ws, invoice_factory, fakegw):
    invoice = invoice_factory(ws, 800_000)
    payment = payment_start(invoice=invoice, idempotency_key="race")
    assert payment.status == Status.REQUIRES_ACTION
    outputs = _children([["sync", str(payment.pk), "800000"] for _ in range(2)])
    assert [o.strip() for o in outputs] == ["succeeded", "succeeded"]
    _confirmed_once(payment, invoice)


def test_webhooks_and_reconciliation_at_once_confirm_once(transactional_db, ws, invoice_factory, fakegw):
    """Two processes receive the same notification (the gateway re-sent it), a third the gateway's other
    notification of the same payment, and a fourth runs reconciliation, all at the same moment."""
    invoice = invoice_factory(ws, 800_000)
    payment = payment_start(invoice=invoice, idempotency_key="race-webhooks")
    job = [str(payment.pk), "800000"]
    outputs = _children([["webhook", *job, "evt-paid"], ["webhook", *job, "evt-paid"],
                         ["webhook", *job, "evt-charge"], ["reconcile", *job]])
    assert sorted(o.strip() for o in outputs[:3]) == ["duplicate", "stored", "stored"]
    _confirmed_once(payment, invoice)
    events = WebhookEvent.objects.filter(payment=payment)
    assert sorted(events.values_list("event_id", "state")) == [("evt-charge", "processed"), ("evt-paid", "processed")]


def test_numbers_stay_gap_free_when_processes_issue_at_once(transactional_db, ws, invoice_factory):
    drafts = [str(invoice_factory(ws, 1000, issue=False).pk) for _ in range(12)]
    outputs = _children([["issue", *drafts[i::3]] for i in range(3)])
    numbers = sorted(n for out in outputs for n in out.split())
    year = numbers[0].split("/")[1]
    assert numbers == [f"INV/{year}/{i:06d}" for i in range(1, 13)]
    assert Invoice.objects.filter(number__isnull=False).count() == 12


# --- a real crash between the gateway's answer and jasa's commit --------------------------------------------


def _waited(what: str, ready: Callable[[], object], proc: subprocess.Popen | None = None, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the worker ended while waiting for {what}: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _pg(sql: str, *params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # activity is otherwise frozen for a transaction
        cursor.execute(sql, params)
        return cursor.fetchall()


def _lock_waiter() -> int | None:
    """The session of this database that waits for a lock held by this test's session."""
    rows = _pg("SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted "
               "AND a.datname = current_database() AND l.pid <> pg_backend_pid()")
    return rows[0][0] if rows else None


def _kill_while_applying(fake: FakeServer, token: str, path: str, key: str, body: dict,
                         hold: Callable[[], object]) -> set[str]:
    """POST ``body`` from a child process (tests/payments/crash_worker.py) and SIGKILL it between the
    gateway's answer and jasa's commit: the fake acts on the request and holds its answer; the test locks
    what applying the answer needs (``hold``), lets the answer go and waits until the child's session waits
    for that lock, so it has the answer and an open transaction; then the kill, and PostgreSQL rolls that
    transaction back once it finds its client gone. Returns the tables the lost transaction had written."""
    held = fake.hold_next()
    env = child_env(DATABASE_URL=database_url_for_children(), JASA_TESTING="1")
    proc = subprocess.Popen([sys.executable, "-m", "tests.payments.crash_worker", token, path, key, json.dumps(body)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _waited("the worker's request to reach the gateway", held.acted.is_set, proc)
        with transaction.atomic():
            hold()
            held.release.set()
            waiter = _waited("the worker to wait for the test's lock", _lock_waiter, proc)
            written = {name for (name,) in _pg(
                "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid = %s AND l.mode = 'RowExclusiveLock' AND c.relkind = 'r'", waiter)}
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        _waited("PostgreSQL to end the killed worker's session",
                lambda: not _pg("SELECT 1 FROM pg_stat_activity WHERE pid = %s", waiter))
    finally:
        held.release.set()
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL and not out, (proc.returncode, out, err[-3000:])
    return written


@pytest.fixture
def crash_api(transactional_db, workspace, client):
    """The REST API as the killed child and the client's retry use it, with one API key."""
    from jasa.accounts.services import apikey_create

    _key, token = apikey_create(workspace=workspace, name="crash test", role="admin")

    def post(path: str, key: str, body: dict):
        return client.post(path, data=json.dumps(body), content_type="application/json",
                           headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})

    post.token = token
    return post


@pytest.fixture
def running():
    fakes: list[FakeServer] = []

    def start(fake):
        fakes.append(fake.start())
        return fake

    yield start
    for fake in fakes:
        fake.stop()


def _paid_once(invoice) -> PaymentIntent:
    invoice.refresh_from_db()
    payment = PaymentIntent.objects.get(invoice=invoice)
    assert payment.status == Status.SUCCEEDED and invoice.status == "paid"
    assert LedgerEntry.objects.filter(invoice=invoice, kind=LedgerKind.CAPTURED).count() == 1
    assert Receipt.objects.filter(invoice=invoice).count() == 1
    ledger_verify(invoice)
    return payment


RECONCILED_FIRST, RETRIED_FIRST = "reconciliation, then the client's retry", "the client's retry, then reconciliation"


def _repaired(order: str, key: str, retry: Callable[[], object]):
    """Three minutes after the crash (the killed request's Idempotency-Key still has no answer, so a retry may
    take its place), reconciliation and the client's retry in ``order``; the retry's answer."""
    from jasa.api.models import IdempotentRequest

    assert IdempotentRequest.objects.get(key=key).status_code is None
    clock.freeze(clock.now() + dt.timedelta(minutes=3))
    if order == RECONCILED_FIRST:
        assert payments_reconcile()["changed"] == 1
        return retry()
    answer = retry()
    payments_reconcile()
    return answer


@pytest.mark.parametrize("repair", [RECONCILED_FIRST, RETRIED_FIRST])
def test_a_va_payment_killed_before_its_commit_is_repaired(workspace, invoice_factory, crash_api, running, client,
                                                          repair):
    """Midtrans issued the VA number, the process died before jasa stored it: reconciliation asks Midtrans by
    order_id, a retried request re-sends the same order_id (Midtrans refuses a second transaction: 406, and
    the adapter reads the first); the client gets that VA and pays it once."""
    from jasa.payments.services_config import gateway_account_save

    fake = running(FakeMidtrans(server_key="SB-Mid-server-crash"))
    gateway_account_save(workspace=workspace, gateway="midtrans", is_default=True, credentials={
        "server_key": fake.server_key, "client_key": "SB-Mid-client-crash", "core_api_url": fake.url,
        "snap_url": f"{fake.url}/snap/v1", "timeout": "10"})
    invoice = invoice_factory(workspace, 500_000)
    path, body = f"/api/v1/workspaces/{workspace.slug}/invoices/{invoice.pk}/payments", {"gateway": "midtrans",
                                                                                        "method": "va_bca"}

    def lock_the_payment():  # the first row _apply locks: the child waits before writing anything
        order_id = fake.last("POST", "/v2/charge").json()["transaction_details"]["order_id"]
        PaymentIntent.objects.select_for_update().get(pk=order_id)

    _kill_while_applying(fake, crash_api.token, path, "crash-va", body, lock_the_payment)
    payment = PaymentIntent.objects.get(invoice=invoice)
    assert (payment.status, payment.submitted_at, payment.gateway_reference) == (Status.CREATED, None, "")
    assert list(fake.transactions) == [payment.reference]  # the VA exists at Midtrans, unknown to jasa
    retried = _repaired(repair, "crash-va", lambda: crash_api(path, "crash-va", body))
    va_number = fake.transactions[payment.reference]["va_numbers"][0]["va_number"]
    assert retried.status_code == 201, retried.content
    assert retried.json()["id"] == str(payment.pk) and retried.json()["next_action"]["va_number"] == va_number
    charges = fake.calls("POST", "/v2/charge")
    assert len(charges) == (1 if repair == RECONCILED_FIRST else 2)
    assert {c.json()["transaction_details"]["order_id"] for c in charges} == {payment.reference}
    assert len(fake.transactions) == 1

    fake.set_status(payment.reference, "settlement")  # the client transfers; Midtrans notifies
    notified = client.post("/webhooks/midtrans", data=json.dumps(fake.notification(payment.reference)),
                           content_type="application/json")
    assert notified.status_code == 200
    clock.advance(dt.timedelta(hours=2))
    payments_reconcile()
    _paid_once(invoice)
    again = crash_api(path, "crash-va", body)
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == str(payment.pk)
    assert len(fake.transactions) == 1


@pytest.mark.parametrize("repair", [RECONCILED_FIRST, RETRIED_FIRST])
def test_an_off_session_charge_killed_with_its_capture_uncommitted_is_repaired(workspace, invoice_factory, crash_api,
                                                                               running, repair):
    """Stripe charged the saved card; the process died inside the transaction that records the capture (its
    ledger rows written, not committed). Reconciliation finds the PaymentIntent by jasa's reference in its
    metadata; a retried request re-sends the same Stripe Idempotency-Key and gets the same PaymentIntent."""
    from jasa.payments.models import SavedPaymentMethod
    from jasa.payments.services_config import gateway_account_save

    fake = running(FakeStripe(secret_key="sk_test_crash", webhook_secret="whsec_crash"))
    gateway_account_save(workspace=workspace, gateway="stripe", is_default=True, credentials={
        "secret_key": fake.secret_key, "webhook_secret": fake.webhook_secret, "api_base": fake.url, "timeout": "10"})
    invoice = invoice_factory(workspace, 300_000)
    saved = SavedPaymentMethod.objects.create(
        workspace=workspace, client=invoice.client, gateway="stripe", token="cus_crash/pm_card_visa", method="card",
        brand="visa", masked="4242", expiry_month=12, expiry_year=2030, consent_at=clock.now())
    path, body = f"/api/v1/workspaces/{workspace.slug}/invoices/{invoice.pk}/payments", {"saved_method_id": str(saved.pk)}

    def lock_the_invoice():  # taken after the capture's ledger rows (FOR NO KEY UPDATE lets their foreign key in)
        Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)

    written = _kill_while_applying(fake, crash_api.token, path, "crash-renewal", body, lock_the_invoice)
    assert "payments_ledgerentry" in written
    payment = PaymentIntent.objects.get(invoice=invoice)
    assert (payment.status, payment.gateway_reference) == (Status.CREATED, "")
    assert not LedgerEntry.objects.filter(invoice=invoice).exists()
    assert [i["status"] for i in fake.intents.values()] == ["succeeded"]  # the card was charged
    retried = _repaired(repair, "crash-renewal", lambda: crash_api(path, "crash-renewal", body))
    assert retried.status_code == 201, retried.content
    assert retried.json()["id"] == str(payment.pk) and retried.json()["status"] == "succeeded"
    paid = _paid_once(invoice)
    assert len(fake.intents) == 1 and paid.gateway_reference == next(iter(fake.intents))
    creates = [r for r in fake.requests if r.method == "POST" and r.path == "/v1/payment_intents"]
    assert len(creates) == (1 if repair == RECONCILED_FIRST else 2)
    assert {r.headers["idempotency-key"] for r in creates} == {f"charge-{payment.reference}"}
