"""A business owner signs up, verifies the email, logs in, creates a workspace and invites a staff member,
who accepts the invitation — in Chromium, with every email read from a real SMTP server."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

PASSWORD = "rahasia-kuat-2026!"


def _link(inbox, address: str, fragment: str, count: int = 1) -> str:
    msg = inbox.wait_for(address, count=count)[-1]
    match = re.search(r"https?://\S*" + re.escape(fragment) + r"\S*", inbox.text(msg))
    assert match, inbox.text(msg)
    return match.group(0)


def _submit(page: Page, form_has: str) -> None:
    with page.expect_navigation():
        page.locator(f"main form:has({form_has}) button[type=submit]").first.click()


def _sign_up_and_verify(page: Page, base: str, inbox, email: str, start: str = "/accounts/signup/") -> None:
    if start:
        page.goto(base + start)
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    _submit(page, "input[name=password1]")
    page.goto(_link(inbox, email, "/accounts/confirm-email/"))
    _submit(page, "button[type=submit]")


def _log_in(page: Page, base: str, email: str, next_url: str = "") -> None:
    page.goto(base + "/accounts/login/" + (f"?next={next_url}" if next_url else ""))
    if page.locator("input[name=password]").count():
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", PASSWORD)
        _submit(page, "input[name=password]")


@pytest.mark.browser
def test_sign_up_create_workspace_invite_and_accept(live_server, page, browser, smtp_server, settings,
                                                      transactional_db):
    # allauth's mail rate limits ("1 confirmation mail per 3 min per address") must not carry over
    # from earlier runs sharing a Redis cache: this test gets its own key prefix.
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}}
    settings.SITE_URL = live_server.url
    base = live_server.url
    owner_email, staff_email = "pemilik@example.test", "staf@example.test"

    # 1. sign up; the verification mail arrives; follow its link; log in
    _sign_up_and_verify(page, base, smtp_server, owner_email)
    _log_in(page, base, owner_email)
    page.goto(base + "/")
    expect(page.get_by_role("heading", name="Bisnis Anda")).to_be_visible()

    # 2. create a workspace
    page.get_by_role("button", name="Buat bisnis").click()
    page.fill("input[name=name]", "Konsultan Sejahtera")
    page.fill("input[name=slug]", "sejahtera")
    page.select_option("select[name=time_zone]", "Asia/Makassar")
    _submit(page, "input[name=slug]")
    expect(page).to_have_url(base + "/dashboard/sejahtera/")
    expect(page.get_by_role("heading", name="Konsultan Sejahtera")).to_be_visible()

    # 3. invite a staff member from the team page; the invitation mail arrives
    page.locator(".dashboard-nav").get_by_role("link", name="Tim").click()
    page.fill("input[name=email]", staff_email)
    page.select_option("select[name=role]", "staff")
    _submit(page, "input[name=email]")
    expect(page.get_by_text(f"Undangan dikirim ke {staff_email}.")).to_be_visible()
    invite_url = _link(smtp_server, staff_email, "/invite/")

    # 4. the invitee (another browser) opens the link, signs up, verifies, logs in and accepts
    context = browser.new_context(locale="id-ID", timezone_id="Asia/Makassar")
    invitee = context.new_page()
    try:
        invitee.goto(invite_url)
        expect(invitee.get_by_role("heading", name="Bergabung dengan Konsultan Sejahtera")).to_be_visible()
        invitee.get_by_role("button", name="Daftar").click()
        _sign_up_and_verify(invitee, base, smtp_server, staff_email, start="")
        _log_in(invitee, base, staff_email)
        # after logging in, the home page offers the invitation sent to this address
        invitee.goto(base + "/")
        expect(invitee.get_by_text("Konsultan Sejahtera mengundang Anda sebagai Staf.")).to_be_visible()
        with invitee.expect_navigation():
            invitee.get_by_role("button", name="Terima undangan").click()
        expect(invitee).to_have_url(base + "/dashboard/sejahtera/")
        expect(invitee.get_by_text("Selamat datang di Konsultan Sejahtera.")).to_be_visible()
    finally:
        context.close()

    # 5. the owner sees the new member on the team page
    page.reload()
    expect(page.get_by_role("cell", name=staff_email)).to_be_visible()
