"""Refunds the gateway does not finish at once, through the payment core and the real adapters over HTTP:
a pending refund is applied (ledger, payment status) only once a re-read of the payment shows it succeeded;
a failed one, at once or after pending, is recorded as failed and never applied, so its amount can be
refunded again."""

from __future__ import annotations

import pytest

from jasa.core.audit import for_object
from jasa.core.money import Money
from jasa.payments.gateways.base import Status
from jasa.payments.models import LedgerKind, RefundStatus
from jasa.payments.services import payment_refund, payment_start, payment_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(workspace, invoice_factory, request):
    """``paid(gateway)`` -> (a succeeded payment of Rp 300.000 through that gateway's fake, the fake)."""
    from jasa.payments.services_config import gateway_account_save

    def make(gateway: str):
        fake = request.getfixturevalue(f"fake_{gateway}")
        invoice = invoice_factory(workspace, 300_000)
        if gateway == "stripe":
            gateway_account_save(workspace=workspace, gateway="stripe", is_default=True, credentials={
                "secret_key": fake.secret_key, "webhook_secret": fake.webhook_secret, "api_base": fake.url})
            payment = payment_start(invoice=invoice, idempotency_key="k1", gateway="stripe",
                                    return_url="https://jasa.example/done")
            fake.pay_session(payment.gateway_reference)
        else:
            gateway_account_save(workspace=workspace, gateway="xendit", is_default=True, credentials={
                "secret_key": fake.secret_key, "callback_token": fake.callback_token, "api_base": fake.url})
            payment = payment_start(invoice=invoice, idempotency_key="k1", gateway="xendit", method="dana",
                                    return_url="https://jasa.example/done")
            fake.set_payment_request(payment.gateway_reference, "SUCCEEDED")
        payment = payment_sync(payment.pk)
        assert payment.status == Status.SUCCEEDED
        return payment, fake

    return make


# (gateway, pending status, succeeded status, failed status and the failure the fake reports)
GATEWAYS = [
    ("stripe", "pending", "succeeded", "failed", "unknown"),
    ("xendit", "PENDING", "SUCCEEDED", "FAILED", "INELIGIBLE_TRANSACTION"),
]


def _refunded_in_ledger(payment) -> int:
    return sum(payment.ledger.filter(kind=LedgerKind.REFUNDED).values_list("amount", flat=True))


@pytest.mark.parametrize(("gateway", "pending", "succeeded", "failed", "failure"), GATEWAYS)
def test_pending_refund_is_applied_once_a_reread_shows_it_succeeded(paid, gateway, pending, succeeded, failed,
                                                                   failure):
    payment, fake = paid(gateway)
    fake.refund_outcome = pending
    refund = payment_refund(payment=payment, amount=Money(100_000), reason="Klien membatalkan sebagian")
    assert refund.status == RefundStatus.PENDING and refund.gateway_reference

    payment = payment_sync(payment.pk)  # the gateway has not finished it: nothing moves
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING
    assert payment.status == Status.SUCCEEDED and _refunded_in_ledger(payment) == 0

    fake.settle_refund(refund.gateway_reference, succeeded)
    payment = payment_sync(payment.pk)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert payment.status == Status.PARTIALLY_REFUNDED and _refunded_in_ledger(payment) == 100_000
    payment_sync(payment.pk)  # read again: applied once
    assert _refunded_in_ledger(payment) == 100_000 and payment.refunds.count() == 1


@pytest.mark.parametrize(("gateway", "pending", "succeeded", "failed", "failure"), GATEWAYS)
def test_failed_refund_is_recorded_and_never_applied(paid, gateway, pending, succeeded, failed, failure):
    payment, fake = paid(gateway)
    fake.refund_outcome = failed
    refund = payment_refund(payment=payment, amount=Money(300_000), reason="Batal")
    assert refund.status == RefundStatus.FAILED and refund.failure_message == failure

    payment = payment_sync(payment.pk)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert payment.status == Status.SUCCEEDED and _refunded_in_ledger(payment) == 0

    # The failed refund reserves nothing: the whole amount can be refunded again, and this time it is.
    fake.refund_outcome = succeeded
    again = payment_refund(payment=payment, amount=Money(300_000), reason="Batal, dicoba lagi")
    assert again.status == RefundStatus.SUCCEEDED and again.refund_key != refund.refund_key
    payment.refresh_from_db()
    assert payment.status == Status.REFUNDED and _refunded_in_ledger(payment) == 300_000


@pytest.mark.parametrize(("gateway", "pending", "succeeded", "failed", "failure"), GATEWAYS)
def test_pending_refund_that_fails_later_is_recorded_failed_on_the_reread(paid, gateway, pending, succeeded,
                                                                         failed, failure):
    payment, fake = paid(gateway)
    fake.refund_outcome = pending
    refund = payment_refund(payment=payment, amount=Money(300_000), reason="Batal")
    assert refund.status == RefundStatus.PENDING

    fake.settle_refund(refund.gateway_reference, failed)
    payment = payment_sync(payment.pk)  # e.g. after the gateway's refund.failed webhook
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.failure_message == failure
    assert for_object(refund).filter(action="refund.failed").count() == 1
    assert payment.status == Status.SUCCEEDED and _refunded_in_ledger(payment) == 0
    payment_sync(payment.pk)  # read again: recorded once
    assert for_object(refund).filter(action="refund.failed").count() == 1

    fake.refund_outcome = succeeded  # its amount is free again
    again = payment_refund(payment=payment, amount=Money(300_000), reason="Batal, dicoba lagi")
    assert again.status == RefundStatus.SUCCEEDED
    payment.refresh_from_db()
    assert payment.status == Status.REFUNDED and _refunded_in_ledger(payment) == 300_000
