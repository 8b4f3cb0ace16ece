"""Reads about bookings, always scoped to a workspace (or to a signed link)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from django.db.models import Count, QuerySet, Sum

from jasa.bookings.models import BLOCKING, Booking, BookingStatus
from jasa.bookings.slots import Interval
from jasa.core import clock
from jasa.core.money import Money


def busy_intervals(staff_ids, start: dt.datetime, end: dt.datetime, exclude_booking=None) -> dict[str, list[Interval]]:
    """Bookings and live holds as busy time for the slot engine (registered with availability)."""
    now = clock.now()
    qs = Booking.objects.filter(staff_id__in=list(staff_ids), status__in=BLOCKING, block_start__lt=end,
                                block_end__gt=start)
    # A lapsed hold no longer blocks, even before the sweep or the next hold expires it.
    qs = qs.exclude(status=BookingStatus.AWAITING_DEPOSIT, hold_expires_at__lte=now)
    excluded = _uuid(getattr(exclude_booking, "pk", exclude_booking))
    if excluded is not None:
        qs = qs.exclude(pk=excluded)
    out: dict[str, list[Interval]] = defaultdict(list)
    for staff_id, start_at, block_start, block_end in qs.values_list("staff_id", "start_at", "block_start",
                                                                      "block_end"):
        out[str(staff_id)].append(Interval(block_start, block_end, booking_start=start_at))
    return dict(out)


def _uuid(value) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def bookings_for_workspace(workspace, membership=None, *, own_only: bool = False) -> QuerySet[Booking]:
    qs = Booking.objects.filter(workspace=workspace).select_related("offer", "client", "staff__user",
                                                                     "staff__profile")
    if own_only and membership is not None:
        qs = qs.filter(staff=membership)
    return qs


def booking_for_workspace(workspace, booking_id) -> Booking | None:
    return bookings_for_workspace(workspace).filter(pk=booking_id).first()


def bookings_for_feed(membership, *, past_days: int = 30) -> QuerySet[Booking]:
    """A staff member's confirmed and held bookings from a month ago on, for their outgoing ICS feed."""
    since = clock.now() - dt.timedelta(days=past_days)
    return Booking.objects.filter(workspace_id=membership.workspace_id, staff=membership, start_at__gte=since,
                                  status__in=[*BLOCKING, BookingStatus.ATTENDED, BookingStatus.NO_SHOW]
                                  ).select_related("offer", "client", "workspace").order_by("start_at")


def bookings_on_day(workspace, day: dt.date, tz, membership=None, own_only: bool = False) -> QuerySet[Booking]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    return bookings_for_workspace(workspace, membership, own_only=own_only).filter(
        start_at__gte=start, start_at__lt=start + dt.timedelta(days=1)
    ).order_by("start_at")


def offers_for_workspace(workspace, *, active_only: bool = True):
    from jasa.catalog.models import ConsultationOffer

    qs = ConsultationOffer.objects.filter(workspace=workspace).order_by("name_id")
    return qs.filter(is_active=True) if active_only else qs


def figures(workspace, start: dt.datetime, end: dt.datetime, offer=None) -> dict:
    """Per period (sessions starting in [start, end)): what the deposit policy does.

    Rates are of the bookings that were confirmed (holds that never paid count only toward
    checkout abandonment).
    """
    qs = Booking.objects.filter(workspace=workspace, start_at__gte=start, start_at__lt=end)
    if offer is not None:
        qs = qs.filter(offer=offer)
    counts = dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    confirmed_ever = qs.filter(confirmed_at__isnull=False)
    n_confirmed = confirmed_ever.count()
    holds = qs.count()
    expired_unpaid = qs.filter(status=BookingStatus.EXPIRED, confirmed_at__isnull=True).count()
    kept = confirmed_ever.aggregate(paid=Sum("deposit_paid_amount"), refunded=Sum("deposit_refunded_amount"),
                                   owed=Sum("refund_owed_amount"))
    currency = workspace.currency

    def rate(n: int) -> float | None:
        return round(100 * n / n_confirmed, 1) if n_confirmed else None

    cancelled_confirmed = confirmed_ever.filter(status=BookingStatus.CANCELLED).count()
    return {
        "holds": holds,
        "bookings": n_confirmed,
        "attended": counts.get(BookingStatus.ATTENDED, 0),
        "no_show": counts.get(BookingStatus.NO_SHOW, 0),
        "cancelled": cancelled_confirmed,
        "attendance_rate": rate(counts.get(BookingStatus.ATTENDED, 0)),
        "no_show_rate": rate(counts.get(BookingStatus.NO_SHOW, 0)),
        "cancellation_rate": rate(cancelled_confirmed),
        "deposits_kept": Money((kept["paid"] or 0) - (kept["refunded"] or 0) - (kept["owed"] or 0), currency),
        "abandoned": expired_unpaid,
        "abandonment_rate": round(100 * expired_unpaid / holds, 1) if holds else None,
        "by_status": {k: v for k, v in counts.items()},
        "upcoming": qs.filter(status=BookingStatus.CONFIRMED, start_at__gte=clock.now()).count(),
    }


def video_link_expected(booking: Booking) -> bool:
    """A Meet link is on its way: the offer asks for one, none is stored yet, and the staff member's calendar
    that jasa writes to is a Google one (only Google makes the link). Says whether to promise it to the client."""
    if not booking.offer.create_meet_link or booking.conference_url:
        return False
    from jasa.calendars.models import CalendarKind
    from jasa.calendars.services import writable_connection

    conn = writable_connection(booking.staff)
    return conn is not None and conn.kind == CalendarKind.GOOGLE


# --- reads for the staff calendar (day and week grids) -------------------------------------------------

# What the calendar draws as a session: holds and bookings, and sessions already marked (they took the time).
CALENDAR_STATUSES = (*BLOCKING, BookingStatus.ATTENDED.value, BookingStatus.NO_SHOW.value)


def calendar_staff(workspace, membership, *, own_only: bool) -> list:
    """The columns a viewer may see: active members who give consultations (on an offer or with working
    hours), by name; only the viewer for a member who sees their own bookings only."""
    from django.db.models import Q

    from jasa.accounts.models import Membership

    if own_only:
        return [membership] if membership.is_active else []
    qs = Membership.objects.filter(workspace=workspace, is_active=True).filter(
        Q(consultation_offers__isnull=False) | Q(working_hours__isnull=False)
    ).select_related("profile", "user", "workspace").distinct()
    return sorted(qs, key=lambda m: (getattr(getattr(m, "profile", None), "display_name", "") or str(m.user)).lower())


def calendar_bookings(workspace, staff_ids, start: dt.datetime, end: dt.datetime) -> list[Booking]:
    """Sessions of these staff members overlapping [start, end): holds still alive, bookings, marked ones."""
    qs = Booking.objects.filter(workspace=workspace, staff_id__in=list(staff_ids), status__in=CALENDAR_STATUSES,
                                start_at__lt=end, end_at__gt=start)
    # A lapsed hold no longer holds the time, even before the sweep marks it expired.
    qs = qs.exclude(status=BookingStatus.AWAITING_DEPOSIT, hold_expires_at__lte=clock.now())
    return list(qs.select_related("offer", "client").order_by("start_at"))


def calendar_busy_times(memberships: list, start: dt.datetime, end: dt.datetime,
                        bookings: list[Booking]) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    """Busy times from connected calendars (the slot engine's cache), by staff id, as UTC datetimes.

    The event jasa itself wrote for a booking comes back as busy time at exactly the session's time; it is
    left out, so a booking is not drawn twice.
    """
    from jasa.bookings.availability import calendar_busy

    own = {(str(b.staff_id), int(b.start_at.timestamp()), int(b.end_at.timestamp())) for b in bookings}
    out: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for staff_id, pairs in calendar_busy(memberships, start, end).items():
        out[staff_id] = [
            (dt.datetime.fromtimestamp(s, dt.UTC), dt.datetime.fromtimestamp(e, dt.UTC))
            for s, e in sorted(pairs) if (staff_id, s, e) not in own
        ]
    return out


def calendar_working_windows(memberships: list, first: dt.date, last: dt.date
                             ) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    """Each staff member's working time between ``first`` and ``last`` (a day of margin either side for other
    zones), by staff id, as UTC datetimes: weekly hours, date overrides and holidays as the slot engine reads them."""
    from jasa.bookings.availability import staff_rules
    from jasa.bookings.slots import working_windows

    one = dt.timedelta(days=1)
    out: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for rules in staff_rules(memberships, first - one, last + one):
        out[rules.staff_id] = [
            (dt.datetime.fromtimestamp(s, dt.UTC), dt.datetime.fromtimestamp(e, dt.UTC))
            for s, e, _day in working_windows(rules, first - one, last + one)
        ]
    return out


def calendar_days_off(workspace, memberships: list, first: dt.date, last: dt.date) -> dict[tuple[str, dt.date], str]:
    """{(staff id, date): why} for public holidays and days a staff member took off, to label shaded days.
    A holiday on which a staff member's own override gives hours is not a day off for them."""
    from jasa.bookings.models_availability import DateOverride, PublicHoliday

    ids = [m.pk for m in memberships]
    holidays = dict(PublicHoliday.objects.filter(workspace=workspace, date__gte=first, date__lte=last)
                    .values_list("date", "name"))
    overrides = {(str(o.membership_id), o.date): o for o in
                 DateOverride.objects.filter(workspace=workspace, membership_id__in=ids, date__gte=first,
                                             date__lte=last)}
    out: dict[tuple[str, dt.date], str] = {}
    day = first
    while day <= last:
        for m in memberships:
            key = (str(m.pk), day)
            override = overrides.get(key)
            if override is not None and override.is_day_off:
                out[key] = override.note or ""
            elif override is None and day in holidays:
                out[key] = holidays[day]
        day += dt.timedelta(days=1)
    return out
