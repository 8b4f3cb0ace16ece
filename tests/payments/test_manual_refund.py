"""Refunds by bank transfer: VA / store payments the gateway cannot refund, owed then recorded by staff."""

from __future__ import annotations

import pytest

from jasa.accounts.models import Membership
from jasa.core.errors import Conflict, ValidationError
from jasa.core.money import Money
from jasa.payments import signals
from jasa.payments.gateways.base import Status
from jasa.payments.models import LedgerEntry, LedgerKind, Refund, RefundChannel, RefundStatus
from jasa.payments.services import (
    invoice_amounts,
    ledger_verify,
    payment_refund,
    payment_start,
    refund_record_manual,
    refund_request_manual,
    refund_set_account,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def va_paid(ws, invoice_factory, pay_invoice):
    invoice = invoice_factory(ws, 500_000)
    return pay_invoice(invoice, "va", method="va_bca")


@pytest.fixture
def refunded_signals():
    got = []

    def receiver(sender, payment, refund, **kw):
        got.append(refund.pk)

    signals.payment_refunded.connect(receiver, weak=False)
    yield got
    signals.payment_refunded.disconnect(receiver)


def test_gateway_refuses_va_so_the_refund_is_owed_then_recorded(va_paid, refunded_signals,
                                                                django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError) as exc:
        payment_refund(payment=va_paid, amount=Money(500_000), reason="cancelled")
    assert exc.value.code == "refund_unsupported"
    owed = refund_request_manual(payment=va_paid, amount=Money(500_000), reason="cancelled", refund_key="b:1")
    assert owed.is_owed and owed.channel == RefundChannel.BANK_TRANSFER
    assert refund_request_manual(payment=va_paid, amount=Money(500_000), reason="again", refund_key="b:1").pk == owed.pk
    # the owed amount is reserved: nothing more can be refunded or owed
    with pytest.raises(ValidationError):
        refund_request_manual(payment=va_paid, amount=Money(1), reason="more")
    refund_set_account(refund=owed, bank_name="BCA", account_number="123-456 7890", account_holder="  Sari   Dewi ")
    owed.refresh_from_db()
    assert (owed.bank_name, owed.account_number, owed.account_holder) == ("BCA", "1234567890", "Sari Dewi")
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REFUNDED).exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = refund_record_manual(payment=va_paid, amount=Money(500_000), reason="cancelled",
                                    transfer_reference="TRF-001", refund_key="b:1")
    assert done.pk == owed.pk and done.status == RefundStatus.SUCCEEDED and done.transfer_reference == "TRF-001"
    with django_capture_on_commit_callbacks(execute=True):
        again = refund_record_manual(payment=va_paid, amount=Money(500_000), reason="cancelled",
                                     transfer_reference="TRF-001", refund_key="b:1")
    assert again.pk == done.pk
    va_paid.refresh_from_db()
    assert va_paid.status == Status.REFUNDED
    assert refunded_signals == [done.pk]
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFUNDED).count() == 1
    assert invoice_amounts(va_paid.invoice)["refunded"] == Money(500_000)
    ledger_verify(va_paid.invoice)


def test_record_without_owed_partial_then_rest(va_paid, refunded_signals, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refund_record_manual(payment=va_paid, amount=Money(200_000), reason="goodwill", transfer_reference="T1")
    va_paid.refresh_from_db()
    assert va_paid.status == Status.PARTIALLY_REFUNDED
    with pytest.raises(ValidationError):  # over-refund
        refund_record_manual(payment=va_paid, amount=Money(300_001), reason="x", transfer_reference="T2")
    with pytest.raises(ValidationError):  # other currency
        refund_record_manual(payment=va_paid, amount=Money(100, "USD"), reason="x", transfer_reference="T2")
    with django_capture_on_commit_callbacks(execute=True):
        refund_record_manual(payment=va_paid, amount=Money(300_000), reason="rest", transfer_reference="T2")
    va_paid.refresh_from_db()
    assert va_paid.status == Status.REFUNDED and len(refunded_signals) == 2
    ledger_verify(va_paid.invoice)


def test_validation(va_paid, ws, invoice_factory):
    with pytest.raises(ValidationError):
        refund_record_manual(payment=va_paid, amount=Money(1), reason="x", transfer_reference=" ")
    with pytest.raises(ValidationError):
        refund_record_manual(payment=va_paid, amount=Money(1), reason="", transfer_reference="T")
    owed = refund_request_manual(payment=va_paid, amount=Money(100), reason="x")
    for bad in ({"account_number": "12ab"}, {"bank_name": ""}, {"account_holder": ""},
                {"account_number": "4111 1111 1111 1111 1111 11"}):
        with pytest.raises(ValidationError):
            refund_set_account(refund=owed, **{"bank_name": "BCA", "account_number": "1234567",
                                               "account_holder": "Sari", **bad})
    unpaid = payment_start(invoice=invoice_factory(ws), idempotency_key="unpaid", method="va_bca")
    with pytest.raises(Conflict):
        refund_record_manual(payment=unpaid, amount=Money(1), reason="x", transfer_reference="T")
    done = refund_record_manual(payment=va_paid, amount=Money(100), reason="x", transfer_reference="T",
                                refund_key=owed.refund_key)
    with pytest.raises(Conflict):
        refund_set_account(refund=done, bank_name="BCA", account_number="1234567", account_holder="Sari")


def test_refund_receipt_email(smtp_server, va_paid, django_capture_on_commit_callbacks):
    owed = refund_request_manual(payment=va_paid, amount=Money(500_000), reason="cancelled")
    refund_set_account(refund=owed, bank_name="BCA", account_number="1234567890", account_holder="Sari")
    with django_capture_on_commit_callbacks(execute=True):
        refund_record_manual(payment=va_paid, amount=Money(500_000), reason="cancelled", transfer_reference="TRF-9",
                             refund_key=owed.refund_key)
    [mail] = smtp_server.wait_for(va_paid.invoice.client.email)
    body = mail.get_body(("plain",)).get_content()
    assert "TRF-9" in body and "****7890" in body and "500.000" in body


# --- staff screens ------------------------------------------------------------------------------


def _url(ws, payment, path=""):
    return f"/dashboard/{ws.slug}/payments/{payment.pk}/{path}"


def test_staff_sees_owed_refund_and_records_it(ws, client, va_paid):
    owed = refund_request_manual(payment=va_paid, amount=Money(500_000), reason="cancelled")
    refund_set_account(refund=owed, bank_name="Mandiri", account_number="1370001234567", account_holder="Sari")
    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    page = client.get(_url(ws, va_paid)).content.decode()
    assert "Mandiri" in page and "1370001234567" in page and 'value="500000"' in page
    r = client.post(_url(ws, va_paid, "refund-transfer/"), {
        "amount": "500000", "transfer_reference": "MDR-77", "reason": "cancelled", "refund_key": owed.refund_key,
        "next": "https://evil.example/",
    })
    assert r.status_code == 302 and r["Location"] == _url(ws, va_paid)
    owed.refresh_from_db()
    assert owed.status == RefundStatus.SUCCEEDED and owed.transfer_reference == "MDR-77"
    assert Refund.objects.count() == 1


@pytest.mark.parametrize("role,allowed", [("finance", True), ("admin", True), ("staff", False)])
def test_only_roles_that_refund_may_record(ws, client, member_factory, va_paid, role, allowed):
    client.force_login(member_factory(ws, role=role).user)
    r = client.post(_url(ws, va_paid, "refund-transfer/"),
                    {"amount": "1000", "transfer_reference": "T", "reason": "r"})
    assert (r.status_code == 302) is allowed
    assert Refund.objects.filter(status=RefundStatus.SUCCEEDED).exists() is allowed
