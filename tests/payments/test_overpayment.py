"""An invoice is paid once: when one payment pays it, its other pending payments are cancelled at the
gateway; a payment that succeeds anyway (or after the invoice was voided) is returned at once, through
the gateway or as a refund owed by bank transfer."""

from __future__ import annotations

import pytest

from jasa.core.money import Money
from jasa.payments.gateways.base import GatewayError, Method, Status
from jasa.payments.models import InvoiceStatus, Refund, RefundChannel, RefundStatus
from jasa.payments.services import (
    invoice_amounts,
    invoice_void,
    ledger_verify,
    payment_refund_overpayment,
    payment_start,
    payment_sync,
)

pytestmark = pytest.mark.django_db


def _paid(fakegw, payment):
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    return payment_sync(payment.pk)


def test_paying_cancels_the_other_pending_payments(ws, invoice_factory, fakegw, django_capture_on_commit_callbacks):
    invoice = invoice_factory(ws, 500_000)
    va = payment_start(invoice=invoice, idempotency_key="va", method=Method.VA_BCA)
    card = payment_start(invoice=invoice, idempotency_key="card", method=Method.CARD)
    with django_capture_on_commit_callbacks(execute=True):
        _paid(fakegw, card)
    va.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert va.status == Status.CANCELED and fakegw.world[va.reference]["status"] == Status.CANCELED
    assert not Refund.objects.exists()
    ledger_verify(invoice)


def test_a_second_card_payment_is_refunded_through_the_gateway(ws, invoice_factory, fakegw,
                                                               django_capture_on_commit_callbacks):
    invoice = invoice_factory(ws, 500_000)
    first = payment_start(invoice=invoice, idempotency_key="one", method=Method.CARD)
    second = payment_start(invoice=invoice, idempotency_key="two", method=Method.CARD)
    fakegw.set_status(second.reference, Status.SUCCEEDED)  # the client completed both before we heard
    with django_capture_on_commit_callbacks(execute=True):
        _paid(fakegw, first)  # cancelling the second finds it paid: it is applied, then returned
    second.refresh_from_db()
    refund = Refund.objects.get(payment=second)
    assert refund.refund_key == f"overpayment:{second.pk}" and refund.status == RefundStatus.SUCCEEDED
    assert refund.amount == Money(500_000) and "already paid" in refund.reason
    assert second.status == Status.REFUNDED
    amounts = invoice_amounts(invoice)
    assert amounts["paid"] == Money(500_000) and amounts["refunded"] == Money(500_000)
    assert payment_refund_overpayment(second.pk) == refund  # once per payment
    assert fakegw.refund_calls == [f"overpayment:{second.pk}"]
    ledger_verify(invoice)


def test_a_va_overpayment_is_owed_by_bank_transfer(ws, invoice_factory, fakegw, django_capture_on_commit_callbacks):
    invoice = invoice_factory(ws, 500_000)
    card = payment_start(invoice=invoice, idempotency_key="card", method=Method.CARD)
    va = payment_start(invoice=invoice, idempotency_key="va", method=Method.VA_BCA)
    fakegw.set_status(va.reference, Status.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=True):
        _paid(fakegw, card)
    refund = Refund.objects.get(payment=va)
    assert refund.channel == RefundChannel.BANK_TRANSFER and refund.status == RefundStatus.PENDING
    assert refund.amount == Money(500_000) and fakegw.refund_calls == []


def test_partial_payments_that_add_up_are_not_overpayments(ws, invoice_factory, fakegw,
                                                          django_capture_on_commit_callbacks):
    invoice = invoice_factory(ws, 500_000)
    with django_capture_on_commit_callbacks(execute=True):
        _paid(fakegw, payment_start(invoice=invoice, idempotency_key="p1", method=Method.CARD,
                                    amount=Money(200_000)))
        _paid(fakegw, payment_start(invoice=invoice, idempotency_key="p2", method=Method.CARD))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice_amounts(invoice)["paid"] == Money(500_000)
    assert not Refund.objects.exists()


def test_a_payment_that_succeeds_after_the_invoice_was_voided_is_returned(ws, invoice_factory, fakegw,
                                                                         django_capture_on_commit_callbacks):
    invoice = invoice_factory(ws, 500_000)
    card = payment_start(invoice=invoice, idempotency_key="late", method=Method.CARD)
    fakegw.fail_next.append(GatewayError("down"))
    invoice_void(invoice, "sent by mistake")  # the cancel did not reach the gateway
    card.refresh_from_db()
    assert card.is_pending
    with django_capture_on_commit_callbacks(execute=True):
        _paid(fakegw, card)  # the client paid the stale checkout anyway
    refund = Refund.objects.get(payment=card)
    assert refund.status == RefundStatus.SUCCEEDED and refund.amount == Money(500_000)
    assert "already void" in refund.reason
