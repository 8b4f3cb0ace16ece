"""Availability from the database: loads the rules and busy times, then asks the slot engine.

Reads only: working hours, date overrides and holidays, the *cached* calendar busy times
(the sync runs in the background, so this never waits for Google or CalDAV), and the
bookings and holds that the bookings module provides through :func:`busy_from_bookings`.

The bookings module registers its provider once (e.g. in its AppConfig.ready())::

    from jasa.bookings import availability

    @availability.bookings_provider
    def _busy(staff_ids, start, end, exclude_booking=None):
        # {staff_id: [Interval.for_booking(b.start, b.end, before, after), ...]} for bookings and live holds
        ...
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import BigIntegerField, Func

from jasa.bookings.slots import Interval, OfferRules, Slot, StaffRules, compute_slots
from jasa.core import clock

BookingsProvider = Callable[..., dict[str, list[Interval]]]
_provider: list[BookingsProvider] = []


def bookings_provider(fn: BookingsProvider) -> BookingsProvider:
    """Register the function that returns bookings and holds as busy intervals (replaces any earlier one)."""
    _provider[:] = [fn]
    return fn


def busy_from_bookings(
    staff_ids: Iterable[str], start: dt.datetime, end: dt.datetime, exclude_booking=None
) -> dict[str, list[Interval]]:
    """Bookings and holds of these staff overlapping [start, end), by staff id. Empty until bookings registers."""
    if not _provider:
        return {}
    return _provider[0](list(staff_ids), start, end, exclude_booking)


def _staff_id(membership) -> str:
    return str(membership.pk)


def staff_zone(membership) -> ZoneInfo:
    profile = getattr(membership, "profile", None)
    name = getattr(profile, "time_zone", None) or membership.workspace.time_zone
    return ZoneInfo(name)


def staff_rules(memberships: list, first: dt.date, last: dt.date) -> list[StaffRules]:
    """Each staff member's hours, overrides between ``first`` and ``last`` and the workspace's holidays."""
    from jasa.bookings.models_availability import DateOverride, PublicHoliday, WorkingHours

    if not memberships:
        return []
    ids = [m.pk for m in memberships]
    weekly: dict = defaultdict(lambda: defaultdict(list))
    for wh in WorkingHours.objects.filter(membership_id__in=ids).order_by("start_time"):
        weekly[wh.membership_id][wh.weekday].append((wh.start_time, wh.end_time))
    overrides: dict = defaultdict(dict)
    for ov in DateOverride.objects.filter(membership_id__in=ids, date__gte=first, date__lte=last):
        overrides[ov.membership_id][ov.date] = ov.time_ranges()
    workspace_ids = {m.workspace_id for m in memberships}
    holidays: dict = defaultdict(set)
    for hol in PublicHoliday.objects.filter(workspace_id__in=workspace_ids, date__gte=first, date__lte=last):
        holidays[hol.workspace_id].add(hol.date)
    return [
        StaffRules(
            staff_id=_staff_id(m),
            tz=staff_zone(m),
            weekly=dict(weekly[m.pk]),
            overrides=overrides[m.pk],
            holidays=frozenset(holidays[m.workspace_id]),
        )
        for m in memberships
    ]


class EpochSeconds(Func):
    """A datetime column as whole seconds since 1970, computed by the database (no datetime objects)."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS bigint)",
                           **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores UTC text on SQLite; julianday avoids '%' in the SQL.
        return self.as_sql(compiler, connection,
                           template="CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400) AS INTEGER)", **extra)


def calendar_busy(memberships: list, start: dt.datetime, end: dt.datetime, exclude_booking=None
                  ) -> dict[str, list[tuple[int, int]]]:
    """Cached busy times from connected calendars (last successful sync of each connection), in epoch seconds.

    A booking being rescheduled is excluded from its own calendar copy too: a busy block exactly
    at its current time (Google free/busy cannot say whose event it is) does not hold it in place.
    """
    from jasa.calendars.models import BusyInterval

    own = None
    if getattr(exclude_booking, "start_at", None) is not None:
        own = (str(exclude_booking.staff_id),
               (int(exclude_booking.start_at.timestamp()), int(exclude_booking.end_at.timestamp())))
    out: dict[str, list[tuple[int, int]]] = {str(m.pk): [] for m in memberships}
    if not memberships:
        return out
    # One query for every staff member; rows stay plain integers (the staff id as text).
    qs = (
        BusyInterval.objects.filter(membership_id__in=[m.pk for m in memberships], start__lt=end, end__gt=start,
                                    connection__is_active=True)
        .annotate(s=EpochSeconds("start"), e=EpochSeconds("end"))
        .values_list("membership_id", "s", "e")
    )
    # Plain integers need none of the ORM's per-value converters (thousands of rows).
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    key = {str(m.pk).replace("-", ""): str(m.pk) for m in memberships}  # SQLite returns UUIDs without dashes
    for membership_id, s, e in rows:
        staff = key.get(str(membership_id).replace("-", ""))
        if staff is None:
            continue
        if own is not None and own[0] == staff and (s, e) == own[1]:
            continue
        out[staff].append((s, e))
    return out


def offer_staff(offer, only=None) -> list:
    qs = offer.staff.filter(is_active=True, workspace_id=offer.workspace_id).select_related("profile", "workspace")
    if only is not None:
        qs = qs.filter(pk=only.pk)
    return list(qs.order_by("pk"))


def _slots_between(offer, memberships, start: dt.datetime, end: dt.datetime, exclude_booking=None) -> list[Slot]:
    rules = OfferRules.from_offer(offer)
    if not memberships:
        return []
    # Busy time that can touch a slot lies within the buffers; limits look at whole weeks.
    pad = dt.timedelta(minutes=rules.buffer_before_minutes + rules.buffer_after_minutes + rules.duration_minutes)
    pad += dt.timedelta(days=8 if rules.weekly_limit else 2 if rules.daily_limit else 0)
    load_start, load_end = start - pad - dt.timedelta(days=1), end + pad + dt.timedelta(days=1)
    staff = staff_rules(memberships, load_start.date(), load_end.date())
    calendars = calendar_busy(memberships, load_start, load_end, exclude_booking)
    busy = busy_from_bookings([r.staff_id for r in staff], load_start, load_end, exclude_booking)
    return compute_slots(staff, rules, busy, start, end, clock.now(), busy_seconds=calendars)


def available_slots(offer, start_date: dt.date, end_date: dt.date, tz: ZoneInfo, exclude_booking=None) -> list[Slot]:
    """Free slots of every staff member of ``offer`` from ``start_date`` to ``end_date`` inclusive, days in ``tz``."""
    if end_date < start_date:
        return []
    start = dt.datetime.combine(start_date, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return _slots_between(offer, offer_staff(offer), start, end, exclude_booking)


def slot_is_free(offer, staff_membership, start: dt.datetime, exclude_booking=None) -> bool:
    """Final check at booking time: is ``start`` still a slot of this staff member for this offer?"""
    if start.tzinfo is None:
        return False
    memberships = offer_staff(offer, only=staff_membership)
    if not memberships:
        return False
    window_start = start - dt.timedelta(seconds=1)
    window_end = start + dt.timedelta(seconds=1)
    staff_id = _staff_id(staff_membership)
    return any(
        s.start == start and s.staff_id == staff_id
        for s in _slots_between(offer, memberships, window_start, window_end, exclude_booking)
    )


def free_staff_at(offer, start: dt.datetime, exclude_booking=None) -> list:
    """Staff members free at ``start`` (for a booking that did not name one), in a stable order."""
    memberships = offer_staff(offer)
    free = {
        s.staff_id
        for s in _slots_between(offer, memberships, start - dt.timedelta(seconds=1), start + dt.timedelta(seconds=1),
                                exclude_booking)
        if s.start == start
    }
    return [m for m in memberships if _staff_id(m) in free]


# --- reads for the availability editor ---------------------------------------------------------------


def weekly_hours(membership) -> list[tuple[int, str, list]]:
    """[(weekday, label, [WorkingHours, ...]), ...] Monday first, for the editor."""
    from jasa.bookings.models_availability import WEEKDAYS, WorkingHours

    rows = WorkingHours.objects.filter(workspace_id=membership.workspace_id, membership=membership)
    by_day: dict[int, list] = defaultdict(list)
    for wh in rows.order_by("weekday", "start_time"):
        by_day[wh.weekday].append(wh)
    return [(day, label, by_day[day]) for day, label in WEEKDAYS]


def upcoming_overrides(membership, from_date: dt.date):
    from jasa.bookings.models_availability import DateOverride

    return DateOverride.objects.filter(workspace_id=membership.workspace_id, membership=membership,
                                       date__gte=from_date).order_by("date")


def upcoming_holidays(workspace, from_date: dt.date):
    from jasa.bookings.models_availability import PublicHoliday

    return PublicHoliday.objects.filter(workspace=workspace, date__gte=from_date).order_by("date")
