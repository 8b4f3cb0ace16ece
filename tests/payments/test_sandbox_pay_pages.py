"""The client's pay page, status page and receipts, end to end with the sandbox gateway (test client)."""

# ruff: noqa: F811 - pytest fixtures imported from tests.sandbox.fixtures
from __future__ import annotations

import pytest
from django.urls import reverse

from jasa.payments.gateways.base import Status
from jasa.payments.models import PaymentIntent, Receipt
from jasa.payments.views_client import pay_token, pay_url
from jasa.sandbox import services as sandbox
from jasa.sandbox import webhooks
from jasa.sandbox.models import SandboxPayment, SandboxWebhook
from tests.sandbox.fixtures import merchant  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(workspace, merchant, invoice_factory, user_factory, client_factory):
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=workspace, gateway="sandbox", credentials=merchant.credentials, is_default=True)
    buyer = client_factory(workspace, user=user_factory(email="budi@example.test"), email="budi@example.test")
    return invoice_factory(workspace, 1_500_000, client=buyer)


def _path(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[-1]


def test_pay_link_needs_the_token_or_the_clients_login(client, invoice):
    url = reverse("payments:pay", args=[invoice.pk])
    assert client.get(url).status_code == 404
    assert client.get(url + "?t=forged").status_code == 404
    page = client.get(_path(pay_url(invoice)), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert invoice.number in page and "Konsultasi 60 menit" in page and "IDR 1,500,000" in page
    assert 'value="va_bca"' in page and 'value="card"' in page
    page_id = client.get(_path(pay_url(invoice)), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Sisa tagihan" in page_id and "Rp" in page_id
    client.force_login(invoice.client.user)
    assert client.get(url).status_code == 200


def test_va_payment_from_pay_page_to_receipt(client, invoice):
    token = pay_token(invoice)
    page = client.get(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}")
    attempt = page.context["attempt"]
    response = client.post(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}",
                           {"method": "va_bca", "attempt": attempt})
    assert response.status_code == 302 and "/sandbox/checkout/sbx_" in response["Location"]
    # a double submit of the same page starts no second payment
    client.post(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}", {"method": "va_bca", "attempt": attempt})
    payment = PaymentIntent.objects.get(invoice=invoice)
    assert payment.status == Status.REQUIRES_ACTION and payment.next_action["va_number"]
    status_url = reverse("payments:pay_status", args=[invoice.pk, payment.pk]) + f"?t={token}"
    assert status_url in client.get(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}").content.decode()
    poll = client.get(reverse("payments:pay_status_poll", args=[invoice.pk, payment.pk]) + f"?t={token}")
    assert 'hx-trigger="every 2s"' in poll.content.decode()
    assert payment.next_action["va_number"] in poll.content.decode()  # the instructions, for any gateway

    sandbox.payment_simulate(SandboxPayment.objects.get(reference=payment.reference).pk)
    poll = client.get(reverse("payments:pay_status_poll", args=[invoice.pk, payment.pk]) + f"?t={token}")
    html = poll.content.decode()
    assert "hx-trigger" not in html and 'id="receipt-pdf"' in html
    payment.refresh_from_db()
    receipt = Receipt.objects.get(payment=payment)
    assert payment.status == Status.SUCCEEDED and receipt.invoice.pk == invoice.pk
    pdf_link = poll.context["receipt_links"]["pdf_path"]
    assert client.get(pdf_link).content[:4] == b"%PDF"
    assert client.get(status_url).status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert 'id="invoice-paid"' in client.get(_path(pay_url(invoice))).content.decode()


def test_hosted_card_payment_and_return_link(client, invoice):
    token = pay_token(invoice)
    response = client.post(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}", {"method": "", "attempt": "a1"})
    checkout = _path(response["Location"])
    sbx = SandboxPayment.objects.get()
    assert sbx.method == "" and sbx.return_url.startswith("http://127.0.0.1:8000/pay/")
    client.post(checkout + "method/", {"method": "card"})
    client.post(checkout + "card/", {"number": "4811 1111 1111 1114", "expiry": "12/30", "cvc": "123"})
    back = client.get(_path(sbx.return_url))
    payment = PaymentIntent.objects.get(invoice=invoice)
    assert back.status_code == 302 and back["Location"].startswith(
        reverse("payments:pay_status", args=[invoice.pk, payment.pk]))
    page = client.get(back["Location"]).content.decode()
    assert 'id="receipt-html"' in page
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED and payment.method == "card"


def test_declined_card_offers_to_try_again(client, invoice):
    token = pay_token(invoice)
    response = client.post(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}", {"method": "card"})
    checkout = _path(response["Location"])
    client.post(checkout + "card/", {"number": "4411111111111118", "expiry": "12/30", "cvc": "123"})
    payment = PaymentIntent.objects.get(invoice=invoice)
    page = client.get(reverse("payments:pay_status", args=[invoice.pk, payment.pk]) + f"?t={token}",
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="try-again"' in page and "insufficient funds" in page


def test_signed_sandbox_webhook_is_accepted_by_jasas_endpoint(client, invoice):
    token = pay_token(invoice)
    client.post(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}", {"method": "qris"})
    payment = PaymentIntent.objects.get(invoice=invoice)
    sandbox.payment_simulate(SandboxPayment.objects.get(reference=payment.reference).pk)
    paid = SandboxWebhook.objects.get(event_type="payment.paid")
    headers, body = webhooks.build(paid)
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"}
    response = client.post("/webhooks/sandbox", body, content_type="application/json", **extra)
    assert response.status_code == 200
    forged = client.post("/webhooks/sandbox", body.replace(b"paid", b"p4id"), content_type="application/json",
                         **extra)
    assert forged.status_code == 400


def test_portal_lists_the_clients_receipts(client, invoice, workspace_factory, invoice_factory):
    token = pay_token(invoice)
    client.post(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}", {"method": "va_bni"})
    payment = PaymentIntent.objects.get(invoice=invoice)
    sandbox.payment_simulate(SandboxPayment.objects.get(reference=payment.reference).pk)
    client.get(reverse("payments:pay_status", args=[invoice.pk, payment.pk]) + f"?t={token}")
    url = reverse("payments:portal_receipts")
    assert client.get(url).status_code == 302
    client.force_login(invoice.client.user)
    page = client.get(url).content.decode()
    receipt = Receipt.objects.get()
    assert receipt.number in page and f"/receipts/{receipt.pk}/pdf/" in page
    stranger = invoice.client.user.__class__.objects.create_user(email="other@example.test")
    client.force_login(stranger)
    assert receipt.number not in client.get(url).content.decode()


def test_checkout_lists_the_methods_the_business_enabled(client, invoice, merchant):
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=invoice.workspace, gateway="sandbox", credentials=merchant.credentials,
                         is_default=True, enabled_methods=["card", "va_bca"])
    token = pay_token(invoice)
    pay_page = client.get(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}").content.decode()
    assert 'value="va_bca"' in pay_page and 'value="qris"' not in pay_page
    response = client.post(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}", {"method": ""})
    checkout = _path(response["Location"])
    page = client.get(checkout).content.decode()
    assert 'value="card"' in page and 'value="va_bca"' in page and 'value="qris"' not in page
    client.post(checkout + "method/", {"method": "qris"})
    assert SandboxPayment.objects.get().method == ""


def test_checkout_shows_a_passed_on_fee(client, invoice, merchant):
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=invoice.workspace, gateway="sandbox", credentials=merchant.credentials,
                         is_default=True, fee_bearer="pass_on")
    token = pay_token(invoice)
    response = client.post(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}", {"method": "va_bca"})
    payment = PaymentIntent.objects.get(invoice=invoice)
    assert payment.surcharge_amount > 0
    page = client.get(_path(response["Location"]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"IDR {payment.surcharge_amount:,}" in page and "service fee" in page


def test_status_page_draws_the_qr_of_a_pending_qris_payment(client, invoice):
    token = pay_token(invoice)
    response = client.post(reverse("payments:pay", args=[invoice.pk]) + f"?t={token}", {"method": "qris"})
    assert "/sandbox/checkout/" in response["Location"]
    payment = PaymentIntent.objects.get(invoice=invoice)
    page = client.get(reverse("payments:pay_status", args=[invoice.pk, payment.pk]) + f"?t={token}")
    assert 'id="status-qr"' in page.content.decode()
    png = client.get(page.context["qr_url"])
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert client.get(reverse("payments:pay_qr", args=[invoice.pk, payment.pk])).status_code == 404  # no token


def test_portal_shows_each_business_invoices_with_pay_links(client, invoice):
    client.force_login(invoice.client.user)
    page = client.get(reverse("web:portal")).content.decode()
    assert invoice.number in page and reverse("payments:pay", args=[invoice.pk]) in page
    assert reverse("payments:portal_receipts") in page
