"""The pure slot engine: working hours, overrides, holidays, buffers, notice, horizon, limits, DST."""

import datetime as dt
from zoneinfo import ZoneInfo

from jasa.bookings.slots import Interval, OfferRules, StaffRules, compute_slots, merge, overlaps

JKT = ZoneInfo("Asia/Jakarta")
BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")
T = dt.time
UTC = dt.UTC


def weekdays(*ranges):
    return {d: list(ranges) for d in range(5)}


def local(tz, y, m, d, hh, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=tz)


def test_merge_and_overlap_use_half_open_intervals():
    starts, ends = merge([(10, 20), (15, 30), (40, 50), (30, 35)])
    assert (starts, ends) == ([10, 40], [35, 50])
    assert overlaps(starts, ends, 0, 11)
    assert not overlaps(starts, ends, 0, 10)  # touching is not overlapping
    assert not overlaps(starts, ends, 35, 40)
    assert overlaps(starts, ends, 34, 36)
    assert overlaps(starts, ends, 0, 100)


def test_weekday_hours_in_staff_zone_with_several_ranges():
    staff = StaffRules("a", JKT, weekly=weekdays((T(9), T(12)), (T(13), T(15))))
    rules = OfferRules(duration_minutes=60, interval_minutes=60)
    now = local(JKT, 2026, 12, 1, 0)  # Tuesday
    slots = compute_slots([staff], rules, {}, local(JKT, 2026, 12, 1, 0), local(JKT, 2026, 12, 2, 0), now)
    assert [s.start.astimezone(JKT).hour for s in slots] == [9, 10, 11, 13, 14]
    assert all(s.end - s.start == dt.timedelta(hours=1) for s in slots)
    assert all(s.staff_id == "a" for s in slots)


def test_weekend_override_holiday():
    staff = StaffRules(
        "a", JKT, weekly=weekdays((T(9), T(11))),
        overrides={dt.date(2026, 12, 2): [], dt.date(2026, 12, 5): [(T(10), T(11))],
                   dt.date(2026, 12, 25): [(T(9), T(10))]},
        holidays=frozenset({dt.date(2026, 12, 3), dt.date(2026, 12, 25)}),
    )
    rules = OfferRules(duration_minutes=60, interval_minutes=60)
    now = local(JKT, 2026, 11, 30, 0)
    slots = compute_slots([staff], rules, {}, now, local(JKT, 2026, 12, 26, 0), now)
    days = {}
    for s in slots:
        days.setdefault(s.start.astimezone(JKT).date(), []).append(s.start.astimezone(JKT).hour)
    assert days[dt.date(2026, 12, 1)] == [9, 10]
    assert dt.date(2026, 12, 2) not in days  # override: day off
    assert dt.date(2026, 12, 3) not in days  # public holiday
    assert days[dt.date(2026, 12, 5)] == [10]  # Saturday made a working day
    assert dt.date(2026, 12, 6) not in days  # Sunday
    assert days[dt.date(2026, 12, 25)] == [9]  # the staff member works on the holiday by override


def test_buffers_of_the_slot_and_of_other_bookings():
    staff = StaffRules("a", JKT, weekly=weekdays((T(9), T(17))))
    rules = OfferRules(duration_minutes=60, interval_minutes=30, buffer_before_minutes=15, buffer_after_minutes=15)
    booking = Interval.for_booking(
        local(JKT, 2026, 12, 1, 12), local(JKT, 2026, 12, 1, 13),
        dt.timedelta(minutes=15), dt.timedelta(minutes=15),
    )
    now = local(JKT, 2026, 11, 30, 0)
    slots = compute_slots([staff], rules, {"a": [booking]}, local(JKT, 2026, 12, 1, 0), local(JKT, 2026, 12, 2, 0), now)
    starts = [s.start.astimezone(JKT).strftime("%H:%M") for s in slots]
    # 10:30 ends 11:30, +15 = 11:45: exactly where the booking's own buffer begins (touching is allowed).
    assert "10:30" in starts
    assert "11:00" not in starts and "13:00" not in starts
    assert "13:30" in starts  # 13:30 - 15 = 13:15 == booking end + buffer


def test_notice_and_horizon():
    staff = StaffRules("a", JKT, weekly={d: [(T(9), T(17))] for d in range(7)})
    rules = OfferRules(duration_minutes=30, interval_minutes=30, min_notice_minutes=120, horizon_days=2)
    now = local(JKT, 2026, 12, 1, 10, 10)
    slots = compute_slots([staff], rules, {}, local(JKT, 2026, 12, 1, 0), local(JKT, 2026, 12, 10, 0), now)
    assert slots[0].start == local(JKT, 2026, 12, 1, 12, 30)
    assert slots[-1].start <= now + dt.timedelta(days=2)
    assert slots[-1].start.astimezone(JKT).date() == dt.date(2026, 12, 3)


def test_daily_and_weekly_limits_count_bookings():
    staff = StaffRules("a", JKT, weekly={d: [(T(9), T(17))] for d in range(7)})
    b1 = Interval.for_booking(local(JKT, 2026, 12, 1, 9), local(JKT, 2026, 12, 1, 10))
    b2 = Interval.for_booking(local(JKT, 2026, 12, 2, 9), local(JKT, 2026, 12, 2, 10))
    calendar = Interval(local(JKT, 2026, 12, 3, 9), local(JKT, 2026, 12, 3, 10))  # not a booking: no count
    now = local(JKT, 2026, 11, 30, 0)
    window = (local(JKT, 2026, 11, 30, 0), local(JKT, 2026, 12, 14, 0))
    busy = {"a": [b1, b2, calendar]}
    daily = compute_slots([staff], OfferRules(60, interval_minutes=60, daily_limit=1), busy, *window, now)
    days = {s.start.astimezone(JKT).date() for s in daily}
    assert dt.date(2026, 12, 1) not in days and dt.date(2026, 12, 2) not in days
    assert dt.date(2026, 12, 3) in days
    weekly = compute_slots([staff], OfferRules(60, interval_minutes=60, weekly_limit=2), busy, *window, now)
    days = {s.start.astimezone(JKT).date() for s in weekly}
    # ISO week of 30 Nov - 6 Dec is full; the next week is open.
    assert not any(dt.date(2026, 11, 30) <= d <= dt.date(2026, 12, 6) for d in days)
    assert dt.date(2026, 12, 7) in days


def test_several_staff_each_get_their_own_slots():
    a = StaffRules("a", JKT, weekly=weekdays((T(9), T(10))))
    b = StaffRules("b", JKT, weekly=weekdays((T(9), T(10))))
    busy = {"a": [Interval(local(JKT, 2026, 12, 1, 9), local(JKT, 2026, 12, 1, 10))]}
    now = local(JKT, 2026, 11, 30, 0)
    slots = compute_slots([a, b], OfferRules(60, interval_minutes=60), busy,
                          local(JKT, 2026, 12, 1, 0), local(JKT, 2026, 12, 3, 0), now)
    assert [(s.start.astimezone(JKT).day, s.staff_id) for s in slots] == [(1, "b"), (2, "a"), (2, "b")]


def test_dst_berlin_staff_keeps_local_hours_seen_from_jakarta():
    # Berlin leaves summer time on 25 Oct 2026: 09:00 Berlin is 14:00 in Jakarta before, 15:00 after.
    staff = StaffRules("a", BERLIN, weekly={d: [(T(9), T(10))] for d in range(7)})
    now = dt.datetime(2026, 10, 20, tzinfo=UTC)
    slots = compute_slots([staff], OfferRules(60, interval_minutes=60), {},
                          local(JKT, 2026, 10, 23, 0), local(JKT, 2026, 10, 28, 0), now)
    seen = {s.start.astimezone(JKT).date(): s.start.astimezone(JKT).hour for s in slots}
    assert seen[dt.date(2026, 10, 24)] == 14
    assert seen[dt.date(2026, 10, 26)] == 15
    assert all(s.start.astimezone(BERLIN).hour == 9 for s in slots)


def test_dst_new_york_spring_forward_day_and_night_hours():
    # 8 Mar 2026 02:00 -> 03:00 in New York. A 01:00-04:00 range is 2 real hours that day.
    staff = StaffRules("a", NY, weekly={d: [(T(1), T(4))] for d in range(7)})
    now = dt.datetime(2026, 3, 1, tzinfo=UTC)
    slots = compute_slots([staff], OfferRules(60, interval_minutes=60), {},
                          local(NY, 2026, 3, 8, 0), local(NY, 2026, 3, 9, 0), now)
    assert [s.start.astimezone(NY).strftime("%H:%M") for s in slots] == ["01:00", "03:00"]


def test_range_until_midnight_and_naive_refused():
    staff = StaffRules("a", JKT, weekly={d: [(T(22), T(0))] for d in range(7)})
    now = local(JKT, 2026, 11, 30, 0)
    slots = compute_slots([staff], OfferRules(60, interval_minutes=60), {},
                          local(JKT, 2026, 12, 1, 0), local(JKT, 2026, 12, 2, 0), now)
    assert [s.start.astimezone(JKT).hour for s in slots] == [22, 23]
    import pytest

    with pytest.raises(ValueError):
        compute_slots([staff], OfferRules(60), {}, dt.datetime(2026, 12, 1), local(JKT, 2026, 12, 2, 0), now)
