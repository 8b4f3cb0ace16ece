"""In Chromium: a client books the demo offer, pays the deposit in the sandbox by BCA virtual account
(simulate panel), sees the confirmation, finds the email with the .ics on the SMTP server, then cancels
inside the free window and gives a bank account (BCA VA cannot be refunded through the gateway), the
finance staff member records the bank transfer, and the client's manage page shows the deposit refunded."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from playwright.sync_api import expect

SLOT = "2026-12-04T09:00:00+07:00"  # Friday: two days after the frozen "now", inside the free window


@pytest.fixture
def demo(transactional_db, live_server, settings, frozen_clock, smtp_server):
    from jasa.core.demo import demo_load

    settings.SITE_URL = live_server.url  # checkout, return and webhook links all go to this server
    demo_load(progress=lambda _msg: None)
    return smtp_server


def _ics_of(message) -> icalendar.Calendar:
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar" or (part.get_filename() or "").endswith(".ics"):
            return icalendar.Calendar.from_ical(part.get_payload(decode=True))
    raise AssertionError("no .ics attachment")


def book_slot(page) -> None:
    """On the demo offer's page: Friday 09:00, Rina's details, on to the checkout."""
    page.click('a[data-day="2026-12-04"]')  # htmx loads that day's times
    page.click(f'a[data-start="{SLOT}"]')
    page.fill("#id_name", "Rina Klien")
    page.fill("#id_email", "rina@example.test")
    page.fill("#id_phone", "0812 3456 7890")
    page.fill("#id_q_topic", "Strategi Instagram")
    page.click('form button[type="submit"]')


def wait_until_confirmed(page) -> None:
    """Back from the gateway on the manage page: the webhook may land a moment after the redirect."""
    status = page.locator("[data-status]").first
    for _ in range(20):
        if status.get_attribute("data-status") == "confirmed":
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(status).to_have_attribute("data-status", "confirmed")


@pytest.mark.browser
def test_book_pay_by_bca_va_confirm_then_cancel(demo, live_server, page):
    from jasa.bookings.models import Booking
    from jasa.core.demo import DEMO_PASSWORD

    inbox = demo
    page.goto(f"{live_server.url}/demo/")
    page.click('a[href="/demo/book/konsultasi-60-menit/"]')
    expect(page.locator("h1")).to_contain_text("Konsultasi 60 menit")
    book_slot(page)

    # checkout summary: price, deposit now, balance later, policy, security note
    expect(page.locator("table.summary")).to_contain_text("500.000")
    expect(page.locator("table.summary")).to_contain_text("100.000")
    expect(page.locator("table.summary")).to_contain_text("400.000")
    expect(page.locator(".security-note")).to_be_visible()
    page.click('form[action$="/pay/"] button')

    # the sandbox's hosted page: BCA virtual account, paid through the simulate panel
    page.wait_for_url("**/sandbox/checkout/**")
    page.click('button[data-method="va_bca"]')
    expect(page.locator("#va-number")).to_be_visible()
    page.click("#simulate-pay")
    expect(page.locator("#checkout")).to_have_attribute("data-status", "paid")
    page.click("#return-link")
    wait_until_confirmed(page)
    expect(page.locator(".add-to-calendar a")).to_have_count(3)

    booking = Booking.objects.get(client__email="rina@example.test")
    assert booking.status == "confirmed" and booking.deposit_paid_amount == 100_000
    assert booking.answers == {"topic": "Strategi Instagram"}
    [message] = [m for m in inbox.wait_for("rina@example.test") if _has_ics(m)]
    [event] = _ics_of(message).walk("VEVENT")
    assert event.decoded("dtstart") == dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)
    assert "Konsultasi 60 menit" in str(event["summary"])

    # cancel inside the free window: a BCA VA payment cannot be reversed through the gateway, so the
    # refund is owed by bank transfer and the client says where to
    page.click('[data-action="cancel"]')
    expect(page.locator('[data-status="cancelled"]')).to_be_visible()
    manage_url = page.url
    booking.refresh_from_db()
    assert booking.status == "cancelled" and booking.refund_owed_amount == 100_000
    assert booking.deposit_kept.is_zero
    expect(page.locator(".refund-owed")).to_contain_text("100.000")
    page.fill("#id_bank_name", "BCA")
    page.fill("#id_account_number", "123 456 7890")
    page.fill("#id_account_holder", "Rina Klien")
    page.click('#refund-account-form button[type="submit"]')
    expect(page.locator(".refund-account")).to_contain_text("****7890")

    # finance sees the account on the booking and records the transfer
    page.goto(f"{live_server.url}/accounts/login/?next=/dashboard/demo/bookings/{booking.pk}/")
    page.fill("input[name=login]", "finance@demo.jasa.local")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("input[name=password]").press("Enter")
    form = page.locator(".refund-transfer-form")
    expect(page.locator(".owed-refund .refund-account")).to_contain_text("1234567890")
    expect(form.locator("input[name=amount]")).to_have_value("100000")
    form.locator("input[name=transfer_reference]").fill("BCA-TRF-0412")
    form.locator('button[type="submit"]').click()
    expect(page.locator(".refund-transfer-form")).to_have_count(0)

    # the client's page: deposit refunded; the refund receipt is in the inbox
    page.goto(manage_url)
    expect(page.locator(".refund-done")).to_contain_text("100.000")
    expect(page.locator(".refund-owed")).to_have_count(0)
    booking.refresh_from_db()
    assert booking.deposit_refunded_amount == 100_000 and booking.refund_owed_amount == 0
    for _ in range(60):  # the outbox delivers just after the request
        if any("BCA-TRF-0412" in inbox.text(m) for m in inbox.to("rina@example.test")):
            break
        page.wait_for_timeout(250)
    assert any("BCA-TRF-0412" in inbox.text(m) for m in inbox.to("rina@example.test"))


def _has_ics(message) -> bool:
    return any((p.get_filename() or "").endswith(".ics") for p in message.iter_attachments())
