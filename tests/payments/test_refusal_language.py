"""The payment core's refusals read in the reader's language: Bahasa Indonesia by default, English for whoever
asks for it - through the REST API (Accept-Language) and on the staff pages - with the invoice's status and the
method named by their labels in that language, never by their codes."""

from __future__ import annotations

import json

import pytest

from jasa.accounts.services import apikey_create
from jasa.payments.models import InvoiceStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(ws, invoice_factory, pay_invoice):
    invoice = invoice_factory(ws, 1_000_000)
    pay_invoice(invoice, "lang", method="va_bca")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    return invoice


def _pay_again(client, ws, invoice, **headers):
    _key, raw = apikey_create(workspace=ws, name="lang", role="admin")
    return client.post(f"/api/v1/workspaces/{ws.slug}/invoices/{invoice.pk}/payments",
                       data=json.dumps({"method": "qris"}), content_type="application/json",
                       headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "again", **headers})


def test_an_api_refusal_is_indonesian_by_default_and_english_on_request(client, ws, paid):
    default = _pay_again(client, ws, paid)
    assert default.status_code == 409 and default.json()["code"] == "conflict"
    assert default.json()["detail"] == (f"Tagihan {paid.number} berstatus lunas; hanya tagihan yang belum dibayar "
                                        "yang dapat dibayar.")
    english = _pay_again(client, ws, paid, **{"Accept-Language": "en"})
    assert english.status_code == 409 and english.json()["code"] == "conflict"
    assert english.json()["detail"] == f"Invoice {paid.number} is paid; only an open invoice can be paid."


def test_an_api_field_error_names_the_method_in_the_readers_words(client, ws, invoice_factory):
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=ws, gateway="sandbox", is_default=True, enabled_methods=["va_bca"])
    invoice = invoice_factory(ws, 200_000)
    _key, raw = apikey_create(workspace=ws, name="lang", role="admin")

    def start(**headers):
        return client.post(f"/api/v1/workspaces/{ws.slug}/invoices/{invoice.pk}/payments",
                           data=json.dumps({"gateway": "sandbox", "method": "va_bni"}),
                           content_type="application/json", headers={"Authorization": f"Bearer {raw}", **headers})

    default, english = start(), start(**{"Accept-Language": "en"})
    assert default.status_code == english.status_code == 422
    assert default.json()["errors"] == [{"field": "method", "message": "Bisnis ini tidak menerima Virtual account BNI."}]
    assert english.json()["errors"] == [{"field": "method", "message": "This business does not accept BNI virtual account."}]


def test_a_staff_page_refusal_is_indonesian_by_default_and_english_in_the_english_ui(client, ws, member_factory,
                                                                                    paid):
    client.force_login(member_factory(ws, role="finance").user)
    url = f"/dashboard/{ws.slug}/invoices/{paid.pk}/void/"

    def flash(response) -> str:
        return " ".join(str(m) for m in response.context["messages"])

    default = client.post(url, {"void-reason": "ordered twice"}, follow=True)
    assert flash(default) == (f"Tagihan tidak dibatalkan: Tagihan {paid.number} berstatus lunas dan tidak dapat "
                              "dibatalkan; kembalikan dana pembayarannya.")
    english = client.post(url, {"void-reason": "ordered twice"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert flash(english) == (f"The invoice was not voided: Invoice {paid.number} is paid and cannot be voided; "
                              "refund its payments.")
    paid.refresh_from_db()
    assert paid.status == InvoiceStatus.PAID
