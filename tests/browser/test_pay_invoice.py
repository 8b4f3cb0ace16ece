"""In Chromium: a client pays an invoice in the sandbox by card with 3-D Secure, and another by BCA virtual
account through the simulate panel, sees the success state, and downloads the receipt PDF."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from jasa.core.money import Money


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
    page.check('input[name="method"][value="card"]')
    page.click("#pay-continue")
    page.wait_for_url("**/sandbox/checkout/**")
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
    page.check('input[name="method"][value="va_bca"]')
    page.click("#pay-continue")
    page.wait_for_url("**/sandbox/checkout/**")
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
    expect(page.locator("#pay-status")).to_have_attribute("data-status", "succeeded", timeout=10_000)
    assert _receipt_pdf(page)[:4] == b"%PDF"
    # the sandbox's signed notifications reached jasa's endpoint over HTTP and were stored once each
    from jasa.payments.models import WebhookEvent
    from jasa.sandbox.models import SandboxWebhook

    sent = SandboxWebhook.objects.filter(payment__reference=str(invoice.payments.get().pk))
    assert set(sent.values_list("status", flat=True)) == {SandboxWebhook.SENT}
    assert set(WebhookEvent.objects.filter(gateway="sandbox").values_list("event_id", flat=True)) == set(
        sent.values_list("event_id", flat=True))


@pytest.mark.browser
@pytest.mark.parametrize("method,action", [
    ("qris", "#simulate-pay"), ("gopay", "#ewallet-approve"), ("alfamart", "#simulate-pay"),
    ("va_mandiri", "#simulate-pay"),
])
def test_every_method_family_pays_from_the_browser(setup, page, method, action):
    from jasa.payments.views_client import pay_url

    invoice = setup(99_000)
    page.goto(pay_url(invoice))
    page.check(f'input[name="method"][value="{method}"]')
    page.click("#pay-continue")
    page.wait_for_url("**/sandbox/checkout/**")
    if method == "qris":  # a real image of the QR payload
        expect(page.locator("#qris-image")).to_be_visible()
        assert page.locator("#qris-image").evaluate("img => img.naturalWidth") > 100
    page.click(action)
    expect(page.locator("#checkout")).to_have_attribute("data-status", "paid")
    page.click("#return-link")
    expect(page.locator("#pay-status")).to_have_attribute("data-status", "succeeded")


@pytest.mark.browser
def test_method_chosen_on_the_gateway_page(setup, page):
    from jasa.payments.views_client import pay_url

    invoice = setup(120_000)
    page.goto(pay_url(invoice))
    page.check('input[name="method"][value=""]')
    page.click("#pay-continue")
    page.wait_for_url("**/sandbox/checkout/**")
    page.click('button[data-method="card"]')
    _type_card(page, "4811 1111 1111 1114")
    expect(page.locator("#checkout")).to_have_attribute("data-status", "paid")
    page.click("#return-link")
    expect(page.locator("#pay-status")).to_have_attribute("data-status", "succeeded")
