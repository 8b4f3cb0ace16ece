"""In Chromium: a client pays an invoice by sandbox card with "save this card" ticked, finds the card under
Saved payment methods in the portal, removes it after confirming, and it is gone (the sandbox revoked it)."""

# ruff: noqa: F811 - the setup fixture imported from tests.browser.test_pay_invoice

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_pay_invoice import _type_card, setup  # noqa: F401 - the sandbox invoice fixture

PASSWORD = "pw-secret-123"  # user_factory's default


@pytest.fixture
def invoice(setup):
    """An open invoice of Budi (who has a login) at `acme`, whose gateway is the sandbox."""
    return setup(350_000)


@pytest.mark.browser
def test_save_card_at_checkout_then_remove_it_in_the_portal(invoice, live_server, page):
    from jasa.payments.models import SavedPaymentMethod
    from jasa.payments.views_client import pay_url
    from jasa.sandbox.models import SandboxToken

    page.goto(pay_url(invoice))
    expect(page.locator("#save-method")).not_to_be_checked()
    expect(page.locator("#save-card")).to_contain_text(invoice.workspace.name)
    page.check('input[name="method"][value="card"]')
    page.check("#save-method")
    page.click("#pay-continue")
    page.wait_for_url("**/sandbox/checkout/**")
    _type_card(page, "4811 1111 1111 1114")
    expect(page.locator("#checkout")).to_have_attribute("data-status", "paid")
    page.click("#return-link")
    expect(page.locator("#pay-status")).to_have_attribute("data-status", "succeeded")
    saved = SavedPaymentMethod.objects.get(client=invoice.client)
    assert saved.is_active and saved.token.startswith("tok_") and saved.consent_at == invoice.payments.get().created_at

    # the client logs in and opens the portal's link to their saved methods
    page.goto(f"{live_server.url}/accounts/login/?next=/portal/")
    page.fill("input[name=login]", "budi@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url("**/portal/")
    page.click("a.portal-methods")
    row = page.locator(f"#method-{saved.pk}")
    expect(row).to_contain_text("Visa •••• 1114")
    expect(row).to_contain_text("12/30")
    expect(row).to_contain_text(invoice.workspace.name)

    row.get_by_role("button").click()  # "Hapus": asks first
    expect(page.locator("#confirm-remove")).to_be_visible()
    page.click("#confirm-remove")
    page.wait_for_url("**/portal/methods/")
    expect(page.locator("body")).to_contain_text("Visa •••• 1114 telah dihapus")
    expect(page.locator("body")).to_contain_text("membayar lewat tautan")
    expect(page.locator(f"#method-{saved.pk}")).to_have_count(0)
    expect(page.locator("#no-saved-methods")).to_be_visible()
    saved.refresh_from_db()
    assert not saved.is_active and saved.removed_at is not None
    assert SandboxToken.objects.get(token=saved.token).revoked  # the sandbox was told to forget it
