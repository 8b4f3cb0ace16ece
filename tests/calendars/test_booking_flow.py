"""End to end with the bookings module: confirm -> event in Radicale, reschedule -> moved, cancel -> deleted."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import caldav
import icalendar
import pytest
from django.test import Client
from django.urls import reverse

from jasa.calendars import services
from jasa.calendars.models import BookingEvent
from jasa.core import clock, jobs

JKT = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def setup(workspace, member_factory, radicale_server):
    from jasa.bookings.models_availability import WorkingHours
    from jasa.catalog.models import ConsultationOffer

    clock.freeze(dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC))
    staff = member_factory(workspace)
    for day in range(5):
        WorkingHours.objects.create(workspace=workspace, membership=staff, weekday=day, start_time=dt.time(9),
                                    end_time=dt.time(17))
    offer = ConsultationOffer.objects.create(workspace=workspace, name_id="Konsultasi gratis", slug="gratis",
                                             duration_minutes=60, price_amount=0, min_notice_minutes=0)
    offer.staff.add(staff)
    dav = caldav.DAVClient(url=radicale_server.url, username=radicale_server.username,
                           password=radicale_server.password)
    cal = dav.principal().make_calendar(name=f"jasa-{uuid.uuid4().hex[:6]}")
    services.connection_create(
        membership=staff, kind="caldav", name="Radicale", url=radicale_server.url,
        credentials={"username": radicale_server.username, "password": radicale_server.password},
        selected_calendars=[str(cal.url)], write_calendar=str(cal.url),
    )
    return offer, staff, cal


def _events(cal):
    return {str(e.icalendar_component["UID"]): e.icalendar_component["DTSTART"].dt for e in cal.events()}


def test_confirmed_booking_is_written_moved_and_removed(db, setup):
    from jasa.bookings.services import booking_cancel, booking_hold, booking_reschedule

    offer, staff, cal = setup
    start = dt.datetime(2026, 12, 3, 10, tzinfo=JKT)
    booking = booking_hold(offer=offer, start=start, client_name="Budi", client_email="budi@example.test")
    assert booking.status == "confirmed"  # nothing to pay: confirmed at once
    jobs.sweep(enqueue=jobs.run)
    uid = f"booking-{booking.pk}@jasa"
    assert _events(cal) == {uid: start}
    assert BookingEvent.objects.get(booking_id=str(booking.pk)).connection.membership == staff

    # The staff member's outgoing feed lists it too.
    feed = Client().get(reverse("calendars:feed", args=[services.feed_for(staff).token]))
    events = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    assert [(str(e["UID"]), e["DTSTART"].dt, str(e["STATUS"])) for e in events] == [(uid, start, "CONFIRMED")]

    later = start + dt.timedelta(hours=2)
    booking = booking_reschedule(booking=booking, start=later, by="staff")
    jobs.sweep(enqueue=jobs.run)
    assert _events(cal) == {uid: later}

    booking_cancel(booking=booking, by="staff")
    jobs.sweep(enqueue=jobs.run)
    assert _events(cal) == {}
    assert not BookingEvent.objects.exists()
