"""Reconciliation: which pending payments a run asks the gateway about, and that none starves.

A payment is due once it has waited its method's expected time (card 10 min, VA 1 h, …) since its last
status change and was not asked within that time, when it is past its expiry, or when its create never
reached the gateway. A run takes the due payments asked least recently, ``limit`` at a time.
"""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.core import clock
from jasa.core.money import Money
from jasa.payments.gateways.base import GatewayError, Method, Status
from jasa.payments.models import InvoiceStatus, PaymentIntent
from jasa.payments.services import EXPECTED, payment_start, payment_sync, payments_reconcile

pytestmark = pytest.mark.django_db


def test_overdue_payment_is_re_synced_before_expiry_and_a_younger_one_is_not(ws, invoice_factory, fakegw,
                                                                             frozen_clock):
    overdue = payment_start(invoice=invoice_factory(ws), idempotency_key="old", method="card")
    clock.advance(dt.timedelta(minutes=5))
    young = payment_start(invoice=invoice_factory(ws), idempotency_key="young", method="card")
    young_synced = PaymentIntent.objects.get(pk=young.pk).last_synced_at
    fakegw.set_status(overdue.reference, Status.SUCCEEDED)  # the client paid; no webhook came
    fakegw.set_status(young.reference, Status.SUCCEEDED)
    clock.advance(dt.timedelta(minutes=6))  # overdue: 11 min (card expects 10, expires at 60); young: 6 min

    counts = payments_reconcile()

    assert counts["checked"] == 1 and counts["changed"] == 1 and counts["errors"] == 0
    overdue.refresh_from_db()
    assert overdue.status == Status.SUCCEEDED and overdue.last_synced_at == clock.now()
    assert overdue.invoice.status == InvoiceStatus.PAID
    young.refresh_from_db()
    assert young.status == Status.REQUIRES_ACTION and young.last_synced_at == young_synced  # not asked


def test_a_payment_is_asked_again_only_after_its_expected_time(ws, invoice_factory, fakegw, frozen_clock):
    """A VA waits up to a day: reconciliation asks about it once an hour, not every two minutes."""
    va = payment_start(invoice=invoice_factory(ws), idempotency_key="va", method="va_bca")
    clock.advance(EXPECTED["va"])
    assert payments_reconcile()["checked"] == 1
    clock.advance(dt.timedelta(minutes=2))
    assert payments_reconcile()["checked"] == 0
    clock.advance(EXPECTED["va"] - dt.timedelta(minutes=2))
    assert payments_reconcile()["checked"] == 1
    # a webhook's re-read counts as asking
    clock.advance(dt.timedelta(minutes=59))
    payment_sync(va.pk)
    clock.advance(dt.timedelta(minutes=2))
    assert payments_reconcile()["checked"] == 0
    va.refresh_from_db()
    assert va.status == Status.PROCESSING


def test_expiry_is_applied_whenever_it_is_due(ws, invoice_factory, fakegw, frozen_clock):
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="q", method="qris")
    clock.advance(dt.timedelta(minutes=14))
    assert payments_reconcile()["checked"] == 1  # overdue (5 min), not expired (15 min)
    clock.advance(dt.timedelta(minutes=1))  # asked a minute ago, but now past its expiry
    assert payments_reconcile() == {"checked": 1, "changed": 1, "errors": 0, "webhooks": 0}
    payment.refresh_from_db()
    assert payment.status == Status.EXPIRED


def test_a_gateway_that_does_not_answer_does_not_hold_the_line(ws, invoice_factory, fakegw, frozen_clock):
    made = []
    for n in range(3):
        made.append(payment_start(invoice=invoice_factory(ws), idempotency_key=f"k{n}", method="card"))
        clock.advance(dt.timedelta(seconds=1))
    first, second, third = made
    clock.advance(dt.timedelta(minutes=11))
    fakegw.fail_next.extend([GatewayError("timeout"), GatewayError("timeout")])
    counts = payments_reconcile(limit=2)
    assert counts["checked"] == 2 and counts["errors"] == 2  # the two asked least recently
    fakegw.set_status(third.reference, Status.SUCCEEDED)
    counts = payments_reconcile(limit=2)  # the two that failed wait their turn: the third's comes
    assert counts["checked"] == 1 and counts["changed"] == 1
    third.refresh_from_db()
    assert third.status == Status.SUCCEEDED
    clock.advance(EXPECTED["card"])
    assert payments_reconcile(limit=2)["checked"] == 2  # and then the first two again
    assert {p.last_synced_at for p in PaymentIntent.objects.filter(pk__in=[first.pk, second.pk])} == {clock.now()}


def test_six_hundred_overdue_payments_all_get_their_turn(ws, invoice_factory, fakegw, frozen_clock):
    """More long-lived VA payments than one run takes: every one is asked within a few runs, and the
    newest overdue one is not pushed out by the older ones."""
    invoice = invoice_factory(ws, 100_000_000)
    start = clock.now()
    rows = []
    for n in range(600):
        created = start + dt.timedelta(seconds=n)  # the oldest first
        rows.append(PaymentIntent(
            workspace=ws, invoice=invoice, idempotency_key=f"va-{n}", gateway="testpay", method="va_bca",
            status=Status.PROCESSING, currency="IDR", applied_amount=10_000, gross_amount=10_000,
            created_at=created, status_changed_at=created, submitted_at=created, last_synced_at=created,
            expires_at=created + dt.timedelta(hours=24),
        ))
    PaymentIntent.objects.bulk_create(rows)
    for row in rows:
        fakegw.world[row.reference] = {"status": Status.PROCESSING, "amount": Money(10_000), "refunds": {},
                                       "method": Method.VA_BCA}
    newest = rows[-1]
    fakegw.set_status(newest.reference, Status.SUCCEEDED)
    clock.advance(dt.timedelta(hours=2))

    first = payments_reconcile()
    clock.advance(dt.timedelta(minutes=2))
    second = payments_reconcile()
    clock.advance(dt.timedelta(minutes=2))
    third = payments_reconcile()

    assert (first["checked"], second["checked"], third["checked"]) == (500, 100, 0)
    assert second["changed"] == 1 and first["errors"] == second["errors"] == 0
    assert not PaymentIntent.objects.filter(last_synced_at__lt=start + dt.timedelta(hours=2)).exists()
    assert PaymentIntent.objects.get(pk=newest.pk).status == Status.SUCCEEDED
