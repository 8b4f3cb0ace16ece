"""ledger_problems also holds gateway fees to the fee recorded at capture, chargebacks to the disputed status and
settlements to the capture; and writing an invoice off does not refuse a payment that arrives afterwards."""

from __future__ import annotations

import pytest

from jasa.core.models import AuditEntry
from jasa.core.money import Money
from jasa.payments import signals
from jasa.payments.gateways.base import Status
from jasa.payments.models import Invoice, InvoiceStatus, LedgerEntry, LedgerKind, PaymentIntent
from jasa.payments.services import (
    LedgerMismatch,
    invoice_amounts,
    invoice_mark_uncollectible,
    ledger_problems,
    ledger_verify,
    payment_start,
    payment_sync,
)

pytestmark = pytest.mark.django_db


def _paid(ws, invoice_factory, fakegw, key: str, amount: int = 500_000, method: str = "card") -> PaymentIntent:
    payment = payment_start(invoice=invoice_factory(ws, amount), idempotency_key=key, method=method)
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    return payment_sync(payment.pk)


def _add(payment: PaymentIntent, kind: str, amount: int, key: str = "typed-in") -> None:
    LedgerEntry.objects.create(workspace_id=payment.workspace_id, payment=payment, invoice_id=payment.invoice_id,
                               kind=kind, key=key, amount=amount, currency=payment.currency)


# --- gateway fees ---------------------------------------------------------------------------------------


def test_the_fee_is_recorded_at_capture_and_agrees_with_the_ledger(ws, invoice_factory, fakegw):
    payment = _paid(ws, invoice_factory, fakegw, "fee")
    fee = LedgerEntry.objects.get(payment=payment, kind=LedgerKind.GATEWAY_FEE).amount
    assert payment.fee_amount == fee == 16_500  # card: 2.9 % + Rp 2.000
    assert invoice_amounts(payment.invoice)["fees"] == Money(fee)
    ledger_verify(payment.invoice)


def test_a_gateway_fee_other_than_the_recorded_one_fails(ws, invoice_factory, fakegw):
    payment = _paid(ws, invoice_factory, fakegw, "fee-typed")
    PaymentIntent.objects.filter(pk=payment.pk).update(fee_amount=1_000)
    with pytest.raises(LedgerMismatch, match="recorded fee 1000 != ledger gateway_fee 16500"):
        ledger_verify(payment.invoice)


def test_a_second_fee_entry_fails(ws, invoice_factory, fakegw):
    payment = _paid(ws, invoice_factory, fakegw, "fee-twice")
    _add(payment, LedgerKind.GATEWAY_FEE, 600_000)
    problems = " ".join(ledger_problems(payment.invoice))
    assert "recorded fee 16500 != ledger gateway_fee 616500" in problems
    assert "gateway fee 616500 is more than it captured (500000)" in problems


def test_a_fee_on_a_payment_that_captured_nothing_fails(ws, invoice_factory, fakegw):
    payment = payment_start(invoice=invoice_factory(ws, 100_000), idempotency_key="fee-pending", method="va_bca")
    _add(payment, LedgerKind.GATEWAY_FEE, 4_000)
    with pytest.raises(LedgerMismatch, match="has a gateway fee 4000 but captured nothing"):
        ledger_verify(payment.invoice)


def test_a_payment_captured_before_fees_were_recorded_is_checked_without_one(ws, invoice_factory, fakegw):
    payment = _paid(ws, invoice_factory, fakegw, "fee-legacy")
    PaymentIntent.objects.filter(pk=payment.pk).update(fee_amount=None)  # as migration 0005 leaves old rows
    ledger_verify(payment.invoice)


# --- chargebacks and settlement ---------------------------------------------------------------------------


def test_a_dispute_charges_back_what_was_kept(ws, invoice_factory, fakegw):
    payment = _paid(ws, invoice_factory, fakegw, "dispute")
    fakegw.set_status(payment.reference, Status.DISPUTED)
    payment = payment_sync(payment.pk)
    assert payment.status == Status.DISPUTED
    assert LedgerEntry.objects.get(payment=payment, kind=LedgerKind.CHARGEBACK).amount == 500_000
    assert invoice_amounts(payment.invoice)["paid"] == Money(0)
    ledger_verify(payment.invoice)


def test_a_chargeback_on_a_payment_not_disputed_fails(ws, invoice_factory, fakegw):
    payment = _paid(ws, invoice_factory, fakegw, "cb-typed")
    _add(payment, LedgerKind.CHARGEBACK, 500_000)
    with pytest.raises(LedgerMismatch, match="is succeeded but the ledger charged back 500000"):
        ledger_verify(payment.invoice)


def test_disputed_without_its_chargeback_fails(ws, invoice_factory, fakegw):
    payment = _paid(ws, invoice_factory, fakegw, "cb-missing")
    PaymentIntent.objects.filter(pk=payment.pk).update(status=Status.DISPUTED)
    with pytest.raises(LedgerMismatch, match="is disputed but charged back 0 of the 500000 it kept"):
        ledger_verify(payment.invoice)


def test_settled_other_than_captured_fails(ws, invoice_factory, fakegw):
    payment = _paid(ws, invoice_factory, fakegw, "settled-typed")
    _add(payment, LedgerKind.SETTLED, 499_999)
    with pytest.raises(LedgerMismatch, match="settled 499999 != captured 500000"):
        ledger_verify(payment.invoice)


# --- written off, then paid --------------------------------------------------------------------------------


@pytest.fixture
def paid_signals():
    got: list = []

    def receiver(sender, invoice, payment, **kwargs):
        got.append((invoice.pk, payment.pk))

    signals.invoice_paid.connect(receiver, weak=False)
    yield got
    signals.invoice_paid.disconnect(receiver)


def test_an_uncollectible_invoice_that_receives_its_payment_becomes_paid(ws, invoice_factory, fakegw, paid_signals,
                                                                         django_capture_on_commit_callbacks):
    invoice = invoice_factory(ws, 750_000)
    payment = payment_start(invoice=invoice, idempotency_key="late", method="va_bca")  # the client has a VA
    invoice = invoice_mark_uncollectible(invoice, "Klien tidak bisa dihubungi")
    assert invoice.status == InvoiceStatus.UNCOLLECTIBLE

    fakegw.set_status(payment.reference, Status.SUCCEEDED)  # ... and pays it after all
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(payment.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.paid_at is not None
    assert invoice_amounts(invoice)["balance"] == Money(0)
    assert paid_signals == [(invoice.pk, payment.pk)]  # bookings, projects... hear it like any payment
    entry = AuditEntry.objects.filter(object_id=str(invoice.pk), action="invoice.paid").get()
    assert entry.before == {"status": "uncollectible"} and entry.after == {"status": "paid"}
    ledger_verify(invoice)


def test_a_partial_payment_after_the_write_off_leaves_it_uncollectible(ws, invoice_factory, fakegw):
    invoice = invoice_factory(ws, 1_000_000)
    payment = payment_start(invoice=invoice, idempotency_key="part", method="va_bca", amount=Money(400_000))
    invoice_mark_uncollectible(invoice, "Sisanya dihapusbukukan")
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    payment_sync(payment.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNCOLLECTIBLE  # the rest stays written off
    assert invoice_amounts(invoice)["paid"] == Money(400_000)
    ledger_verify(invoice)


def test_uncollectible_with_everything_captured_fails(ws, invoice_factory, fakegw):
    payment = _paid(ws, invoice_factory, fakegw, "uncollectible-typed")
    Invoice.objects.filter(pk=payment.invoice_id).update(status=InvoiceStatus.UNCOLLECTIBLE)
    with pytest.raises(LedgerMismatch, match="uncollectible but the ledger captured 500000 of 500000"):
        ledger_verify(payment.invoice)
