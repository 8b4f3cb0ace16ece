"""Availability from the database: rules, calendar busy cache, the bookings hook, final validation."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from jasa.bookings import availability
from jasa.bookings.models_availability import DateOverride, PublicHoliday, WorkingHours
from jasa.bookings.slots import Interval
from jasa.core import clock

JKT = ZoneInfo("Asia/Jakarta")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def offer_with_staff(workspace, member_factory):
    from jasa.catalog.models import ConsultationOffer

    staff = member_factory(workspace)
    offer = ConsultationOffer.objects.create(
        workspace=workspace, name_id="Konsultasi", slug="konsultasi", duration_minutes=60, price_amount=500_000,
        min_notice_minutes=0, slot_interval_minutes=60,
    )
    offer.staff.add(staff)
    for day in range(5):
        WorkingHours.objects.create(workspace=workspace, membership=staff, weekday=day,
                                    start_time=dt.time(9), end_time=dt.time(12))
    return offer, staff


@pytest.fixture
def provider():
    saved = list(availability._provider)
    yield availability.bookings_provider
    availability._provider[:] = saved


def hours(slots, tz=JKT):
    return [s.start.astimezone(tz).strftime("%d %H:%M") for s in slots]


def test_available_slots_reads_hours_overrides_holidays(frozen_clock, offer_with_staff):
    offer, staff = offer_with_staff
    ws = offer.workspace
    DateOverride.objects.create(workspace=ws, membership=staff, date=dt.date(2026, 12, 3), ranges=[["10:00", "11:00"]])
    PublicHoliday.objects.create(workspace=ws, date=dt.date(2026, 12, 4), name="Libur")
    DateOverride.objects.create(workspace=ws, membership=staff, date=dt.date(2026, 12, 7), is_day_off=True)
    slots = availability.available_slots(offer, dt.date(2026, 12, 2), dt.date(2026, 12, 8), JKT)
    # now is Wed 2 Dec 10:00 Jakarta
    assert hours(slots) == ["02 10:00", "02 11:00", "03 10:00", "08 09:00", "08 10:00", "08 11:00"]
    assert {s.staff_id for s in slots} == {str(staff.pk)}


def test_calendar_busy_cache_and_bookings_hook_block_slots(frozen_clock, offer_with_staff, provider):
    from jasa.calendars.models import BusyInterval, CalendarConnection

    offer, staff = offer_with_staff
    conn = CalendarConnection.objects.create(workspace=offer.workspace, membership=staff, kind="ics", name="x")
    BusyInterval.objects.create(workspace=offer.workspace, connection=conn, membership=staff,
                                start=dt.datetime(2026, 12, 3, 9, tzinfo=JKT), end=dt.datetime(2026, 12, 3, 10, tzinfo=JKT))
    seen = {}

    @provider
    def _busy(staff_ids, start, end, exclude_booking=None):
        seen["args"] = (staff_ids, exclude_booking)
        b = dt.datetime(2026, 12, 3, 11, tzinfo=JKT)
        return {str(staff.pk): [Interval.for_booking(b, b + dt.timedelta(hours=1))]}

    slots = availability.available_slots(offer, dt.date(2026, 12, 3), dt.date(2026, 12, 3), JKT, exclude_booking="bk")
    assert hours(slots) == ["03 10:00"]
    assert seen["args"] == ([str(staff.pk)], "bk")
    conn.is_active = False
    conn.save()
    assert hours(availability.available_slots(offer, dt.date(2026, 12, 3), dt.date(2026, 12, 3), JKT)) == [
        "03 09:00", "03 10:00"]


def test_slot_is_free_and_free_staff(frozen_clock, offer_with_staff, member_factory):
    offer, staff = offer_with_staff
    other = member_factory(offer.workspace)  # not on the offer
    start = dt.datetime(2026, 12, 3, 9, tzinfo=JKT)
    assert availability.slot_is_free(offer, staff, start)
    assert not availability.slot_is_free(offer, staff, start + dt.timedelta(minutes=30))  # off the grid
    assert not availability.slot_is_free(offer, staff, dt.datetime(2026, 12, 3, 12, tzinfo=JKT))
    assert not availability.slot_is_free(offer, other, start)
    assert not availability.slot_is_free(offer, staff, dt.datetime(2026, 12, 3, 9))  # naive
    assert availability.free_staff_at(offer, start) == [staff]
    clock.advance(dt.timedelta(days=1))
    assert not availability.slot_is_free(offer, staff, start)  # in the past now


def test_staff_zone_is_used_and_viewer_zone_only_frames_the_days(frozen_clock, offer_with_staff):
    offer, staff = offer_with_staff
    staff.profile.time_zone = "Europe/Berlin"
    staff.profile.save()
    # 9-12 Berlin on 3 Dec (winter, UTC+1) is 15-18 Jakarta.
    slots = availability.available_slots(offer, dt.date(2026, 12, 3), dt.date(2026, 12, 3), JKT)
    assert hours(slots) == ["03 15:00", "03 16:00", "03 17:00"]
    assert all(s.start.astimezone(BERLIN).hour in (9, 10, 11) for s in slots)


def test_hook_default_is_empty():
    saved = list(availability._provider)
    availability._provider.clear()
    try:
        assert availability.busy_from_bookings(["x"], clock.now(), clock.now()) == {}
    finally:
        availability._provider[:] = saved


def test_rescheduled_booking_is_not_held_by_its_own_calendar_copy(frozen_clock, offer_with_staff):
    from types import SimpleNamespace

    from jasa.calendars.models import BusyInterval, CalendarConnection

    offer, staff = offer_with_staff
    conn = CalendarConnection.objects.create(workspace=offer.workspace, membership=staff, kind="google", name="g")
    start = dt.datetime(2026, 12, 3, 9, tzinfo=JKT)
    BusyInterval.objects.create(workspace=offer.workspace, connection=conn, membership=staff,
                                start=start, end=start + dt.timedelta(hours=1))
    day = dt.date(2026, 12, 3)
    assert hours(availability.available_slots(offer, day, day, JKT)) == ["03 10:00", "03 11:00"]
    moving = SimpleNamespace(pk=uuid.uuid4(), staff_id=staff.pk, start_at=start, end_at=start + dt.timedelta(hours=1))
    assert hours(availability.available_slots(offer, day, day, JKT, exclude_booking=moving)) == [
        "03 09:00", "03 10:00", "03 11:00"]
    assert availability.slot_is_free(offer, staff, start, exclude_booking=moving)
