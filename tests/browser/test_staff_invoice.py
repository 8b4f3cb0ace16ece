"""In Chromium: a finance member writes an invoice from the dashboard, issues it, and the pay link it gets
opens the client's pay page with the amount due."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.fixture
def setup(transactional_db, live_server, settings, workspace, user_factory, member_factory):
    from jasa.accounts.models import Client
    from jasa.payments.services_config import gateway_account_save
    from jasa.sandbox.services import merchant_for_workspace

    settings.SITE_URL = live_server.url  # the pay link points at this server
    gateway_account_save(workspace=workspace, gateway="sandbox", is_default=True,
                         credentials=merchant_for_workspace(workspace).credentials)
    Client.objects.create(workspace=workspace, name="Budi Klien", email="budi@example.test")
    finance = member_factory(workspace, role="finance", user=user_factory(email="finance@example.test"))
    return live_server.url, workspace, finance


@pytest.mark.browser
def test_finance_creates_issues_and_opens_the_pay_link(setup, page):
    from jasa.payments.models import Invoice

    base, workspace, _finance = setup
    page.goto(f"{base}/accounts/login/?next=/dashboard/{workspace.slug}/")
    page.fill("input[name=login]", "finance@example.test")
    page.fill("input[name=password]", "pw-secret-123")
    page.locator("input[name=password]").press("Enter")
    page.locator(".dashboard-nav a", has_text="Tagihan").click()
    expect(page.locator("#invoices-empty")).to_be_visible()
    page.click("#new-invoice")

    page.select_option("#id_client", label="Budi Klien <budi@example.test>")
    page.fill("#id_lines-0-description", "Desain logo")
    page.fill("#id_lines-0-quantity", "2")
    page.fill("#id_lines-0-unit_price", "1.500.000")
    page.fill("#id_lines-1-description", "Panduan merek")
    page.fill("#id_lines-1-unit_price", "12.5")  # rupiah have no decimals: the form says so, nothing is saved
    page.click("#invoice-save")
    expect(page.locator(".field-error")).to_contain_text("IDR")
    assert Invoice.objects.count() == 0
    page.fill("#id_lines-1-unit_price", "250000")
    page.click("#invoice-save")

    expect(page.locator("#invoice-status")).to_have_attribute("data-status", "draft")
    expect(page.locator("#invoice-total")).to_contain_text("3.250.000")
    page.click("#issue-action summary")
    page.click("#issue-confirm")
    expect(page.locator("#invoice-status")).to_have_attribute("data-status", "open")
    invoice = Invoice.objects.get()
    expect(page.locator("#invoice-title")).to_contain_text(invoice.number)
    expect(page.locator("#amount-due")).to_contain_text("3.250.000")
    expect(page.locator("#link-sent")).to_contain_text("budi@example.test")

    page.click("#copy-pay-url")
    expect(page.locator("#copy-pay-url")).to_have_text("Tersalin")
    pay_link = page.locator("#pay-url").input_value()
    assert pay_link.startswith(f"{base}/pay/{invoice.pk}/?t=")
    client_page = page.context.browser.new_context(locale="id-ID").new_page()  # the client: not logged in
    client_page.goto(pay_link)
    expect(client_page.locator("#balance")).to_contain_text("3.250.000")
    client_page.context.close()
