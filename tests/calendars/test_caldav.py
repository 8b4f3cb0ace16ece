"""CalDAV against a real Radicale server: recurring events, TZID, all-day; booking events written, moved, deleted."""

import datetime as dt
import uuid
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import caldav
import pytest

from jasa.calendars import services
from jasa.calendars.models import BookingEvent, BusyInterval
from jasa.core import clock

NY = ZoneInfo("America/New_York")
JKT = ZoneInfo("Asia/Jakarta")
UTC = dt.UTC

EVENTS = [
    # Weekly on Mondays 10:00-11:00 New York time, across the 1 Nov 2026 DST change.
    """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:weekly-ny@test
DTSTAMP:20261001T000000Z
DTSTART;TZID=America/New_York:20261026T100000
DTEND;TZID=America/New_York:20261026T110000
RRULE:FREQ=WEEKLY;BYDAY=MO
SUMMARY:Standup
END:VEVENT
END:VCALENDAR
""",
    """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:holiday@test
DTSTAMP:20261001T000000Z
DTSTART;VALUE=DATE:20261028
DTEND;VALUE=DATE:20261029
SUMMARY:Day out
END:VEVENT
END:VCALENDAR
""",
]


@pytest.fixture
def dav(radicale_server):
    """A fresh calendar for this test on the shared Radicale server."""
    client = caldav.DAVClient(url=radicale_server.url, username=radicale_server.username,
                              password=radicale_server.password)
    cal = client.principal().make_calendar(name=f"work-{uuid.uuid4().hex[:6]}")
    for data in EVENTS:
        cal.add_event(data)
    return SimpleNamespace(server=radicale_server, client=client, calendar=cal)


@pytest.fixture
def staff(workspace, member_factory):
    m = member_factory(workspace)
    m.profile.time_zone = "America/New_York"
    m.profile.save()
    return m


def _connect(staff, dav, **extra):
    return services.connection_create(
        membership=staff, kind="caldav", name="Radicale", url=dav.server.url,
        credentials={"username": dav.server.username, "password": dav.server.password},
        selected_calendars=[str(dav.calendar.url)], **extra,
    )


def test_busy_from_radicale_recurring_tz_all_day(db, staff, dav):
    clock.freeze(dt.datetime(2026, 10, 20, tzinfo=UTC))
    conn = _connect(staff, dav)
    names = dict(services.connection_calendars(conn))
    assert str(dav.calendar.url) in names
    services.connection_sync(conn.pk)
    conn.refresh_from_db()
    assert conn.last_error == ""
    rows = list(BusyInterval.objects.filter(connection=conn).order_by("start"))
    weekly = [r for r in rows if r.source_uid == "weekly-ny@test"]
    assert len(weekly) >= 8  # every Monday through the 60-day window
    assert all(r.start.astimezone(NY).hour == 10 and r.start.astimezone(NY).weekday() == 0 for r in weekly)
    # 26 Oct is EDT (14:00 UTC), 2 Nov is EST (15:00 UTC)
    assert weekly[0].start.astimezone(UTC).hour == 14 and weekly[1].start.astimezone(UTC).hour == 15
    allday = [r for r in rows if r.source_uid == "holiday@test"]
    assert [(a.start, a.end) for a in allday] == [
        (dt.datetime(2026, 10, 28, tzinfo=NY), dt.datetime(2026, 10, 29, tzinfo=NY))]


def test_wrong_password_shows_error_and_keeps_cache(db, staff, dav):
    clock.freeze(dt.datetime(2026, 10, 20, tzinfo=UTC))
    conn = _connect(staff, dav)
    services.connection_sync(conn.pk)
    count = BusyInterval.objects.filter(connection=conn).count()
    services.connection_update(conn, credentials={"password": "wrong"})
    services.connection_sync(conn.pk)
    conn.refresh_from_db()
    assert "refused" in conn.last_error
    assert BusyInterval.objects.filter(connection=conn).count() == count


def _booking(staff, start, **kw):
    offer = SimpleNamespace(name=lambda lang="id": "Konsultasi 60 menit", location_detail="https://meet.example/x",
                            create_meet_link=False)
    return SimpleNamespace(pk=kw.get("pk", uuid.uuid4()), staff=staff, staff_id=staff.pk, workspace=staff.workspace,
                           offer=offer, client=SimpleNamespace(name="Budi", email="budi@example.test", phone="+628123"),
                           start_at=start, end_at=start + dt.timedelta(hours=1), reschedule_count=kw.get("n", 0))


def test_booking_event_written_moved_and_deleted(db, staff, dav):
    clock.freeze(dt.datetime(2026, 10, 20, tzinfo=UTC))
    conn = _connect(staff, dav, write_calendar=str(dav.calendar.url))
    start = dt.datetime(2026, 10, 29, 14, tzinfo=UTC)
    booking = _booking(staff, start)
    event = services.booking_event_upsert(booking)
    assert event is not None and event.connection == conn
    found = dav.calendar.event_by_url(event.external_id)
    vevent = found.icalendar_component
    assert str(vevent["UID"]) == f"booking-{booking.pk}@jasa"
    assert vevent["DTSTART"].dt == start
    assert "Budi" in str(vevent["SUMMARY"])

    moved = _booking(staff, start + dt.timedelta(days=1), pk=booking.pk, n=1)
    again = services.booking_event_upsert(moved)
    assert again.external_id == event.external_id
    assert dav.calendar.event_by_url(event.external_id).icalendar_component["DTSTART"].dt == moved.start_at
    # The written event comes back on the next sync but is not cached: the booking itself blocks.
    services.connection_sync(conn.pk)
    assert BusyInterval.objects.filter(connection=conn).exists()
    assert not BusyInterval.objects.filter(source_uid=f"booking-{booking.pk}@jasa").exists()

    assert services.booking_event_delete(moved) == 1
    assert not BookingEvent.objects.exists()
    with pytest.raises(caldav.lib.error.NotFoundError):
        dav.calendar.event_by_url(event.external_id)
    assert services.booking_event_delete(moved) == 0  # idempotent


def test_no_writable_calendar_is_a_no_op(db, staff, dav):
    _connect(staff, dav)  # read-only: no write calendar chosen
    assert services.booking_event_upsert(_booking(staff, dt.datetime(2026, 10, 29, 14, tzinfo=UTC))) is None
