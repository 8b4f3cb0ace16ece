"""POST /api/v1/workspaces/{slug}/invoices/{id}/payments with ``saved_method_id``: an off-session charge of the
client's saved method through payment_charge_saved, with the Idempotency-Key behaviour of starting a payment,
and a clear 4xx for every method that cannot be charged. Who may do it: tests/accounts/test_permissions.py."""

# ruff: noqa: F811 - pytest fixtures imported from tests.payments.test_api and tests.sandbox.fixtures
from __future__ import annotations

import pytest

from jasa.core import clock
from jasa.payments.models import InvoiceStatus, PaymentIntent, SavedPaymentMethod
from tests.payments.test_api import api, buyer  # noqa: F401 - fixtures
from tests.sandbox.fixtures import merchant  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def _saved(ws, client, *, gateway="testpay", token="tok-1", method="card", **fields) -> SavedPaymentMethod:
    fields = {"brand": "visa", "masked": "481111******1114", "expiry_month": 12, "expiry_year": 2030, **fields}
    return SavedPaymentMethod.objects.create(workspace=ws, client=client, gateway=gateway, token=token,
                                             method=method, consent_at=clock.now(), **fields)


def _charge(api, invoice, saved, key="charge-1", **body):
    return api("post", f"/invoices/{invoice.pk}/payments", {"saved_method_id": str(saved.pk), **body}, key=key)


def test_charge_pays_the_balance_once_per_key(api, ws, buyer, invoice_factory, fakegw):
    invoice = invoice_factory(ws, 750_000, client=buyer)
    saved = _saved(ws, buyer)
    first = _charge(api, invoice, saved)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["status"] == "succeeded" and body["saved_method_id"] == str(saved.pk)
    assert body["gateway"] == "testpay" and body["method"] == "card"
    assert body["amount"] == {"amount": 750_000, "currency": "IDR"}
    again = _charge(api, invoice, saved)
    assert again.json() == body and again["Idempotent-Replayed"] == "true"
    other_body = api("post", f"/invoices/{invoice.pk}/payments",
                     {"saved_method_id": str(saved.pk), "idempotency_key": "x"}, key="charge-1")
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_mismatch"
    payment = PaymentIntent.objects.get()
    assert payment.off_session and payment.saved_method == saved and payment.idempotency_key == "charge-1"
    assert fakegw.create_calls.count(payment.reference) == 1
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    # the invoice is paid: a new charge (another key) has nothing to collect
    late = _charge(api, invoice, saved, key="charge-2")
    assert late.status_code == 409 and late.json()["detail"] == (
        f"Tagihan {invoice.number} berstatus lunas; hanya tagihan yang belum dibayar yang dapat dibayar.")


def test_the_body_key_without_the_header_is_the_payments_key_too(api, ws, buyer, invoice_factory, fakegw):
    invoice = invoice_factory(ws, client=buyer)
    saved = _saved(ws, buyer)
    one = _charge(api, invoice, saved, key=None, idempotency_key="renewal:2026-12")
    two = _charge(api, invoice, saved, key=None, idempotency_key="renewal:2026-12")
    assert one.status_code == two.status_code == 201 and one.json()["id"] == two.json()["id"]
    assert PaymentIntent.objects.get().idempotency_key == "renewal:2026-12"


@pytest.mark.parametrize(("token", "status", "failure_code"), [
    ("tok_sandbox_success", "succeeded", ""),
    ("tok_sandbox_declined", "failed", "card_declined"),
    ("tok_sandbox_insufficient", "failed", "insufficient_funds"),
])
def test_the_sandbox_answers_each_outcome(api, workspace, merchant, buyer, invoice_factory, token, status,
                                          failure_code):
    invoice = invoice_factory(workspace, client=buyer)  # no gateway set up: the sandbox is the default
    saved = _saved(workspace, buyer, gateway="sandbox", token=token)
    r = _charge(api, invoice, saved)
    assert r.status_code == 201, r.content
    assert (r.json()["status"], r.json()["failure_code"]) == (status, failure_code)
    if status == "failed":
        assert r.json()["failure_message"]  # says why, for the staff to tell the client


def test_a_bank_that_wants_the_client_gives_the_confirmation_page(api, workspace, merchant, buyer, invoice_factory):
    saved = _saved(workspace, buyer, gateway="sandbox", token="tok_sandbox_needs_auth")
    r = _charge(api, invoice_factory(workspace, client=buyer), saved)
    assert r.status_code == 201 and r.json()["status"] == "requires_action"
    assert "/sandbox/checkout/" in r.json()["next_action"]["url"]


def _error(response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["errors"][0]["field"], body["detail"]


def test_a_removed_method_is_refused(api, ws, buyer, invoice_factory, fakegw):
    saved = _saved(ws, buyer, is_active=False)
    status, field, detail = _error(_charge(api, invoice_factory(ws, client=buyer), saved))
    assert (status, field) == (422, "saved_method_id") and detail == "Metode tersimpan tersebut sudah dihapus."
    assert not PaymentIntent.objects.exists()


def test_another_clients_method_is_refused(api, ws, buyer, invoice_factory, client_factory, fakegw):
    saved = _saved(ws, client_factory(ws))
    status, field, detail = _error(_charge(api, invoice_factory(ws, client=buyer), saved))
    assert (status, field) == (422, "saved_method_id") and detail == "Metode tersimpan tersebut milik klien lain."
    assert not PaymentIntent.objects.exists()


def test_another_workspaces_method_does_not_exist(api, ws, buyer, invoice_factory, workspace_factory,
                                                  client_factory, fakegw):
    other = workspace_factory()
    saved = _saved(other, client_factory(other))
    status, field, _detail = _error(_charge(api, invoice_factory(ws, client=buyer), saved))
    assert (status, field) == (404, "saved_method_id")
    unknown = api("post", f"/invoices/{invoice_factory(ws, client=buyer).pk}/payments",
                  {"saved_method_id": "00000000-0000-4000-8000-000000000000"})
    assert _error(unknown)[:2] == (404, "saved_method_id")
    assert not PaymentIntent.objects.exists()


def test_a_method_the_gateway_cannot_charge_off_session_is_refused(api, ws, buyer, invoice_factory, fakegw):
    saved = _saved(ws, buyer, method="qris", brand="", masked="", expiry_month=None, expiry_year=None)
    status, field, detail = _error(_charge(api, invoice_factory(ws, client=buyer), saved))
    assert (status, field) == (422, "saved_method_id") and detail == "Test gateway tidak dapat menagih QRIS tersimpan tanpa kehadiran klien."
    assert not PaymentIntent.objects.exists()


def test_an_expired_card_is_not_tried(api, ws, buyer, invoice_factory, fakegw, frozen_clock):
    # the clock stands on 2 December 2026
    expired = _saved(ws, buyer, expiry_month=11, expiry_year=2026)
    status, field, detail = _error(_charge(api, invoice_factory(ws, client=buyer), expired))
    assert (status, field) == (422, "saved_method_id") and "11/2026" in detail
    assert fakegw.create_calls == [] and not PaymentIntent.objects.exists()
    current = _saved(ws, buyer, token="tok-2", expiry_month=12, expiry_year=2026)  # valid to the month's end
    assert _charge(api, invoice_factory(ws, client=buyer), current, key="c2").status_code == 201


def test_an_expired_card_is_explained_in_indonesian(api, ws, buyer, invoice_factory, fakegw):
    saved = _saved(ws, buyer, expiry_month=1, expiry_year=2024)
    r = api("post", f"/invoices/{invoice_factory(ws, client=buyer).pk}/payments", {"saved_method_id": str(saved.pk)})
    assert r.status_code == 422 and "kedaluwarsa" in r.json()["detail"]  # the default language is Indonesian


@pytest.mark.parametrize("extra", [{"method": "card"}, {"gateway": "testpay"}, {"save_method": False},
                                   {"amount": {"amount": 1000, "currency": "IDR"}},
                                   {"return_url": "https://example.test/back"}])
def test_what_the_saved_method_decides_is_left_out(api, ws, buyer, invoice_factory, fakegw, extra):
    saved = _saved(ws, buyer)
    status, field, detail = _error(_charge(api, invoice_factory(ws, client=buyer), saved, **extra))
    assert (status, field) == (422, next(iter(extra))) and next(iter(extra)) in detail
    assert not PaymentIntent.objects.exists()


def test_a_malformed_saved_method_id_is_422(api, ws, buyer, invoice_factory, fakegw):
    r = api("post", f"/invoices/{invoice_factory(ws, client=buyer).pk}/payments", {"saved_method_id": "tok-1"})
    assert _error(r)[:2] == (422, "saved_method_id")
