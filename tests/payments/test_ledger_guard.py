"""The ledger is append-only in the database itself (jasa.payments.ledger_guard, migration 0005), not only in
``LedgerEntry.save()``: an UPDATE is refused on SQLite and PostgreSQL, PostgreSQL refuses to commit a DELETE
of ledger rows without their workspace, and deleting a whole workspace still removes them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from jasa.payments import ledger_guard
from jasa.payments.gateways.base import Status
from jasa.payments.models import Invoice, LedgerEntry, LedgerKind, PaymentIntent
from jasa.payments.services import ledger_verify, payment_start, payment_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(ws, invoice_factory, pay_invoice):
    invoice = invoice_factory(ws, 500_000)
    return pay_invoice(invoice, "guard")


def _check_deferred() -> None:
    """Run the checks the database would run at commit, now (a test's transaction never commits); on
    PostgreSQL this is SET CONSTRAINTS ALL IMMEDIATE, which fires the deferred DELETE guard."""
    connection.check_constraints()


def test_the_guard_is_in_place_after_all_migrations():
    # A later migration that rebuilds the ledger table on SQLite drops its triggers: this test says so.
    assert ledger_guard.expected(connection.vendor)
    assert ledger_guard.missing(connection) == []


def test_queryset_update_is_refused_by_the_database(paid):
    entry = LedgerEntry.objects.get(payment=paid, kind=LedgerKind.CAPTURED)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(payment=paid).update(key="rewritten")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {ledger_guard.TABLE} SET amount = 0")  # raw SQL: no ORM in the way
    entry.refresh_from_db()
    assert entry.amount == 500_000 and entry.key == paid.gateway_reference
    ledger_verify(paid.invoice)


def test_queryset_delete_is_refused(paid):
    before = LedgerEntry.objects.filter(payment=paid).count()
    with pytest.raises(RuntimeError, match="append-only"):
        LedgerEntry.objects.filter(payment=paid).delete()
    with pytest.raises(RuntimeError, match="append-only"):
        LedgerEntry.objects.first().delete()
    assert LedgerEntry.objects.filter(payment=paid).count() == before


def test_inserting_still_works_and_negative_amounts_are_refused(paid):
    before = LedgerEntry.objects.filter(payment=paid).count()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(workspace_id=paid.workspace_id, payment=paid, invoice_id=paid.invoice_id,
                                   kind=LedgerKind.REFUNDED, key="negative", amount=-1, currency="IDR")
    LedgerEntry.objects.create(workspace_id=paid.workspace_id, payment=paid, invoice_id=paid.invoice_id,
                               kind=LedgerKind.SETTLED, key="x", amount=500_000, currency="IDR")
    assert LedgerEntry.objects.filter(payment=paid).count() == before + 1


def test_deleting_the_workspace_takes_its_ledger(paid, ws, workspace_factory, invoice_factory, fakegw):
    other = workspace_factory("other")
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=other, gateway="testpay", credentials={"key": "k"}, is_default=True)
    kept = payment_start(invoice=invoice_factory(other, 100_000), idempotency_key="kept")
    fakegw.set_status(kept.reference, Status.SUCCEEDED)
    payment_sync(kept.pk)

    ws.delete()
    _check_deferred()  # PostgreSQL's commit-time check passes: the workspace went in the same transaction
    assert not LedgerEntry.objects.filter(payment_id=paid.pk).exists()
    assert not PaymentIntent.objects.filter(pk=paid.pk).exists()
    assert LedgerEntry.objects.filter(payment=kept, kind=LedgerKind.CAPTURED).exists()  # the other business's books stay


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="the DELETE guard is PostgreSQL's (see ledger_guard)")
def test_postgres_refuses_to_commit_a_delete_without_the_workspace(paid):
    before = LedgerEntry.objects.filter(payment=paid).count()
    with pytest.raises(IntegrityError, match="deleted without its workspace"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {ledger_guard.TABLE} WHERE payment_id = %s", [paid.pk])
        _check_deferred()
    assert LedgerEntry.objects.filter(payment=paid).count() == before
    assert Invoice.objects.filter(pk=paid.invoice_id).exists()
