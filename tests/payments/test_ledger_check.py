"""The ledger check runs on its own once a day: per workspace, problems logged at ERROR, an audit entry on the
workspace, the instance admins emailed, the run recorded, and /healthz says "ok" or how many problems."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core.cache import cache
from django.db import connection

from jasa.core import clock, heartbeat
from jasa.core.models import AuditEntry
from jasa.payments import ledger_guard, services_ledger, tasks
from jasa.payments.models import Invoice, LedgerCheck

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(ws, workspace_factory, invoice_factory, pay_invoice, frozen_clock):
    """Two businesses with a paid invoice each; ``acme``'s will be broken by the test."""
    from jasa.payments.services_config import gateway_account_save

    other = workspace_factory("other")
    gateway_account_save(workspace=other, gateway="testpay", credentials={"key": "k"}, is_default=True)
    paid = {}
    for workspace in (ws, other):
        invoice = invoice_factory(workspace, 500_000)
        pay_invoice(invoice, f"check-{workspace.slug}")
        paid[workspace.slug] = invoice
    return paid


@pytest.fixture
def healthz(client):
    cache.delete_many([heartbeat.KEY, heartbeat.PERIODIC_KEY])

    def get():
        heartbeat.beat(periodic=True)  # a live worker: every failing part would be someone else's
        response = client.get("/healthz")
        return response.status_code, response.json()

    yield get
    cache.delete_many([heartbeat.KEY, heartbeat.PERIODIC_KEY])


def test_clean_books(books, healthz, mailoutbox, settings):
    settings.ADMINS = [("ops", "ops@example.test")]
    assert healthz()[1]["ledger"] == "not checked yet"
    run = services_ledger.ledger_check_run()
    assert (run.workspaces, run.invoices, run.problem_count, run.problems) == (2, 2, 0, [])
    assert run.finished_at is not None
    status, body = healthz()
    assert status == 200 and body["ledger"] == "ok"
    assert mailoutbox == []
    assert not AuditEntry.objects.filter(action="ledger.problems").exists()


def test_a_broken_row_is_logged_audited_emailed_and_shown(books, ws, healthz, mailoutbox, settings, caplog):
    settings.ADMINS = [("ops", "ops@example.test")]
    broken = books["acme"]
    Invoice.objects.filter(pk=broken.pk).update(total_amount=400_000)  # a total typed in

    with caplog.at_level(logging.ERROR, logger="jasa.payments.services_ledger"):
        run = services_ledger.ledger_check_run()

    assert run.problem_count == 1
    assert run.problems == [{"workspace": "acme", "problem": f"{broken.number}: total 400000 != sum of lines"}]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [f"ledger check: acme: {broken.number}: total 400000 != sum of lines"]

    entry = AuditEntry.objects.get(action="ledger.problems")
    assert entry.workspace_id == ws.pk and entry.actor_label == "system:ledger-check"
    assert entry.after["count"] == 1 and "sum of lines" in entry.after["problems"][0]
    assert not AuditEntry.objects.filter(action="ledger.problems").exclude(workspace=ws).exists()  # other is fine

    [mail] = mailoutbox
    assert mail.to == ["ops@example.test"]
    assert mail.subject == "[jasa] Pemeriksaan buku besar: 1 masalah"  # the instance's language (id)
    assert f"- acme: {broken.number}: total 400000 != sum of lines" in mail.body
    assert "jasa manage payments_verify_ledger --workspace" in mail.body

    status, body = healthz()
    assert body["ledger"] == "1 problem"
    assert status == 200 and "ledger" not in body["failing"]  # informs; never takes the instance out


def test_without_admins_nobody_is_emailed(books, mailoutbox, settings):
    settings.ADMINS = []
    Invoice.objects.filter(pk=books["other"].pk).update(tax_amount=1)
    assert services_ledger.ledger_check_run().problem_count == 1
    assert mailoutbox == []


def test_one_workspace_failing_does_not_hide_the_others(books, monkeypatch):
    real = services_ledger.workspace_problems

    def flaky(workspace):
        if workspace.slug == "acme":
            raise ValueError("database hiccup")
        return real(workspace)

    monkeypatch.setattr(services_ledger, "workspace_problems", flaky)
    Invoice.objects.filter(pk=books["other"].pk).update(total_amount=1)
    run = services_ledger.ledger_check_run()
    assert {p["workspace"] for p in run.problems} == {"acme", "other"}
    assert "the check could not finish: ValueError: database hiccup" in run.problems[0]["problem"] + \
        run.problems[1]["problem"]


def test_a_missing_database_guard_is_a_problem(books):
    with connection.cursor() as cursor:  # rolled back with the test
        suffix = f" ON {ledger_guard.TABLE}" if connection.vendor == "postgresql" else ""
        cursor.execute(f"DROP TRIGGER {ledger_guard.NO_UPDATE}{suffix}")
    assert ledger_guard.missing(connection) == [ledger_guard.NO_UPDATE]
    run = services_ledger.ledger_check_run()
    assert run.problems[0]["workspace"] == "" and ledger_guard.NO_UPDATE in run.problems[0]["problem"]


def test_the_hourly_task_checks_once_a_day(books, healthz):
    tasks.ledger_check_task()  # the periodic task, as the worker calls it (the queue runs it at once in tests)
    assert LedgerCheck.objects.count() == 1
    for _ in range(22):
        clock.advance(dt.timedelta(hours=1))
        tasks.ledger_check_task()
    assert LedgerCheck.objects.count() == 1  # 22 h later: not due
    clock.advance(dt.timedelta(hours=1))
    tasks.ledger_check_task()
    assert LedgerCheck.objects.count() == 2  # 23 h: the next day's run, at the same hour
    assert healthz()[1]["ledger"] == "ok"

    clock.advance(dt.timedelta(hours=49))  # the periodic worker was down for two days
    assert healthz()[1]["ledger"] == "not checked for 49 h"
    tasks.ledger_check_task()  # back: it catches up within the hour
    assert LedgerCheck.objects.count() == 3 and healthz()[1]["ledger"] == "ok"
