"""In Chromium: a staff member sets weekly hours and a day off, connects an ICS feed and sees it synced."""

import datetime as dt

import pytest

from jasa.core import clock, jobs
from tests.calendars.test_ics import FEED

PASSWORD = "pw-secret-123"


def _submit(page, selector):
    with page.expect_navigation():
        page.locator(selector).locator("xpath=ancestor::form").locator("button[type=submit]").first.click()


@pytest.mark.browser
def test_staff_sets_hours_and_connects_a_feed(transactional_db, live_server, page, workspace_factory, user_factory,
                                              member_factory, fake_http):
    @fake_http.route("GET", "/team.ics")
    def _feed(req):
        return 200, {"Content-Type": "text/calendar", "ETag": '"1"'}, FEED

    clock.freeze(dt.datetime(2026, 10, 10, 1, tzinfo=dt.UTC))  # the feed's events lie ahead
    workspace = workspace_factory(slug="studio-browser")
    staff = member_factory(workspace, user=user_factory(email="dimas@example.test", password=PASSWORD))
    base = live_server.url
    page.goto(f"{base}/accounts/login/?next=/dashboard/{workspace.slug}/availability/")
    page.fill("input[name=login]", "dimas@example.test")
    page.fill("input[name=password]", PASSWORD)
    _submit(page, "input[name=password]")
    assert page.locator("h1").inner_text().startswith("Ketersediaan")

    page.select_option("select[name=weekday]", "0")
    page.fill("input[name=start_time]", "09:00")
    page.fill("input[name=end_time]", "12:00")
    _submit(page, "select[name=weekday]")
    page.fill("input[name=start_time]", "13:00")
    page.fill("input[name=end_time]", "17:00")
    _submit(page, "select[name=weekday]")
    monday = page.locator("tbody tr").first
    assert "09:00–12:00" in monday.inner_text() and "13:00–17:00" in monday.inner_text()

    page.fill("input[name=date]", "2026-12-24")
    page.check("input[name=is_day_off]")
    _submit(page, "input[name=is_day_off]")
    assert "24 Des 2026" in page.content() or "24 Dec 2026" in page.content()

    page.click("text=Kalender terhubung")
    page.click("summary:has-text('Feed ICS')")
    page.fill("form[action$='/ics/'] input[name=name]", "Tim")
    page.fill("form[action$='/ics/'] input[name=url]", f"{fake_http.url}/team.ics")
    _submit(page, "form[action$='/ics/'] input[name=url]")
    assert "menunggu sinkronisasi pertama" in page.content()
    jobs.sweep(enqueue=jobs.run)  # what the worker's periodic sweep does
    page.reload()
    assert "terbaru" in page.content()
    assert staff.calendar_connections.get().busy.exists()
