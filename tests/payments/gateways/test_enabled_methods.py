"""The methods a business enabled, through the payment core and the real adapters over HTTP: a hosted page
lists only those, a direct payment by another is refused, and money collected by a method that is not
enabled (the gateway's page offered it anyway) is kept with a warning in the audit trail."""

from __future__ import annotations

import json
import logging

import pytest

from jasa.core.audit import for_object
from jasa.core.errors import ValidationError
from jasa.payments.gateways.base import Status
from jasa.payments.models import LedgerKind, PaymentIntent
from jasa.payments.services import payment_start, payment_sync

pytestmark = pytest.mark.django_db


def _credentials(gateway: str, fake) -> dict[str, str]:
    if gateway == "midtrans":
        return {"server_key": fake.server_key, "core_api_url": fake.url, "snap_url": f"{fake.url}/snap/v1"}
    if gateway == "xendit":
        return {"secret_key": fake.secret_key, "callback_token": fake.callback_token, "api_base": fake.url}
    return {"secret_key": fake.secret_key, "webhook_secret": fake.webhook_secret, "api_base": fake.url}


@pytest.fixture
def business(workspace, request):
    """``business(gateway, enabled_methods)`` -> (workspace, that gateway's running fake)."""
    from jasa.payments.services_config import gateway_account_save

    def make(gateway: str, enabled_methods: list[str]):
        fake = request.getfixturevalue(f"fake_{gateway}")
        gateway_account_save(workspace=workspace, gateway=gateway, credentials=_credentials(gateway, fake),
                             is_default=True, enabled_methods=enabled_methods)
        return workspace, fake

    return make


def _sent_methods(gateway: str, fake) -> list[str] | None:
    if gateway == "midtrans":
        return fake.last("POST", "/snap/v1/transactions").json().get("enabled_payments")
    if gateway == "xendit":
        return fake.last("POST", "/v2/invoices").json().get("payment_methods")
    form = fake.last("POST", "/v1/checkout/sessions").form()
    return [v[-1] for k, v in sorted(form.items()) if k.startswith("payment_method_types[")]


@pytest.mark.parametrize(("gateway", "enabled", "sent"), [
    ("midtrans", ["va_bca", "qris", "card"], ["bca_va", "other_qris", "credit_card"]),
    ("midtrans", ["va_mandiri", "alfamart"], ["echannel", "alfamart"]),
    ("midtrans", [], None),  # nothing ticked: every method, so Snap gets no list
    ("xendit", ["dana", "va_mandiri"], ["DANA", "MANDIRI"]),
    ("xendit", ["card", "qris", "indomaret"], ["CREDIT_CARD", "QRIS", "INDOMARET"]),
    ("xendit", [], None),
    ("stripe", ["card"], ["card"]),
])
def test_hosted_page_offers_exactly_the_enabled_methods(business, invoice_factory, gateway, enabled, sent):
    ws, fake = business(gateway, enabled)
    payment = payment_start(invoice=invoice_factory(ws, 200_000), idempotency_key="k1", gateway=gateway,
                            return_url="https://jasa.example/done")
    assert payment.status == Status.REQUIRES_ACTION and payment.checkout_url
    assert _sent_methods(gateway, fake) == sent


def test_direct_payment_by_a_disabled_method_is_refused_before_the_gateway(business, invoice_factory):
    ws, fake = business("midtrans", ["va_bca", "qris"])
    invoice = invoice_factory(ws, 200_000)
    with pytest.raises(ValidationError) as exc:
        payment_start(invoice=invoice, idempotency_key="k1", gateway="midtrans", method="va_bni")
    assert exc.value.message == "Bisnis ini tidak menerima Virtual account BNI."  # the method by its name, in id
    assert exc.value.field == "method"
    assert not fake.requests and not PaymentIntent.objects.exists()
    # An enabled one goes through.
    assert payment_start(invoice=invoice, idempotency_key="k2", gateway="midtrans", method="va_bca").status \
        == Status.REQUIRES_ACTION


def test_the_api_answers_a_disabled_method_with_422(business, invoice_factory, client):
    from jasa.accounts.services import apikey_create

    ws, fake = business("midtrans", ["va_bca"])
    invoice = invoice_factory(ws, 200_000)
    _key, raw = apikey_create(workspace=ws, name="test", role="admin")
    response = client.post(f"/api/v1/workspaces/{ws.slug}/invoices/{invoice.pk}/payments",
                           data=json.dumps({"gateway": "midtrans", "method": "gopay"}),
                           content_type="application/json", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 422, response.content
    error = response.json()["errors"][0]
    assert error["field"] == "method" and error["message"] == "Bisnis ini tidak menerima GoPay."
    assert not fake.requests


def _paid_invoice_page(business, invoice_factory, channel: str):
    ws, fake = business("xendit", ["va_bca", "qris"])
    invoice = invoice_factory(ws, 250_000)
    payment = payment_start(invoice=invoice, idempotency_key=f"k-{channel}", gateway="xendit",
                            return_url="https://jasa.example/done")
    fake.set_invoice(payment.gateway_reference, "PAID", paid_amount=250_000, payment_channel=channel)
    return payment_sync(payment.pk), invoice


def test_money_paid_by_a_method_that_is_not_enabled_is_kept_with_a_warning(business, invoice_factory, caplog):
    with caplog.at_level(logging.WARNING, logger="jasa.payments.services"):
        payment, invoice = _paid_invoice_page(business, invoice_factory, "OVO")
    invoice.refresh_from_db()
    assert payment.status == Status.SUCCEEDED and payment.method == "ovo"
    assert invoice.status == "paid"  # the money was collected: the invoice is paid, with its receipt
    assert payment.ledger.filter(kind=LedgerKind.CAPTURED, amount=250_000).count() == 1
    warning = for_object(payment).get(action="payment.method_not_enabled")
    assert warning.after["method"] == "ovo" and warning.after["enabled"] == ["va_bca", "qris"]
    assert "not enabled for xendit" in warning.after["warning"]
    assert any("not enabled" in r.getMessage() for r in caplog.records)
    payment_sync(payment.pk)  # re-reading again warns no second time: the payment did not move
    assert for_object(payment).filter(action="payment.method_not_enabled").count() == 1


def test_money_paid_by_an_enabled_method_has_no_warning(business, invoice_factory):
    payment, _ = _paid_invoice_page(business, invoice_factory, "BCA")
    assert payment.status == Status.SUCCEEDED and payment.method == "va_bca"
    assert not for_object(payment).filter(action="payment.method_not_enabled").exists()


@pytest.mark.parametrize(("language", "says"), [
    ("en", ["Paid by OVO, a method not enabled for xendit", "The money was collected, so it is kept"]),
    ("id", ["Dibayar dengan OVO, metode pembayaran yang tidak diaktifkan untuk xendit",
            "Uangnya sudah diterima, jadi tetap disimpan"]),
])
def test_the_staff_payment_page_says_so_and_what_to_do(business, invoice_factory, client, language, says):
    from jasa.accounts.models import Membership

    payment, _ = _paid_invoice_page(business, invoice_factory, "OVO")
    client.force_login(Membership.objects.get(workspace=payment.workspace, role="owner").user)
    url = f"/dashboard/{payment.workspace.slug}/payments/{payment.pk}/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert 'id="method-not-enabled" data-method="ovo"' in page
    for text in says:
        assert text in page
    # A payment by an enabled method has no such notice.
    other, _ = _paid_invoice_page(business, invoice_factory, "BCA")
    assert 'id="method-not-enabled"' not in client.get(
        f"/dashboard/{other.workspace.slug}/payments/{other.pk}/").content.decode()
