"""In Chromium: a client pays an invoice in the sandbox with every method (card with and without 3-D Secure,
each bank's virtual account, QRIS, each e-wallet, each convenience store) through the pay page, the sandbox
checkout and the method's own page, ending on the paid state with a receipt; a declined card and a declined
e-wallet payment say why and what to do next, and the next step works."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from jasa.core.money import Money
from jasa.payments.gateways.base import Method


@pytest.fixture
def setup(transactional_db, live_server, settings, workspace, user_factory):
    from jasa.accounts.models import Client
    from jasa.payments.services import invoice_create, invoice_issue
    from jasa.payments.services_config import gateway_account_save
    from jasa.sandbox.services import merchant_for_workspace

    settings.SITE_URL = live_server.url  # checkout links, return links and webhooks all go to this server
    gateway_account_save(workspace=workspace, gateway="sandbox", is_default=True,
                         credentials=merchant_for_workspace(workspace).credentials)
    buyer = Client.objects.create(workspace=workspace, name="Budi Klien", email="budi@example.test",
                                  user=user_factory(email="budi@example.test"))

    def invoice(amount: int):
        draft = invoice_create(workspace=workspace, client=buyer, lines=[
            {"kind": "service", "description": "Konsultasi 60 menit", "amount": Money(amount)}])
        return invoice_issue(draft)

    return invoice


def _type_card(page, number: str) -> None:
    page.fill("#card-number", number)
    page.fill("#card-expiry", "12/30")
    page.fill("#card-cvc", "123")
    page.click("#card-pay")


def _continue_with(page, method: str) -> None:
    """On the pay page: choose the method ("" leaves it to the gateway's page) and go to the sandbox checkout."""
    page.check(f'input[name="method"][value="{method}"]')
    page.click("#pay-continue")
    page.wait_for_url("**/sandbox/checkout/**")


def _receipt_pdf(page) -> bytes:
    href = page.locator("#receipt-pdf").get_attribute("href")
    response = page.request.get(urljoin(page.url, href))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    return response.body()


@pytest.mark.browser
def test_pay_by_card_with_3ds(setup, page):
    from jasa.payments.views_client import pay_url

    invoice = setup(750_000)
    page.goto(pay_url(invoice))
    expect(page.locator("#balance")).to_contain_text("750.000")
    _continue_with(page, "card")
    expect(page.locator("#amount")).to_contain_text("750.000")
    _type_card(page, "4000 0000 0000 3220")
    page.fill("#otp", "112233")
    page.click("#otp-submit")
    expect(page.locator("#checkout")).to_have_attribute("data-status", "paid")
    page.click("#return-link")
    expect(page.locator("#pay-status")).to_have_attribute("data-status", "succeeded")
    assert _receipt_pdf(page)[:4] == b"%PDF"
    invoice.refresh_from_db()
    assert invoice.status == "paid"


@pytest.mark.browser
def test_pay_by_bca_virtual_account_with_simulate_panel(setup, page):
    from jasa.payments.views_client import pay_url

    invoice = setup(1_250_000)
    page.goto(pay_url(invoice))
    _continue_with(page, "va_bca")
    checkout_url = page.url
    assert page.locator("#va-number").inner_text().startswith("12345")
    # the client goes back to the business and waits there; the page polls while they pay
    page.get_by_role("link", name="Kembali ke bisnis tanpa membayar").click()
    expect(page.locator("#pay-status")).to_have_attribute("data-status", "requires_action")
    bank = page.context.new_page()
    bank.goto(checkout_url)
    bank.click("#simulate-pay")
    expect(bank.locator("#checkout")).to_have_attribute("data-status", "paid")
    bank.close()
    expect(page.locator("#pay-status")).to_have_attribute("data-status", "succeeded")
    assert _receipt_pdf(page)[:4] == b"%PDF"
    # the sandbox's signed notifications reached jasa's endpoint over HTTP and were stored once each
    from jasa.payments.models import WebhookEvent
    from jasa.sandbox.models import SandboxWebhook

    sent = SandboxWebhook.objects.filter(payment__reference=str(invoice.payments.get().pk))
    assert set(sent.values_list("status", flat=True)) == {SandboxWebhook.SENT}
    assert set(WebhookEvent.objects.filter(gateway="sandbox").values_list("event_id", flat=True)) == set(
        sent.values_list("event_id", flat=True))


def _shows_instrument(page, method: str, instrument: str) -> None:
    """The method's own page on the sandbox checkout: what the client needs to pay with it."""
    family = Method(method).family
    if family == "va":  # the bank's VA number (Mandiri: a bill key with the company code)
        expect(page.locator("#va-number")).to_have_text(re.compile(instrument))
        if method == "va_mandiri":
            expect(page.locator("#va-h").locator("..")).to_contain_text("70012")
    elif family == "store":
        expect(page.locator("#store-code")).to_have_text(re.compile(instrument))
    elif family == "qris":  # a real image of the QR payload
        expect(page.locator("#qris-image")).to_be_visible()
        page.wait_for_function("() => { const img = document.querySelector('#qris-image');"
                               " return img.complete && img.naturalWidth > 100; }")
    elif family == "ewallet":  # the page standing for the e-wallet app, named after it
        expect(page.locator("#ew-h")).to_contain_text(instrument)
        expect(page.locator("#ewallet-decline")).to_be_visible()
    else:
        expect(page.locator("#card-number")).to_be_visible()


def _pays(page, method: str) -> None:
    """Pay the way the method is paid: the simulate panel stands for the bank, the QR scanner and the cashier."""
    family = Method(method).family
    if family == "card":
        _type_card(page, "4811 1111 1111 1114")
    elif family == "ewallet":
        expect(page.locator("#simulate-pay")).to_have_count(0)  # approved in the app, not simulated
        page.click("#ewallet-approve")
    else:
        page.click("#simulate-pay")


# method -> (what its page shows: the VA number / store code as a pattern, or the e-wallet's name;
#            how the receipt names it)
EVERY_METHOD = {
    "card": ("", "Kartu kredit atau debit"),
    "va_bca": (r"^12345\d{11}$", "Virtual account BCA"),
    "va_bni": (r"^8808\d{12}$", "Virtual account BNI"),
    "va_bri": (r"^26215\d{10}$", "Virtual account BRI"),
    "va_mandiri": (r"^\d{12}$", "Mandiri bill payment"),
    "va_permata": (r"^8778\d{12}$", "Virtual account Permata"),
    "qris": ("", "QRIS"),
    "gopay": ("GoPay", "GoPay"),
    "ovo": ("OVO", "OVO"),
    "dana": ("DANA", "DANA"),
    "shopeepay": ("ShopeePay", "ShopeePay"),
    "indomaret": (r"^\d{14}$", "Indomaret"),
    "alfamart": (r"^ALF\d{12}$", "Alfamart"),
}


def test_every_method_is_in_the_browser_cases():
    """The issue's bar: every method the sandbox offers is paid from the browser below."""
    from jasa.payments.gateways.sandbox import SandboxGateway

    assert set(EVERY_METHOD) == {m.value for m in SandboxGateway.methods}


@pytest.mark.browser
@pytest.mark.parametrize("method", list(EVERY_METHOD))
def test_every_method_family_pays_from_the_browser(setup, page, method):
    from jasa.payments.models import Receipt
    from jasa.payments.views_client import pay_url

    invoice = setup(99_000)
    page.goto(pay_url(invoice))
    _continue_with(page, method)
    expect(page.locator("#amount")).to_contain_text("99.000")
    instrument, receipt_label = EVERY_METHOD[method]
    _shows_instrument(page, method, instrument)
    _pays(page, method)
    expect(page.locator("#checkout")).to_have_attribute("data-status", "paid")
    page.click("#return-link")
    expect(page.locator("#pay-status")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#status-title")).to_contain_text("Pembayaran diterima")
    expect(page.locator("#receipt-pdf")).to_be_visible()
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    receipt = Receipt.objects.get(invoice=invoice)
    assert receipt.payment.method == method and receipt.amount.amount == 99_000
    page.click("#receipt-html")  # the receipt names the method as the client knows it
    expect(page.locator("article.receipt dt:text-is('Metode pembayaran') + dd")).to_have_text(receipt_label)


@pytest.mark.browser
@pytest.mark.parametrize("method,decline,reason", [
    ("card", lambda page: _type_card(page, "4411 1111 1111 1118"), "Saldo kartu tidak mencukupi."),
    ("ovo", lambda page: page.click("#ewallet-decline"), "Pembayaran ditolak di aplikasi e-wallet."),
], ids=["card-insufficient-funds", "ewallet-declined"])
def test_declined_payment_tells_the_client_what_to_do_next(setup, page, method, decline, reason):
    from jasa.payments.models import LedgerEntry, Receipt
    from jasa.payments.views_client import pay_url

    invoice = setup(180_000)
    page.goto(pay_url(invoice))
    _continue_with(page, method)
    decline(page)
    expect(page.locator("#checkout")).to_have_attribute("data-status", "failed")
    expect(page.locator("#result")).to_contain_text(reason)
    page.click("#return-link")
    status = page.locator("#pay-status")
    expect(status).to_have_attribute("data-status", "failed")
    expect(status).to_contain_text(reason)  # why, in the client's language
    expect(status).to_contain_text("Tidak ada dana yang ditarik")  # what it means, and what to do next
    expect(status).to_contain_text("kartu lain atau metode pembayaran lain")
    assert not LedgerEntry.objects.filter(invoice=invoice, kind="captured").exists()
    # the next step works: back to the invoice, still open, and paid with another card
    page.click("#try-again")
    expect(page.locator("#balance")).to_contain_text("180.000")
    _continue_with(page, "card")
    _type_card(page, "4811 1111 1111 1114")
    page.click("#return-link")
    expect(page.locator("#pay-status")).to_have_attribute("data-status", "succeeded")
    invoice.refresh_from_db()
    assert invoice.status == "paid" and Receipt.objects.filter(invoice=invoice).count() == 1


@pytest.mark.browser
def test_method_chosen_on_the_gateway_page(setup, page):
    from jasa.payments.views_client import pay_url

    invoice = setup(120_000)
    page.goto(pay_url(invoice))
    _continue_with(page, "")
    page.click('button[data-method="card"]')
    _type_card(page, "4811 1111 1111 1114")
    expect(page.locator("#checkout")).to_have_attribute("data-status", "paid")
    page.click("#return-link")
    expect(page.locator("#pay-status")).to_have_attribute("data-status", "succeeded")
