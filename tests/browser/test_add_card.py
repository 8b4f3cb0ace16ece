"""In Chromium: a signed-in client adds a card from the portal without paying anything. The saved-methods page
offers "Add a card" for their business with the consent text; the sandbox's hosted setup page takes a card with
3-D Secure (OTP); back on jasa the card is saved and listed, and the business then charges it off-session."""

# ruff: noqa: F811 - the setup fixture imported from tests.browser.test_pay_invoice

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_pay_invoice import _type_card, setup  # noqa: F401 - the sandbox invoice fixture

PASSWORD = "pw-secret-123"  # user_factory's default


@pytest.mark.browser
def test_add_a_card_from_the_portal_and_see_it_listed(setup, workspace, live_server, page):
    from jasa.payments.gateways.base import Status
    from jasa.payments.models import SavedMethodSetup, SavedPaymentMethod
    from jasa.payments.services import payment_charge_saved

    invoice = setup(120_000)  # an open invoice of Budi at `acme`, whose gateway is the sandbox

    page.goto(f"{live_server.url}/accounts/login/?next=/portal/methods/")
    page.fill("input[name=login]", "budi@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url("**/portal/methods/")
    expect(page.locator("#no-saved-methods")).to_be_visible()
    offer = page.locator(f"#add-card-{workspace.slug}")
    expect(offer).to_contain_text(f"Dengan menambahkan kartu, Anda setuju bahwa {workspace.name} boleh menagihnya")
    expect(offer).to_contain_text("Tidak ada yang ditagih sekarang")

    offer.get_by_role("button").click()  # "Tambahkan kartu untuk …"
    page.wait_for_url("**/sandbox/checkout/**")
    expect(page.locator("h1")).to_contain_text(f"Simpan kartu untuk {workspace.name}")
    expect(page.locator("#amount")).to_have_count(0)  # nothing to pay
    _type_card(page, "4000 0000 0000 3220")
    page.fill("#otp", "112233")
    page.click("#otp-submit")
    expect(page.locator("#checkout")).to_have_attribute("data-status", "paid")
    expect(page.locator("#result-title")).to_contain_text("Kartu tersimpan")

    page.click("#return-link")  # back to jasa: the setup's page asks the gateway
    status = page.locator("#setup-status")
    expect(status).to_have_attribute("data-status", "succeeded")
    expect(status).to_contain_text(f"Visa •••• 3220 tersimpan untuk {workspace.name}")
    page.click("#setup-done")
    page.wait_for_url("**/portal/methods/")
    saved = SavedPaymentMethod.objects.get(client=invoice.client)
    row = page.locator(f"#method-{saved.pk}")
    expect(row).to_contain_text("Visa •••• 3220")
    expect(row).to_contain_text("12/30")
    expect(row).to_contain_text(workspace.name)
    assert SavedMethodSetup.objects.get().saved_method == saved

    # the business charges the saved card later, off-session
    payment = payment_charge_saved(invoice=invoice, saved_method=saved, idempotency_key="browser:add-card:1")
    assert payment.status == Status.SUCCEEDED
    invoice.refresh_from_db()
    assert invoice.status == "paid"
