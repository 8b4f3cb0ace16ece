"""The slot engine: one pure function of (rules, busy intervals, now). No database, no clock.

``compute_slots`` turns each staff member's weekly hours, date overrides and holidays (all in
the staff member's own zone) into bookable start times, then removes every candidate whose
session *with the offer's buffers* overlaps busy time (calendar busy times, other bookings and
holds — each already widened by its own buffers, see :meth:`Interval.for_booking`), every
candidate before the minimum notice or past the horizon, and every day or week on which the
staff member already reached the offer's limit.

Speed: all times are epoch seconds inside. Busy intervals are sorted and merged once per staff
member (O(n log n)); each candidate is then checked with one ``bisect`` (O(log n)). The
calendar cache arrives as seconds (``busy_seconds``) so thousands of rows never become
datetime objects; 5,000 busy intervals over 90 days take a few milliseconds.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from zoneinfo import ZoneInfo

UTC = dt.UTC
TimeRange = tuple[dt.time, dt.time]


@dataclass(frozen=True, slots=True)
class Interval:
    """Busy time [start, end). ``booking_start`` marks a jasa booking or hold: it counts toward limits."""

    start: dt.datetime
    end: dt.datetime
    booking_start: dt.datetime | None = None

    @classmethod
    def for_booking(
        cls,
        start: dt.datetime,
        end: dt.datetime,
        buffer_before: dt.timedelta = dt.timedelta(0),
        buffer_after: dt.timedelta = dt.timedelta(0),
    ) -> Interval:
        """A booking or hold as busy time: widened by its own buffers, counted on its session start."""
        return cls(start - buffer_before, end + buffer_after, booking_start=start)


@dataclass(frozen=True, slots=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    staff_id: str


@dataclass(frozen=True)
class OfferRules:
    """The offer's scheduling rules, in minutes (days for the horizon)."""

    duration_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    horizon_days: int = 60
    interval_minutes: int = 30
    daily_limit: int | None = None
    weekly_limit: int | None = None

    @classmethod
    def from_offer(cls, offer) -> OfferRules:
        return cls(
            duration_minutes=offer.duration_minutes,
            buffer_before_minutes=offer.buffer_before_minutes,
            buffer_after_minutes=offer.buffer_after_minutes,
            min_notice_minutes=offer.min_notice_minutes,
            horizon_days=offer.horizon_days,
            interval_minutes=offer.slot_interval_minutes,
            daily_limit=offer.daily_limit,
            weekly_limit=offer.weekly_limit,
        )


@dataclass(frozen=True)
class StaffRules:
    """One staff member's hours in their own zone.

    ``weekly`` maps weekday (0 = Monday) to time ranges. ``overrides`` maps a date to the ranges
    that replace that day's weekly hours (an empty list is a day off). ``holidays`` are days off
    unless an override for the same date gives hours (a staff member may choose to work).
    A range ending at 00:00 ends at midnight of the next day.
    """

    staff_id: str
    tz: ZoneInfo
    weekly: Mapping[int, list[TimeRange]] = field(default_factory=dict)
    overrides: Mapping[dt.date, list[TimeRange]] = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()

    def ranges_on(self, day: dt.date) -> list[TimeRange]:
        if day in self.overrides:
            return list(self.overrides[day])
        if day in self.holidays:
            return []
        return list(self.weekly.get(day.weekday(), ()))


_first = itemgetter(0)


def merge(intervals: list) -> tuple[list, list]:
    """Sort and merge [start, end) pairs; returns ascending starts and ends (disjoint, so both sorted)."""
    starts: list = []
    ends: list = []
    add_start, add_end = starts.append, ends.append
    intervals.sort(key=_first)  # by start only: several times faster than comparing whole tuples
    current_start = current_end = None
    for start, end in intervals:
        if end <= start:
            continue
        if current_end is not None and start <= current_end:
            if end > current_end:
                current_end = end
            continue
        if current_end is not None:
            add_start(current_start)
            add_end(current_end)
        current_start, current_end = start, end
    if current_end is not None:
        add_start(current_start)
        add_end(current_end)
    return starts, ends


def overlaps(starts: list, ends: list, a, b) -> bool:
    """Does [a, b) overlap any merged interval? The one with the greatest start < b has the greatest end."""
    i = bisect_left(starts, b) - 1
    return i >= 0 and ends[i] > a


def working_windows(rules: StaffRules, first: dt.date, last: dt.date) -> list[tuple[float, float, dt.date]]:
    """Working ranges from ``first`` to ``last`` (staff-local dates) in epoch seconds, with their local date."""
    out: list[tuple[float, float, dt.date]] = []
    day = first
    one = dt.timedelta(days=1)
    while day <= last:
        pairs = []
        for start_t, end_t in rules.ranges_on(day):
            start = dt.datetime.combine(day, start_t, tzinfo=rules.tz)
            end_day = day + one if end_t == dt.time(0) else day
            end = dt.datetime.combine(end_day, end_t, tzinfo=rules.tz)
            # A range starting in a spring-forward gap starts when the clock reaches real time again.
            pairs.append((start.timestamp(), end.timestamp()))
        # Overlapping ranges of one day (09-12 and 11-14) are one range, so no start is offered twice.
        starts, ends = merge(pairs)
        out.extend((s, e, day) for s, e in zip(starts, ends, strict=True))
        day += one
    return out


def _booked_counts(intervals: Iterable[Interval], tz: ZoneInfo) -> tuple[dict[dt.date, int], dict[tuple, int]]:
    daily: dict[dt.date, int] = {}
    weekly: dict[tuple, int] = {}
    for iv in intervals:
        if iv.booking_start is None:
            continue
        day = iv.booking_start.astimezone(tz).date()
        daily[day] = daily.get(day, 0) + 1
        week = day.isocalendar()[:2]
        weekly[week] = weekly.get(week, 0) + 1
    return daily, weekly


def compute_slots(
    rules: list[StaffRules],
    offer_rules: OfferRules,
    busy: Mapping[str, list[Interval]],
    window_start: dt.datetime,
    window_end: dt.datetime,
    now: dt.datetime,
    *,
    busy_seconds: Mapping[str, list[tuple[float, float]]] | None = None,
) -> list[Slot]:
    """Bookable slots starting in [window_start, window_end), one per free staff member, sorted by time.

    ``busy`` holds bookings, holds and any other busy time as :class:`Interval` objects.
    ``busy_seconds`` may add busy time as (start, end) epoch seconds: the form the calendar cache
    is read in, because making thousands of datetime objects costs more than computing the slots.
    """
    duration = offer_rules.duration_minutes * 60
    step = max(1, offer_rules.interval_minutes) * 60
    before = offer_rules.buffer_before_minutes * 60
    after = offer_rules.buffer_after_minutes * 60
    now_s = _seconds(now)
    earliest = max(_seconds(window_start), now_s + offer_rules.min_notice_minutes * 60)
    horizon = now_s + offer_rules.horizon_days * 86400  # a slot may start at the horizon, not after
    window_end_s = _seconds(window_end)
    if duration <= 0 or earliest >= window_end_s or earliest > horizon:
        return []
    out: list[Slot] = []
    for staff in rules:
        intervals = busy.get(staff.staff_id, ())
        pairs = [(iv.start.timestamp(), iv.end.timestamp()) for iv in intervals]
        if busy_seconds:
            pairs.extend(busy_seconds.get(staff.staff_id, ()))
        starts, ends = merge(pairs)
        daily, weekly = _booked_counts(intervals, staff.tz)
        first = dt.datetime.fromtimestamp(earliest, staff.tz).date() - dt.timedelta(days=1)
        last = dt.datetime.fromtimestamp(min(window_end_s, horizon), staff.tz).date()
        for range_start, range_end, day in working_windows(staff, first, last):
            if offer_rules.daily_limit is not None and daily.get(day, 0) >= offer_rules.daily_limit:
                continue
            if (
                offer_rules.weekly_limit is not None
                and weekly.get(day.isocalendar()[:2], 0) >= offer_rules.weekly_limit
            ):
                continue
            # Candidates are aligned to the range start; skip straight to the first one past `earliest`.
            t = range_start
            if t < earliest:
                t += -(-(earliest - t) // step) * step
            while t + duration <= range_end and t < window_end_s and t <= horizon:
                if not overlaps(starts, ends, t - before, t + duration + after):
                    out.append(Slot(_utc(t), _utc(t + duration), staff.staff_id))
                t += step
    out.sort(key=lambda s: (s.start, s.staff_id))
    return out


def _seconds(value: dt.datetime) -> float:
    if value.tzinfo is None:
        raise ValueError("slot computation needs aware datetimes")
    return value.timestamp()


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)
