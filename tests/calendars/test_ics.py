"""ICS feeds: parsing (recurrence, zones, all-day, free/cancelled), conditional fetch, background sync."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from jasa.calendars import services
from jasa.calendars.ical import busy_from_ical
from jasa.calendars.models import BusyInterval, CalendarConnection
from jasa.core import clock, jobs
from jasa.core.models import AuditEntry, ScheduledJob

JKT = ZoneInfo("Asia/Jakarta")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC

FEED = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:weekly@test
DTSTAMP:20261001T000000Z
DTSTART;TZID=Europe/Berlin:20261013T090000
DTEND;TZID=Europe/Berlin:20261013T100000
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=Europe/Berlin:20261020T090000
SUMMARY:Weekly sync
END:VEVENT
BEGIN:VEVENT
UID:allday@test
DTSTAMP:20261001T000000Z
DTSTART;VALUE=DATE:20261030
DTEND;VALUE=DATE:20261031
SUMMARY:Conference
END:VEVENT
BEGIN:VEVENT
UID:free@test
DTSTAMP:20261001T000000Z
DTSTART:20261014T050000Z
DTEND:20261014T060000Z
TRANSP:TRANSPARENT
SUMMARY:Free time
END:VEVENT
BEGIN:VEVENT
UID:cancelled@test
DTSTAMP:20261001T000000Z
DTSTART:20261015T050000Z
DTEND:20261015T060000Z
STATUS:CANCELLED
END:VEVENT
END:VCALENDAR
"""


def test_parse_recurrence_zones_all_day_and_skips():
    busy = busy_from_ical(FEED, dt.datetime(2026, 10, 1, tzinfo=UTC), dt.datetime(2026, 11, 30, tzinfo=UTC), JKT)
    weekly = sorted(b.start for b in busy if b.uid == "weekly@test")
    # 13 Oct and 27 Oct (summer / after the change), 20 Oct excluded; 09:00 Berlin on each date.
    assert [w.astimezone(BERLIN).strftime("%m-%d %H:%M") for w in weekly] == ["10-13 09:00", "10-27 09:00", "11-03 09:00"]
    assert weekly[0].astimezone(UTC).hour == 7 and weekly[1].astimezone(UTC).hour == 8  # DST ended 25 Oct
    allday = [b for b in busy if b.uid == "allday@test"]
    assert len(allday) == 1
    assert allday[0].start == dt.datetime(2026, 10, 30, tzinfo=JKT)  # a whole day in the staff member's zone
    assert allday[0].end == dt.datetime(2026, 10, 31, tzinfo=JKT)
    assert not any(b.uid in ("free@test", "cancelled@test") for b in busy)


@pytest.fixture
def staff(workspace, member_factory):
    return member_factory(workspace)


def _feed_server(fake_http, state):
    @fake_http.route("GET", "/cal.ics")
    def _feed(req):
        state["seen"].append({k.lower(): v for k, v in req.headers.items()})
        if state.get("fail"):
            return 500, {}, b"oops"
        if req.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"Content-Type": "text/calendar", "ETag": '"v1"',
                     "Last-Modified": "Wed, 30 Sep 2026 10:00:00 GMT"}, FEED


def test_ics_sync_conditional_fetch_and_failure_keeps_cache(db, staff, fake_http):
    state = {"seen": []}
    _feed_server(fake_http, state)
    clock.freeze(dt.datetime(2026, 10, 10, 1, tzinfo=UTC))
    conn = services.connection_create(membership=staff, kind="ics", name="Team", url=f"{fake_http.url}/cal.ics")
    services.connection_sync(conn.pk)
    conn.refresh_from_db()
    assert conn.last_error == "" and conn.etag == '"v1"' and conn.last_synced_at == clock.now()
    rows = BusyInterval.objects.filter(connection=conn)
    assert rows.count() == 4  # 3 weekly occurrences + 1 all-day
    assert "if-none-match" not in state["seen"][0]

    clock.advance(dt.timedelta(minutes=10))
    services.connection_sync(conn.pk)
    assert state["seen"][1]["if-none-match"] == '"v1"'
    assert state["seen"][1]["if-modified-since"] == "Wed, 30 Sep 2026 10:00:00 GMT"
    conn.refresh_from_db()
    assert conn.last_synced_at == clock.now() and rows.count() == 4  # 304: the cache stays

    state["fail"] = True
    clock.advance(dt.timedelta(minutes=10))
    services.connection_sync(conn.pk)
    conn.refresh_from_db()
    assert "HTTP 500" in conn.last_error
    assert conn.last_synced_at == clock.now() - dt.timedelta(minutes=10)
    assert rows.count() == 4  # last known busy times still count
    assert AuditEntry.objects.filter(action="calendar.sync_failed").count() == 1

    state["fail"] = False
    clock.advance(dt.timedelta(days=1))  # a new day: fetched in full, no conditional headers
    services.connection_sync(conn.pk)
    assert "if-none-match" not in state["seen"][-1]
    conn.refresh_from_db()
    assert conn.last_error == ""


def test_busy_cache_blocks_slots(db, staff, fake_http):
    from jasa.bookings.availability import available_slots
    from jasa.bookings.models_availability import WorkingHours
    from jasa.catalog.models import ConsultationOffer

    staff.profile.time_zone = "Europe/Berlin"
    staff.profile.save()
    _feed_server(fake_http, {"seen": []})
    clock.freeze(dt.datetime(2026, 10, 10, 1, tzinfo=UTC))
    offer = ConsultationOffer.objects.create(workspace=staff.workspace, name_id="K", slug="k", duration_minutes=60,
                                             price_amount=1, min_notice_minutes=0, slot_interval_minutes=60)
    offer.staff.add(staff)
    WorkingHours.objects.create(workspace=staff.workspace, membership=staff, weekday=1, start_time=dt.time(9),
                                end_time=dt.time(11))
    conn = services.connection_create(membership=staff, kind="ics", name="Team", url=f"{fake_http.url}/cal.ics")
    day = dt.date(2026, 10, 13)
    before = available_slots(offer, day, day, BERLIN)
    assert [s.start.astimezone(BERLIN).hour for s in before] == [9, 10]  # sync has not run: nothing blocks yet
    services.connection_sync(conn.pk)
    assert [s.start.astimezone(BERLIN).hour for s in available_slots(offer, day, day, BERLIN)] == [10]


def test_sync_runs_as_background_jobs(db, staff, fake_http):
    state = {"seen": []}
    _feed_server(fake_http, state)
    clock.freeze(dt.datetime(2026, 10, 10, 1, tzinfo=UTC))
    conn = services.connection_create(membership=staff, kind="ics", name="Team", url=f"{fake_http.url}/cal.ics")
    assert state["seen"] == []  # creating never fetches inside the request
    assert jobs.sweep(enqueue=jobs.run) == 1
    assert len(state["seen"]) == 1
    clock.advance(dt.timedelta(minutes=5))
    assert jobs.sweep(enqueue=jobs.run) == 0
    clock.advance(dt.timedelta(minutes=6))
    assert jobs.sweep(enqueue=jobs.run) == 1
    assert len(state["seen"]) == 2
    # "Sync now" beside the regular chain does not fork a second chain.
    services.connection_sync_soon(conn)
    jobs.sweep(enqueue=jobs.run)
    pending = ScheduledJob.objects.filter(kind=services.SYNC_JOB, status=ScheduledJob.PENDING)
    assert pending.count() == 1
    services.connection_delete(conn)
    assert not CalendarConnection.objects.filter(pk=conn.pk).exists()
    assert not BusyInterval.objects.exists()
    assert ScheduledJob.objects.filter(kind=services.SYNC_JOB, status=ScheduledJob.PENDING).count() == 0


def test_credentials_are_encrypted_at_rest(db, staff, settings):
    conn = services.connection_create(membership=staff, kind="caldav", name="Dav", url="https://dav.example/",
                                      credentials={"username": "u", "password": "hunter2-secret"})
    raw = CalendarConnection.objects.values_list("credentials_encrypted", flat=True).get(pk=conn.pk)
    assert "hunter2" not in raw and raw
    assert CalendarConnection.objects.get(pk=conn.pk).credentials == {"username": "u", "password": "hunter2-secret"}
    settings.JASA_ENCRYPTION_KEY = "another passphrase"
    with pytest.raises(ValueError, match="JASA_ENCRYPTION_KEY"):
        CalendarConnection.objects.get(pk=conn.pk).credentials  # noqa: B018


def test_redirects_are_followed_and_internal_addresses_refused_in_production(db, staff, fake_http, settings):
    state = {"seen": []}
    _feed_server(fake_http, state)

    @fake_http.route("GET", "/moved.ics")
    def _moved(req):
        return 301, {"Location": "/cal.ics"}, b""

    clock.freeze(dt.datetime(2026, 10, 10, 1, tzinfo=UTC))
    conn = services.connection_create(membership=staff, kind="ics", name="Moved", url=f"{fake_http.url}/moved.ics")
    services.connection_sync(conn.pk)
    conn.refresh_from_db()
    assert conn.last_error == "" and BusyInterval.objects.filter(connection=conn).count() == 4

    settings.JASA_CALENDAR_ALLOW_PRIVATE_URLS = False  # what production does by default
    services.connection_sync(conn.pk)
    conn.refresh_from_db()
    assert "inside the server's own network" in conn.last_error
    assert len(state["seen"]) == 1  # refused before any request went out
