"""Refunds: partial and full, unsupported methods, gateway failures, idempotent refund keys, signals."""

from __future__ import annotations

import pytest

from jasa.core.errors import Conflict, ValidationError
from jasa.core.money import Money
from jasa.payments.gateways.base import Status
from jasa.payments.models import LedgerEntry, LedgerKind, Refund, RefundStatus
from jasa.payments.services import invoice_amounts, ledger_verify, payment_refund, payment_start, payment_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(ws, invoice_factory, pay_invoice):
    def make(method="card", amount=1_000_000):
        invoice = invoice_factory(ws, amount)
        return pay_invoice(invoice, f"pay-{method}-{amount}", method=method)

    return make


def test_partial_then_full(paid, fakegw, django_capture_on_commit_callbacks):
    from jasa.payments import signals

    got = []

    def receiver(sender, payment, refund, **kw):
        got.append(refund.pk)

    signals.payment_refunded.connect(receiver, weak=False)
    try:
        payment = paid()
        with django_capture_on_commit_callbacks(execute=True):
            first = payment_refund(payment=payment, amount=Money(400_000), reason="client asked")
        assert first.status == RefundStatus.SUCCEEDED
        payment.refresh_from_db()
        assert payment.status == Status.PARTIALLY_REFUNDED
        with django_capture_on_commit_callbacks(execute=True):
            payment_refund(payment=payment, amount=Money(600_000), reason="rest")
        payment.refresh_from_db()
        assert payment.status == Status.REFUNDED
        assert len(got) == 2
    finally:
        signals.payment_refunded.disconnect(receiver)
    assert invoice_amounts(payment.invoice)["refunded"] == Money(1_000_000)
    assert invoice_amounts(payment.invoice)["paid"] == Money(0)
    ledger_verify(payment.invoice)


def test_refund_key_is_idempotent_and_sent_to_gateway(paid, fakegw):
    payment = paid()
    a = payment_refund(payment=payment, amount=Money(100_000), reason="r", refund_key="rk-1")
    b = payment_refund(payment=payment, amount=Money(100_000), reason="r", refund_key="rk-1")
    assert a.pk == b.pk
    assert fakegw.refund_calls == ["rk-1"]
    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerKind.REFUNDED).count() == 1


def test_more_than_paid_is_refused(paid):
    payment = paid()
    with pytest.raises(ValidationError) as exc:
        payment_refund(payment=payment, amount=Money(1_000_001), reason="r")
    assert exc.value.field == "amount"


def test_reason_required(paid):
    with pytest.raises(ValidationError):
        payment_refund(payment=paid(), amount=Money(1), reason=" ")


def test_va_cannot_be_refunded_clear_message(paid):
    payment = paid("va_bca")
    with pytest.raises(ValidationError) as exc:
        payment_refund(payment=payment, amount=Money(1_000_000), reason="r")
    assert exc.value.message == ("Pembayaran dengan Virtual account BCA tidak dapat dikembalikan dananya melalui Test "
                                 "gateway; kembalikan dana melalui transfer bank.")
    assert not Refund.objects.exists()


def test_qris_only_full(paid):
    payment = paid("qris")
    with pytest.raises(ValidationError) as exc:
        payment_refund(payment=payment, amount=Money(10), reason="r")
    assert exc.value.message == "Pembayaran dengan QRIS hanya dapat dikembalikan dananya secara penuh (Rp 1.000.000)."
    assert payment_refund(payment=payment, amount=Money(1_000_000), reason="r").status == RefundStatus.SUCCEEDED


def test_gateway_declines_refund(paid, fakegw):
    payment = paid()
    with pytest.raises(ValidationError) as exc:
        payment_refund(payment=payment, amount=Money(5), reason="gateway-declines")
    assert exc.value.message == "Payment gateway menolak pengembalian dana: refund window closed"  # its own words
    assert exc.value.code == "refund_declined"
    assert Refund.objects.get().status == RefundStatus.FAILED
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED


def test_failed_refund_is_recorded_not_applied(paid):
    payment = paid()
    refund = payment_refund(payment=payment, amount=Money(5), reason="gateway-fails")
    assert refund.status == RefundStatus.FAILED and refund.failure_message == "bank said no"
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED
    ledger_verify(payment.invoice)


def test_unpaid_payment_cannot_be_refunded(ws, invoice_factory):
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="x")
    with pytest.raises(Conflict):
        payment_refund(payment=payment, amount=Money(1), reason="r")


def test_refund_made_in_gateway_dashboard_is_recorded(paid, fakegw):
    payment = paid()
    fakegw.set_status(payment.reference, Status.PARTIALLY_REFUNDED, refunded=Money(250_000))
    payment = payment_sync(payment.pk)
    payment_sync(payment.pk)
    assert payment.status == Status.PARTIALLY_REFUNDED
    assert Refund.objects.get(payment=payment).amount == Money(250_000)
    ledger_verify(payment.invoice)


def test_dispute_records_chargeback(paid, fakegw):
    payment = paid()
    fakegw.set_status(payment.reference, Status.DISPUTED)
    payment = payment_sync(payment.pk)
    assert payment.status == Status.DISPUTED
    assert invoice_amounts(payment.invoice)["chargeback"] == Money(1_000_000)
