"""The slots endpoint's cache (jasa/bookings/cache.py): the cached answer is the uncached one, every kind of
change that alters availability shows at once, and the minimum notice holds even within a cached time bucket.

Runs on SQLite with the database cache and on PostgreSQL with Redis (CI's two passes).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jasa.bookings.cache import availability_version
from jasa.core import clock
from tests.bookings.conftest import FRI_9, JKT, THU_9, THU_10
from tests.calendars.conftest import fake_http  # noqa: F401  (a local HTTP server serving an ICS feed)

pytestmark = pytest.mark.django_db

THU, FRI, SAT = dt.date(2026, 12, 3), dt.date(2026, 12, 4), dt.date(2026, 12, 5)


@pytest.fixture
def slots(client, offer, now):
    """The endpoint's answer as [(start, staff id), ...] for the days asked, and the raw body of the last call."""
    last = {}

    def get(first=THU, last_day=None, tz="Asia/Jakarta", offer=offer):
        resp = client.get(f"/api/v1/offers/{offer.pk}/slots",
                          {"start": first.isoformat(), "end": (last_day or first).isoformat(), "tz": tz})
        assert resp.status_code == 200 and resp["Content-Type"] == "application/json", resp.content
        last["body"] = resp.content
        return [(dt.datetime.fromisoformat(s["start"]), s["staff"]) for s in resp.json()["slots"]]

    get.last = last
    return get


def _reads_rules(queries) -> bool:
    return any("workinghours" in q["sql"].lower() for q in queries)


def _reads_offer(queries) -> bool:
    return any("consultationoffer" in q["sql"].lower() for q in queries)


def _uncached(client, offer, first, last_day, tz="Asia/Jakarta") -> bytes:
    cache.clear()
    return client.get(f"/api/v1/offers/{offer.pk}/slots",
                      {"start": first.isoformat(), "end": last_day.isoformat(), "tz": tz}).content


def test_cached_answer_equals_uncached_and_skips_the_computation(client, slots, offer, staff):
    slots(THU, FRI, tz="Asia/Makassar")
    with CaptureQueriesContext(connection) as queries:
        again = slots(THU, FRI, tz="Asia/Makassar")
    body = slots.last["body"]
    assert not _reads_rules(queries.captured_queries)  # served from the cache,
    assert not _reads_offer(queries.captured_queries)  # without even loading the offer
    assert len(again) == 16 and again[0] == (THU_9, str(staff.pk))
    assert again[0][0].utcoffset() == dt.timedelta(hours=8)  # in the zone asked
    assert body == _uncached(client, offer, THU, FRI, tz="Asia/Makassar")
    data = json.loads(body)
    assert data["tz"] == "Asia/Makassar" and set(data["slots"][0]) == {"start", "end", "staff"}
    # Another zone is another question.
    with CaptureQueriesContext(connection) as queries:
        slots(THU, FRI, tz="Asia/Jakarta")
    assert _reads_rules(queries.captured_queries)


def test_hold_cancel_expire_and_reschedule_show_at_once(slots, hold, pay, now):
    from jasa.bookings.services import booking_cancel, booking_expire_hold, booking_reschedule

    assert THU_9 in [s for s, _ in slots()]
    booking = hold(THU_9)
    assert THU_9 not in [s for s, _ in slots()]  # the hold hides it from the next request
    booking_expire_hold(booking=booking, force=True)
    assert THU_9 in [s for s, _ in slots()]

    booking = pay(hold(THU_9))  # confirmed
    assert THU_9 not in [s for s, _ in slots()]
    booking_reschedule(booking=booking, start=THU_10, by="staff")
    free = [s for s, _ in slots()]
    assert THU_9 in free and THU_10 not in free
    booking.refresh_from_db()
    booking_cancel(booking=booking, by="staff")
    assert THU_10 in [s for s, _ in slots()]


def test_working_hours_overrides_and_holidays(slots, staff, workspace):
    from jasa.bookings import services_availability as sa

    assert slots(SAT) == []
    wh = sa.working_hours_add(staff, weekday=5, start_time=dt.time(9), end_time=dt.time(11))
    assert [s for s, _ in slots(SAT)] == [dt.datetime(2026, 12, 5, 9, tzinfo=JKT), dt.datetime(2026, 12, 5, 10, tzinfo=JKT)]
    sa.working_hours_delete(staff, wh.pk)
    assert slots(SAT) == []

    assert len(slots(THU)) == 8
    ov = sa.date_override_set(staff, date=THU, is_day_off=True, ranges=[])
    assert slots(THU) == []
    sa.date_override_delete(staff, ov.pk)
    assert len(slots(THU)) == 8

    assert FRI_9 in [s for s, _ in slots(FRI)]
    hol = sa.public_holiday_add(workspace, date=FRI, name="Cuti bersama")
    assert slots(FRI) == []
    sa.public_holiday_delete(workspace, hol.pk)
    assert len(slots(FRI)) == 8


def test_offer_rules_staff_and_staff_zone(slots, offer, staff, member_factory, workspace):
    from jasa.accounts.services import staff_profile_update
    from jasa.catalog.services import offer_update

    assert len(slots()) == 8
    offer_update(offer=offer, slot_interval_minutes=30)
    assert len(slots()) == 15  # 09:00 … 16:00 every half hour
    offer_update(offer=offer, slot_interval_minutes=60)

    other = member_factory(workspace)
    from tests.bookings.conftest import working_week

    working_week(workspace, other)
    offer.staff.add(other)  # the offer's staff set (m2m)
    assert {staff_id for _, staff_id in slots()} == {str(staff.pk), str(other.pk)}
    offer.staff.remove(staff)
    assert {staff_id for _, staff_id in slots()} == {str(other.pk)}
    offer.staff.add(staff)

    staff_profile_update(profile=staff.profile, time_zone="Asia/Jayapura")  # 09:00 WIT is 07:00 WIB
    mine = sorted(s for s, staff_id in slots() if staff_id == str(staff.pk))
    assert mine[0] == dt.datetime(2026, 12, 3, 7, tzinfo=JKT)


def test_a_deactivated_offer_is_not_found_at_once(client, slots, offer):
    from jasa.catalog.services import offer_update

    assert slots()
    offer_update(offer=offer, is_active=False)
    resp = client.get(f"/api/v1/offers/{offer.pk}/slots", {"start": THU.isoformat(), "end": THU.isoformat()})
    assert resp.status_code == 404


FEED = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:dentist@example.test
DTSTART:20261203T020000Z
DTEND:20261203T030000Z
SUMMARY:Dentist
END:VEVENT
END:VCALENDAR
"""


def test_calendar_sync_hides_a_slot(slots, staff, fake_http):  # noqa: F811
    from jasa.calendars import services

    @fake_http.route("GET", "/cal.ics")
    def _feed(req):
        return 200, {"Content-Type": "text/calendar"}, FEED

    conn = services.connection_create(membership=staff, kind="ics", name="Private", url=f"{fake_http.url}/cal.ics")
    assert THU_9 in [s for s, _ in slots()]
    version = availability_version(staff.workspace_id)
    services.connection_sync(conn.pk)  # busy rows are replaced in bulk: the sync bumps the version itself
    assert availability_version(staff.workspace_id) != version
    assert THU_9 not in [s for s, _ in slots()]  # 09:00–10:00 WIB is busy in the calendar
    assert THU_10 in [s for s, _ in slots()]


def test_notice_is_applied_within_a_cached_bucket_and_across_it(client, slots, offer_factory, frozen_clock):
    offer = offer_factory(min_notice_minutes=60)
    wed = dt.date(2026, 12, 2)  # now is Wednesday 10:00:00 WIB, the start of a time bucket
    first = [s for s, _ in slots(wed, offer=offer)]
    assert first[0] == dt.datetime(2026, 12, 2, 11, tzinfo=JKT)  # exactly the notice away: still bookable

    clock.advance(dt.timedelta(seconds=30))  # same bucket: the cached list is reused, the 11:00 slot is dropped
    with CaptureQueriesContext(connection) as queries:
        later = [s for s, _ in slots(wed, offer=offer)]
    assert not _reads_rules(queries.captured_queries)
    assert later == first[1:]

    clock.advance(dt.timedelta(minutes=61))  # a later bucket (11:01:30): computed again, 12:00 is too soon too
    with CaptureQueriesContext(connection) as queries:
        later = [s for s, _ in slots(wed, offer=offer)]
    assert _reads_rules(queries.captured_queries)
    assert later == first[2:] and later[0] == dt.datetime(2026, 12, 2, 13, tzinfo=JKT)
    assert slots.last["body"] == _uncached(client, offer, wed, wed)


def test_versions_are_per_workspace_and_stable_until_a_change(workspace, workspace_factory):
    from jasa.bookings.cache import availability_changed

    other = workspace_factory()
    mine, theirs = availability_version(workspace.pk), availability_version(other.pk)
    assert mine == availability_version(workspace.pk) and mine != theirs
    availability_changed(workspace.pk)
    assert availability_version(workspace.pk) != mine and availability_version(other.pk) == theirs
