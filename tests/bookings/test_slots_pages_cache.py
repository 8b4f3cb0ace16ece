"""The offer page's htmx fragments (the day's times, the month calendar) use the slots endpoint's cache
(jasa/bookings/cache.py): a repeated click runs no availability query, and a change that alters free time
(a new booking, hours, a calendar sync) shows in the next fragment at once.

Runs on SQLite with the database cache and on PostgreSQL with Redis: queries on the database cache's own
table are left out of the counts, so both backends count the same.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.bookings.conftest import FRI_9, THU_9, THU_10

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
FRI_10 = FRI_9.replace(hour=10)


def _app_queries(queries) -> list[str]:
    """The SQL run for the page itself, without the database cache's reads (none with Redis)."""
    table = settings.CACHES["default"].get("LOCATION", "")
    return [q["sql"] for q in queries if table not in q["sql"]]


def _reads_availability(sql: list[str]) -> bool:
    return any(t in s.lower() for s in sql for t in ("workinghours", "bookings_booking", "busy"))


@pytest.fixture
def day(client, workspace, offer, now):
    url = reverse("bookings:day_slots", kwargs={"ws": workspace.slug, "offer": offer.slug})

    def get(date="2026-12-03"):
        resp = client.get(url, {"date": date, "tz": "Asia/Jakarta"}, headers=HTMX)
        assert resp.status_code == 200
        return resp.content.decode()

    return get


def test_day_fragment_is_served_from_the_cache(day):
    first = day()
    assert THU_9.isoformat() in first and THU_10.isoformat() in first
    with CaptureQueriesContext(connection) as queries:
        again = day()
    sql = _app_queries(queries.captured_queries)
    assert again == first
    assert not _reads_availability(sql), sql
    assert len(sql) == 2, sql  # the workspace and the offer (to name them on the page), nothing else


def test_calendar_and_slots_fragments_of_the_offer_page_are_served_from_the_cache(client, workspace, offer, now):
    url = reverse("bookings:offer", kwargs={"ws": workspace.slug, "offer": offer.slug})
    params = {"month": "2026-12", "part": "calendar", "tz": "Asia/Jakarta"}
    first = client.get(url, params, headers=HTMX).content.decode()
    assert 'data-day="2026-12-03"' in first
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url, params, headers=HTMX).content.decode()
    sql = _app_queries(queries.captured_queries)
    assert again == first
    assert not _reads_availability(sql), sql
    assert len(sql) == 2, sql


def test_a_new_booking_removes_its_slot_from_the_fragment_at_once(day, hold):
    assert THU_9.isoformat() in day()
    booking = hold(THU_9)
    after = day()
    assert THU_9.isoformat() not in after and THU_10.isoformat() in after  # the same time bucket: not stale
    from jasa.bookings.services import booking_expire_hold

    booking_expire_hold(booking=booking, force=True)
    assert THU_9.isoformat() in day()


def test_a_day_off_empties_the_calendar_day_at_once(client, workspace, offer, staff, now):
    from jasa.bookings import services_availability as sa

    url = reverse("bookings:offer", kwargs={"ws": workspace.slug, "offer": offer.slug})
    params = {"month": "2026-12", "part": "calendar", "tz": "Asia/Jakarta"}
    assert 'data-day="2026-12-03"' in client.get(url, params, headers=HTMX).content.decode()
    sa.date_override_set(staff, date=dt.date(2026, 12, 3), is_day_off=True, ranges=[])
    assert 'data-day="2026-12-03"' not in client.get(url, params, headers=HTMX).content.decode()


def test_reschedule_fragment_keeps_the_clients_own_time_and_sees_new_bookings(client, hold, pay):
    from jasa.bookings.links import manage_path

    booking = pay(hold(FRI_9))
    url = manage_path(booking, "bookings:reschedule")
    params = {"date": "2026-12-04", "part": "slots", "tz": "Asia/Jakarta"}
    html = client.get(url, params, headers=HTMX).content.decode()
    assert FRI_9.isoformat() in html and FRI_10.isoformat() in html  # its own time is not busy for itself
    hold(FRI_10)
    html = client.get(url, params, headers=HTMX).content.decode()
    assert FRI_9.isoformat() in html and FRI_10.isoformat() not in html
