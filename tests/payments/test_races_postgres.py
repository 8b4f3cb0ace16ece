"""Real processes racing on PostgreSQL: one ledger entry per fact, gap-free numbers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from jasa.payments.gateways.base import Status
from jasa.payments.models import Invoice, LedgerEntry, LedgerKind, Receipt, WebhookEvent
from jasa.payments.services import ledger_verify, payment_start

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
