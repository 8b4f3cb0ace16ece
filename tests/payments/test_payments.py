"""Payments end to end through the in-test gateway: start, sync, ledger, invoice paid, receipts, signals."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.core import clock
from jasa.core.errors import Conflict, ValidationError
from jasa.core.money import Money
from jasa.payments import signals
from jasa.payments.gateways.base import GatewayError, Method, Status
from jasa.payments.models import InvoiceStatus, LedgerEntry, LedgerKind, LineKind, Receipt, SavedPaymentMethod
from jasa.payments.services import (
    GatewayUnavailable,
    invoice_amounts,
    ledger_verify,
    payment_charge_saved,
    payment_start,
    payment_sync,
    payments_reconcile,
)
from jasa.payments.services_config import gateway_account_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    got: list[tuple[str, dict]] = []

    def make(name):
        def receiver(sender, **kwargs):
            got.append((name, kwargs))
        return receiver

    receivers = {name: make(name) for name in ("invoice_paid", "payment_failed", "payment_refunded",
                                               "payment_status_changed")}
    for name, fn in receivers.items():
        getattr(signals, name).connect(fn, weak=False)
    yield got
    for name, fn in receivers.items():
        getattr(signals, name).disconnect(fn)


def kinds(payment):
    return sorted(LedgerEntry.objects.filter(payment=payment).values_list("kind", flat=True))


def test_start_hosted_checkout_then_paid(ws, invoice_factory, fakegw, received, django_capture_on_commit_callbacks):
    invoice = invoice_factory(ws, 750_000)
    payment = payment_start(invoice=invoice, idempotency_key="k1")
    assert payment.status == Status.REQUIRES_ACTION
    assert payment.checkout_url == f"https://pay.example.test/{payment.pk}"
    assert payment.next_action["kind"] == "redirect"
    assert payment.amount == Money(750_000)
    fakegw.set_status(payment.reference, Status.SUCCEEDED, method=Method.CARD)  # the client chose a card
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_sync(payment.pk)
    assert payment.method == "card"
    assert payment.status == Status.SUCCEEDED
    assert kinds(payment) == ["captured", "gateway_fee"]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice_amounts(invoice)["paid"] == Money(750_000)
    receipt = Receipt.objects.get(payment=payment)
    assert receipt.number.startswith("KWT/2026/") or receipt.number.startswith("KWT/")
    assert [n for n, _ in received].count("invoice_paid") == 1
    # a second sync (duplicate webhook) changes nothing and sends nothing
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(payment.pk)
    assert kinds(payment) == ["captured", "gateway_fee"]
    assert [n for n, _ in received].count("invoice_paid") == 1
    ledger_verify(invoice)


def test_same_key_same_payment_one_gateway_create(ws, invoice_factory, fakegw):
    invoice = invoice_factory(ws)
    a = payment_start(invoice=invoice, idempotency_key="same")
    b = payment_start(invoice=invoice, idempotency_key="same")
    assert a.pk == b.pk
    assert fakegw.create_calls == [a.reference]


def test_key_of_another_invoice_conflicts(ws, invoice_factory):
    payment_start(invoice=invoice_factory(ws), idempotency_key="k")
    with pytest.raises(Conflict):
        payment_start(invoice=invoice_factory(ws), idempotency_key="k")


def test_direct_va_gets_number(ws, invoice_factory):
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="va", method="va_bca")
    assert payment.status == Status.PROCESSING
    assert payment.next_action["kind"] == "va_number" and payment.next_action["va_number"].startswith("12345")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"method": "alfamart"}, "method"),
    ({"method": "nonsense"}, "method"),
    ({"amount": Money(2_000_000)}, "amount"),
    ({"amount": Money(0)}, "amount"),
    ({"amount": Money(100, "USD")}, "amount"),
    ({"gateway": "nope"}, "gateway"),
    ({"save_method": True, "method": "va_bca"}, "save_method"),
])
def test_start_refuses_bad_input(ws, invoice_factory, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        payment_start(invoice=invoice_factory(ws), idempotency_key="bad", **kwargs)
    assert exc.value.field == field


def test_draft_invoice_cannot_be_paid(ws, invoice_factory):
    with pytest.raises(Conflict):
        payment_start(invoice=invoice_factory(ws, issue=False), idempotency_key="d")


def test_partial_payments_then_paid(ws, invoice_factory, fakegw):
    invoice = invoice_factory(ws, 1_000_000)
    first = payment_start(invoice=invoice, idempotency_key="p1", amount=Money(300_000))
    fakegw.set_status(first.reference, Status.SUCCEEDED)
    payment_sync(first.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice_amounts(invoice)["balance"] == Money(700_000)
    second = payment_start(invoice=invoice, idempotency_key="p2")
    assert second.amount == Money(700_000)
    fakegw.set_status(second.reference, Status.SUCCEEDED)
    payment_sync(second.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert Receipt.objects.filter(invoice=invoice).count() == 2
    ledger_verify(invoice)


def test_failure_signals_once_and_is_terminal(ws, invoice_factory, fakegw, received,
                                             django_capture_on_commit_callbacks):
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="f")
    fakegw.set_status(payment.reference, Status.FAILED, failure_code="card_declined")
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(payment.pk)
        payment_sync(payment.pk)
    payment.refresh_from_db()
    assert payment.status == Status.FAILED and payment.failure_code == "card_declined"
    assert [n for n, _ in received].count("payment_failed") == 1
    # the gateway changing its mind later does not move a terminal state
    fakegw.set_status(payment.reference, Status.PROCESSING)
    assert payment_sync(payment.pk).status == Status.FAILED


def test_status_changed_signal_carries_old_and_new(ws, invoice_factory, fakegw, received,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_start(invoice=invoice_factory(ws), idempotency_key="s")
    changes = [(k["old"], k["new"]) for n, k in received if n == "payment_status_changed"]
    assert changes == [("created", "requires_action")]
    assert payment.status == Status.REQUIRES_ACTION


def test_surcharge_passed_on_becomes_invoice_line(ws, invoice_factory, fakegw):
    gateway_account_save(workspace=ws, gateway="testpay", is_default=True, fee_bearer="pass_on")
    invoice = invoice_factory(ws, 1_000_000)
    payment = payment_start(invoice=invoice, idempotency_key="sur", method="card")
    # card 2.9 % + Rp 2.000, grossed up so the business nets 1.000.000
    assert payment.surcharge == Money(31_926)
    assert payment.amount == Money(1_031_926)
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    payment_sync(payment.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    line = invoice.lines.get(kind=LineKind.SURCHARGE)
    assert line.line_amount == 31_926 and invoice.total == Money(1_031_926)
    fee = LedgerEntry.objects.get(payment=payment, kind=LedgerKind.GATEWAY_FEE).amount
    assert payment.gross_amount - fee >= 1_000_000
    ledger_verify(invoice)


def test_gateway_timeout_keeps_created_and_retry_finishes(ws, invoice_factory, fakegw):
    invoice = invoice_factory(ws)
    fakegw.fail_next.append(GatewayError("timeout"))
    with pytest.raises(GatewayUnavailable):
        payment_start(invoice=invoice, idempotency_key="t")
    payment = payment_start(invoice=invoice, idempotency_key="t")
    assert payment.status == Status.REQUIRES_ACTION


def test_crash_between_gateway_call_and_commit_is_repaired(ws, invoice_factory, fakegw, monkeypatch, frozen_clock):
    """The gateway charged, the process died before recording it: reconciliation asks, never charges again."""
    from jasa.payments import services

    invoice = invoice_factory(ws)

    def crash(*args, **kwargs):
        raise SystemExit("killed")

    monkeypatch.setattr(services, "_apply", crash)
    with pytest.raises(SystemExit):
        payment_start(invoice=invoice, idempotency_key="crash")
    monkeypatch.undo()
    payment = invoice.payments.get()
    assert payment.status == Status.CREATED and payment.submitted_at is None
    fakegw.set_status(payment.reference, Status.SUCCEEDED)  # the client paid meanwhile
    clock.advance(dt.timedelta(minutes=5))
    assert payments_reconcile()["changed"] == 1
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED
    assert fakegw.create_calls == [payment.reference]  # one create: no second charge
    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerKind.CAPTURED).count() == 1
    ledger_verify(invoice)


def test_never_submitted_payment_fails_after_grace(ws, invoice_factory, fakegw, monkeypatch, frozen_clock):
    from jasa.payments import services

    invoice = invoice_factory(ws)
    monkeypatch.setattr(services, "_submit", lambda p: p)  # died before calling the gateway
    payment = payment_start(invoice=invoice, idempotency_key="lost")
    monkeypatch.undo()
    clock.advance(dt.timedelta(minutes=5))
    payments_reconcile()
    payment.refresh_from_db()
    assert payment.status == Status.FAILED and payment.failure_code == "not_submitted"
    assert fakegw.create_calls == []


def test_reconcile_expires_unpaid_qris(ws, invoice_factory, fakegw, frozen_clock, received,
                                       django_capture_on_commit_callbacks):
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="q", method="qris")
    clock.advance(dt.timedelta(minutes=10))
    payments_reconcile()
    payment.refresh_from_db()
    assert payment.status == Status.REQUIRES_ACTION  # not yet past 15 minutes
    clock.advance(dt.timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        payments_reconcile()
    payment.refresh_from_db()
    assert payment.status == Status.EXPIRED
    assert fakegw.world[payment.reference]["status"] == Status.CANCELED  # cancelled at the gateway too
    assert [n for n, _ in received].count("payment_failed") == 1


def test_reconcile_does_not_expire_what_was_paid(ws, invoice_factory, fakegw, frozen_clock):
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="q2", method="qris")
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    clock.advance(dt.timedelta(minutes=20))
    payments_reconcile()
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED


def test_save_method_then_charge_off_session(ws, invoice_factory, fakegw, pay_invoice):
    invoice = invoice_factory(ws)
    pay_invoice(invoice, "save", method="card", save_method=True)
    saved = SavedPaymentMethod.objects.get(client=invoice.client)
    assert saved.masked == "481111******1114" and saved.token.startswith("tok-")
    assert str(saved) == "visa 481111******1114 (12/30)"
    renewal = invoice_factory(ws, 99_000, client=invoice.client)
    charged = payment_charge_saved(invoice=renewal, saved_method=saved, idempotency_key="sub:1:2026-12")
    assert charged.status == Status.SUCCEEDED and charged.off_session
    again = payment_charge_saved(invoice=renewal, saved_method=saved, idempotency_key="sub:1:2026-12")
    assert again.pk == charged.pk
    assert fakegw.create_calls.count(charged.reference) == 1
    renewal.refresh_from_db()
    assert renewal.status == InvoiceStatus.PAID


def test_declined_off_session_charge_fails(ws, invoice_factory, fakegw, client_factory):
    client = client_factory(ws)
    saved = SavedPaymentMethod.objects.create(workspace=ws, client=client, gateway="testpay", token="tok-decline",
                                              method="card", consent_at=clock.now())
    invoice = invoice_factory(ws, client=client)
    payment = payment_charge_saved(invoice=invoice, saved_method=saved, idempotency_key="r1")
    assert payment.status == Status.FAILED and payment.failure_code == "card_declined"


def test_default_gateway_is_sandbox_without_accounts(workspace):
    from jasa.payments.connect import default_gateway_name

    assert default_gateway_name(workspace) == "sandbox"


def test_credentials_are_encrypted(ws, settings):
    import base64

    from jasa.core.audit import for_object
    from jasa.payments.models import GatewayAccount

    secret = "sk_live_51Hjasa-very-secret-key"
    gateway_account_save(workspace=ws, gateway="testpay", credentials={"key": secret}, is_default=True)
    stored = GatewayAccount.objects.filter(workspace=ws, gateway="testpay").values_list(
        "credentials_encrypted", flat=True).get()  # the column as the database holds it
    assert secret not in stored and "key" not in stored and "sk_live" not in stored
    assert secret.encode() not in base64.urlsafe_b64decode(stored)  # not merely base64 of the plain text
    assert base64.urlsafe_b64decode(stored)[0] == 0x80  # a Fernet token: its version byte
    account = GatewayAccount.objects.get(workspace=ws, gateway="testpay")
    assert account.credentials == {"key": secret}
    assert all(secret not in repr((e.before, e.after)) for e in for_object(account))  # nor in the audit log
    gateway_account_save(workspace=ws, gateway="testpay", credentials={"key": secret}, is_default=True)
    again = GatewayAccount.objects.get(pk=account.pk)
    assert again.credentials_encrypted != stored and again.credentials == {"key": secret}  # a fresh IV each time
    settings.JASA_ENCRYPTION_KEY = "another instance's key"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        GatewayAccount.objects.get(pk=account.pk).credentials  # noqa: B018 - a property that decrypts


def test_sync_gateway_down_is_503_error_and_changes_nothing(ws, invoice_factory, fakegw):
    payment = payment_start(invoice=invoice_factory(ws), idempotency_key="down")
    fakegw.fail_next.append(GatewayError("502 from gateway"))
    with pytest.raises(GatewayUnavailable) as exc:
        payment_sync(payment.pk)
    assert exc.value.status == 503
    payment.refresh_from_db()
    assert payment.status == Status.REQUIRES_ACTION


def test_money_history_is_deleted_only_with_its_workspace(ws, invoice_factory, pay_invoice):
    from django.db.models import RestrictedError

    from jasa.payments.models import Invoice

    invoice = invoice_factory(ws)
    pay_invoice(invoice, "del")
    with pytest.raises(RestrictedError):
        invoice.client.delete()
    with pytest.raises(RestrictedError):
        Invoice.objects.filter(pk=invoice.pk).delete()
    ws.delete()  # tenant deletion takes everything with it
    assert not Invoice.objects.filter(pk=invoice.pk).exists()
    assert not LedgerEntry.objects.exists()


def test_saving_a_method_is_refused_where_the_gateway_cannot_keep_any(ws, invoice_factory, fakegw, monkeypatch):
    from jasa.payments.gateways.base import Capabilities

    monkeypatch.setattr(fakegw, "methods", {Method.VA_BCA: Capabilities(refund=False, partial_refund=False)})
    with pytest.raises(ValidationError) as refused:
        payment_start(invoice=invoice_factory(ws), idempotency_key="keep", save_method=True)
    assert refused.value.field == "save_method"
