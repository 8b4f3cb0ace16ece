"""Every ledger kind is written when the gateway says so, once: ``authorized`` while a gateway holds money it has
not captured, ``settled`` once captured money settled (with the capture when settling is the payment), and
neither changes what an invoice is paid. Through the in-test gateway; Midtrans, Stripe and Xendit through their
local fakes in tests/payments/gateways/test_ledger_settlement.py."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.core import clock
from jasa.core.money import Money
from jasa.payments.gateways.base import Status
from jasa.payments.models import InvoiceStatus, LedgerEntry, LedgerKind
from jasa.payments.selectors import report_by_day_and_method
from jasa.payments.services import (
    invoice_amounts,
    ledger_verify,
    payment_start,
    payment_sync,
    webhook_receive,
)

pytestmark = pytest.mark.django_db


def kinds(payment) -> dict[str, list[int]]:  # also used by tests/payments/gateways/test_ledger_settlement.py
    """kind -> the amounts of its entries, for the payment."""
    found: dict[str, list[int]] = {}
    for kind, amount in LedgerEntry.objects.filter(payment=payment).values_list("kind", "amount"):
        found.setdefault(kind, []).append(amount)
    return found


def totals(invoice) -> dict[str, Money]:
    invoice.refresh_from_db()
    return invoice_amounts(invoice)


# --- the core, through the in-test gateway ---------------------------------------------------------------


def test_authorized_then_captured_then_settled(ws, invoice_factory, fakegw):
    invoice = invoice_factory(ws, 400_000)
    payment = payment_start(invoice=invoice, idempotency_key="hold", method="card")
    fakegw.set_status(payment.reference, Status.PROCESSING, authorized=True)
    for _ in range(3):  # a re-read says the same thing again and again: one entry
        payment = payment_sync(payment.pk)
    assert payment.status == Status.PROCESSING
    assert kinds(payment) == {"authorized": [400_000]}
    assert totals(invoice)["paid"] == Money(0) and totals(invoice)["balance"] == Money(400_000)  # held, not paid

    fakegw.set_status(payment.reference, Status.SUCCEEDED, authorized=False)
    payment_sync(payment.pk)
    paid = totals(invoice)
    assert invoice.status == InvoiceStatus.PAID and paid["paid"] == Money(400_000) and paid["balance"] == Money(0)

    fakegw.set_status(payment.reference, Status.SUCCEEDED, settled=True)
    for _ in range(2):
        payment_sync(payment.pk)
    assert totals(invoice) == paid  # settled counts for nothing more
    assert kinds(payment) == {"authorized": [400_000], "captured": [400_000], "gateway_fee": [13_600],
                              "settled": [400_000]}
    ledger_verify(invoice)


def test_settled_with_the_payment_writes_both_and_a_stale_hold_comes_too_late(ws, invoice_factory, fakegw):
    invoice = invoice_factory(ws, 250_000)
    payment = payment_start(invoice=invoice, idempotency_key="va", method="va_bca")
    fakegw.set_status(payment.reference, Status.SUCCEEDED, settled=True)  # a VA: paid is settled
    payment_sync(payment.pk)
    assert kinds(payment) == {"captured": [250_000], "gateway_fee": [4_000], "settled": [250_000]}
    ref = LedgerEntry.objects.get(payment=payment, kind=LedgerKind.CAPTURED).key
    assert LedgerEntry.objects.get(payment=payment, kind=LedgerKind.SETTLED).key == ref

    # an answer from before the capture, read late, records no hold: the payment moved on (forward only)
    fakegw.set_status(payment.reference, Status.PROCESSING, authorized=True, settled=False)
    payment = payment_sync(payment.pk)
    assert payment.status == Status.SUCCEEDED
    assert "authorized" not in kinds(payment)
    assert totals(invoice)["paid"] == Money(250_000)
    ledger_verify(invoice)


def test_duplicated_and_reordered_webhooks_record_each_fact_once(ws, invoice_factory, fakegw,
                                                                 django_capture_on_commit_callbacks):
    invoice = invoice_factory(ws, 300_000)
    payment = payment_start(invoice=invoice, idempotency_key="wh", method="card")

    def deliver(event_id: str, status: str) -> None:
        headers, body = fakegw.webhook(event_id, payment.reference, status=status)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_receive("testpay", headers, body)

    fakegw.set_status(payment.reference, Status.PROCESSING, authorized=True)
    fakegw.set_status(payment.reference, Status.SUCCEEDED, authorized=False, settled=True)
    deliver("settled", "settled")  # the settlement's notification first: the re-read sees all of it
    deliver("authorized", "authorized")  # the hold's notification, late
    deliver("captured", "captured")
    for event_id in ("settled", "captured", "authorized"):
        deliver(event_id, "again")  # stored once by id: a duplicate is not even re-read
    assert kinds(payment) == {"captured": [300_000], "gateway_fee": [10_700], "settled": [300_000]}
    assert totals(invoice)["paid"] == Money(300_000)
    ledger_verify(invoice)


def test_reports_count_captured_not_settled(ws, invoice_factory, fakegw, pay_invoice):
    invoice = invoice_factory(ws, 100_000)
    payment = pay_invoice(invoice, "report", method="va_bca")
    window = (clock.now() - dt.timedelta(days=1), clock.now() + dt.timedelta(days=1))
    before = report_by_day_and_method(ws, *window)
    fakegw.set_status(payment.reference, Status.SUCCEEDED, settled=True)
    payment_sync(payment.pk)
    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerKind.SETTLED).exists()
    assert report_by_day_and_method(ws, *window) == before
