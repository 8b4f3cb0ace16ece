"""The loud check: stored totals that disagree with the ledger fail, by function and by command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from jasa.payments.gateways.base import Status
from jasa.payments.models import Invoice, LedgerEntry, PaymentIntent
from jasa.payments.services import LedgerMismatch, ledger_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_invoice(ws, invoice_factory, pay_invoice):
    invoice = invoice_factory(ws, 500_000)
    pay_invoice(invoice, "lv")
    return invoice


def test_clean_books_pass(paid_invoice, capsys):
    ledger_verify(paid_invoice)
    call_command("payments_verify_ledger")
    assert "ledger check ok: 1 invoice(s)" in capsys.readouterr().out


def test_typed_in_total_fails_loudly(paid_invoice):
    Invoice.objects.filter(pk=paid_invoice.pk).update(total_amount=400_000)
    with pytest.raises(LedgerMismatch, match="sum of lines"):
        ledger_verify(paid_invoice)
    with pytest.raises(CommandError, match="FAILED"):
        call_command("payments_verify_ledger")


def test_status_without_ledger_fails(paid_invoice):
    PaymentIntent.objects.filter(invoice=paid_invoice).update(status=Status.REFUNDED)
    with pytest.raises(LedgerMismatch, match="refunded"):
        ledger_verify(paid_invoice)


def test_ledger_is_append_only(paid_invoice):
    entry = LedgerEntry.objects.first()
    entry.amount = 1
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
