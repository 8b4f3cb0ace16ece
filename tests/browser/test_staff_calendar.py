"""In Chromium: the owner opens a staff member's week in the calendar, steps a week ahead and back (htmx),
sees the confirmed booking and the hold as labelled blocks, and clicks the booking into its detail page."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

JKT = ZoneInfo("Asia/Jakarta")
THU_9 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=JKT)


@pytest.fixture
def setup(transactional_db, live_server, frozen_clock, workspace, member_factory, django_capture_on_commit_callbacks):
    from jasa.bookings.services import booking_hold
    from jasa.catalog.services import offer_create
    from tests.bookings.conftest import working_week

    staff = member_factory(workspace, role="staff")
    working_week(workspace, staff)
    free = offer_create(workspace=workspace, staff=[staff], name_id="Konsultasi gratis", name_en="Free consultation",
                        duration_minutes=60, price_amount=0, deposit_percent=0, slot_interval_minutes=60)
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_hold(offer=free, start=THU_9, client_name="Rina Klien", client_email="rina@example.test")
    booking.refresh_from_db()
    assert booking.status == "confirmed"  # no deposit: confirmed at once
    owner = workspace.memberships.get(role="owner").user
    return live_server.url, workspace, staff, booking, owner


@pytest.mark.browser
def test_owner_opens_the_week_and_clicks_a_booking_into_its_page(setup, page):
    base, workspace, staff, booking, owner = setup
    calendar = f"/dashboard/{workspace.slug}/bookings/calendar/?view=week&date=2026-12-03&staff={staff.pk}"
    page.goto(f"{base}/accounts/login/?next={calendar.replace('&', '%26').replace('?', '%3F')}")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", "pw-secret-123")
    page.locator("input[name=password]").press("Enter")

    expect(page.locator("#calendar")).to_have_attribute("data-view", "week")
    expect(page.locator("#calendar-zone")).to_contain_text("Asia/Jakarta")
    block = page.locator(f'a[data-booking="{booking.pk}"]')
    expect(block).to_contain_text("Rina Klien")
    expect(block).to_contain_text("09:00–10:00")
    expect(block).to_contain_text("Terkonfirmasi")  # the status in words (the browser asks for Indonesian)
    assert block.get_attribute("data-row") == "09:00"
    # The block sits where its time is: in Thursday's column, from the top of the 09:00 row (the first).
    box, column = block.bounding_box(), page.locator('.cal-col[data-date="2026-12-03"]').bounding_box()
    assert box is not None and column is not None
    assert abs(box["y"] - column["y"]) < 2 and box["x"] >= column["x"]
    assert abs(box["height"] - column["height"] / 8) < 2  # one hour of an eight-hour day

    page.click("#calendar-next")  # htmx swaps the grid and pushes the address
    expect(page.locator('.cal-col[data-date="2026-12-10"]')).to_be_visible()
    expect(page.locator(f'a[data-booking="{booking.pk}"]')).to_have_count(0)
    assert "date=2026-12-10" in page.url
    page.click("#calendar-prev")
    expect(page.locator(f'a[data-booking="{booking.pk}"]')).to_be_visible()

    page.locator(f'a[data-booking="{booking.pk}"]').click()
    expect(page.locator("h1")).to_contain_text("Rina Klien")
    expect(page.locator("[data-status]").first).to_have_attribute("data-status", "confirmed")
    assert page.url.endswith(f"/dashboard/{workspace.slug}/bookings/{booking.pk}/")
