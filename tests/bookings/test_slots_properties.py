"""Property tests of the slot engine: whatever the rules and busy times, the promises hold."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jasa.bookings.slots import Interval, OfferRules, StaffRules, compute_slots

ZONES = [ZoneInfo(z) for z in ("Asia/Jakarta", "Europe/Berlin", "America/New_York", "Asia/Makassar")]
VIEWER = ZoneInfo("Asia/Jakarta")
# Windows around both DST changes of 2026 (Mar and Oct/Nov) and a quiet month.
BASES = [dt.datetime(2026, 3, 5, tzinfo=dt.UTC), dt.datetime(2026, 10, 20, tzinfo=dt.UTC),
         dt.datetime(2026, 12, 1, tzinfo=dt.UTC)]
MINUTES = st.integers(min_value=0, max_value=24 * 4 - 1).map(lambda q: q * 15)


@st.composite
def time_ranges(draw):
    out = []
    for _ in range(draw(st.integers(0, 3))):
        a, b = sorted(draw(st.lists(MINUTES, min_size=2, max_size=2, unique=True)))
        out.append((dt.time(a // 60, a % 60), dt.time(b // 60, b % 60)))
    return out


@st.composite
def scenario(draw):
    base = draw(st.sampled_from(BASES))
    staff = []
    busy = {}
    for i in range(draw(st.integers(1, 3))):
        tz = draw(st.sampled_from(ZONES))
        weekly = {d: draw(time_ranges()) for d in range(7)}
        days = [(base + dt.timedelta(days=k)).date() for k in range(20)]
        overrides = {d: draw(time_ranges()) for d in draw(st.lists(st.sampled_from(days), max_size=3))}
        holidays = frozenset(draw(st.lists(st.sampled_from(days), max_size=3)))
        staff.append(StaffRules(f"s{i}", tz, weekly, overrides, holidays))
        intervals = []
        for _ in range(draw(st.integers(0, 25))):
            start = base + dt.timedelta(minutes=draw(st.integers(0, 20 * 24 * 60)))
            length = dt.timedelta(minutes=draw(st.integers(1, 8 * 60)))
            if draw(st.booleans()):
                pad = dt.timedelta(minutes=draw(st.sampled_from([0, 10, 15])))
                intervals.append(Interval.for_booking(start, start + length, pad, pad))
            else:
                intervals.append(Interval(start, start + length))
        busy[f"s{i}"] = intervals
    rules = OfferRules(
        duration_minutes=draw(st.sampled_from([15, 30, 45, 60, 90])),
        buffer_before_minutes=draw(st.sampled_from([0, 5, 15, 30])),
        buffer_after_minutes=draw(st.sampled_from([0, 5, 15, 30])),
        min_notice_minutes=draw(st.sampled_from([0, 60, 120, 24 * 60])),
        horizon_days=draw(st.integers(1, 20)),
        interval_minutes=draw(st.sampled_from([10, 15, 30, 60])),
        daily_limit=draw(st.none() | st.integers(0, 3)),
        weekly_limit=draw(st.none() | st.integers(0, 6)),
    )
    now = base + dt.timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    start = now - dt.timedelta(days=draw(st.integers(0, 2)))
    end = start + dt.timedelta(days=draw(st.integers(1, 21)))
    return staff, rules, busy, start.astimezone(VIEWER), end.astimezone(VIEWER), now


def _local_ranges(staff: StaffRules, day: dt.date):
    """The day's working ranges in UTC; touching or overlapping ranges are one stretch of work."""
    out: list[list[dt.datetime]] = []
    for a, b in sorted(staff.ranges_on(day)):
        start = dt.datetime.combine(day, a, tzinfo=staff.tz).astimezone(dt.UTC)
        end = dt.datetime.combine(day + dt.timedelta(days=1 if b == dt.time(0) else 0), b, tzinfo=staff.tz)
        end = end.astimezone(dt.UTC)
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        elif end > start:
            out.append([start, end])
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_every_promise_holds(case):
    staff, rules, busy, start, end, now = case
    slots = compute_slots(staff, rules, busy, start, end, now)
    # Calendar busy time given as epoch seconds (how the cache is read) gives the very same slots.
    bookings = {k: [iv for iv in v if iv.booking_start] for k, v in busy.items()}
    seconds = {k: [(iv.start.timestamp(), iv.end.timestamp()) for iv in v if not iv.booking_start]
               for k, v in busy.items()}
    assert compute_slots(staff, rules, bookings, start, end, now, busy_seconds=seconds) == slots
    by_id = {s.staff_id: s for s in staff}
    before = dt.timedelta(minutes=rules.buffer_before_minutes)
    after = dt.timedelta(minutes=rules.buffer_after_minutes)
    assert slots == sorted(slots, key=lambda s: (s.start, s.staff_id))
    assert len(set(slots)) == len(slots)
    for slot in slots:
        person = by_id[slot.staff_id]
        assert slot.end - slot.start == dt.timedelta(minutes=rules.duration_minutes)
        # window, notice, horizon
        assert start <= slot.start < end
        assert slot.start >= now + dt.timedelta(minutes=rules.min_notice_minutes)
        assert slot.start <= now + dt.timedelta(days=rules.horizon_days)
        # no overlap with busy time or another booking's buffered interval, counting this slot's buffers
        for iv in busy.get(slot.staff_id, []):
            assert not (slot.start - before < iv.end and iv.start < slot.end + after), (slot, iv)
        # inside working hours on the staff member's own calendar date
        day = slot.start.astimezone(person.tz).date()
        assert any(a <= slot.start and slot.end <= b for a, b in _local_ranges(person, day)), slot
        # limits hold: no slot on a day/week that already has the limit's number of bookings
        booked = [iv.booking_start.astimezone(person.tz).date() for iv in busy[slot.staff_id] if iv.booking_start]
        if rules.daily_limit is not None:
            assert sum(1 for d in booked if d == day) < rules.daily_limit
        if rules.weekly_limit is not None:
            week = day.isocalendar()[:2]
            assert sum(1 for d in booked if d.isocalendar()[:2] == week) < rules.weekly_limit


@settings(max_examples=60, deadline=None)
@given(scenario())
def test_nothing_free_is_missed_without_busy_time_or_limits(case):
    """Completeness: with no busy time and no limits, every grid point inside hours, notice and horizon is offered."""
    staff, rules, _busy, start, end, now = case
    rules = OfferRules(rules.duration_minutes, 0, 0, rules.min_notice_minutes, rules.horizon_days,
                       rules.interval_minutes)
    slots = {(s.start, s.staff_id) for s in compute_slots(staff, rules, {}, start, end, now)}
    step = dt.timedelta(minutes=rules.interval_minutes)
    duration = dt.timedelta(minutes=rules.duration_minutes)
    earliest = now + dt.timedelta(minutes=rules.min_notice_minutes)
    for person in staff:
        day = start.astimezone(person.tz).date() - dt.timedelta(days=1)
        while day <= end.astimezone(person.tz).date():
            for a, b in _local_ranges(person, day):
                t = a.astimezone(dt.UTC)
                while t + duration <= b:
                    if start <= t < end and t >= earliest and t <= now + dt.timedelta(days=rules.horizon_days):
                        assert (t, person.staff_id) in slots
                    t += step
            day += dt.timedelta(days=1)
