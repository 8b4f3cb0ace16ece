"""Staff calendar: a day grid (a column per staff member) and a week grid (a column per day of one member).

Rows are the hours of the workspace's working range that week (earliest start to latest end in the
availability rules of the members shown, 08:00–18:00 when there are none), in the viewer's zone (their
profile's zone, else the workspace's). Every block is placed with an inline ``top`` / ``height`` in
percent computed here: the page needs no script (the CSP allows none inline) and htmx only swaps it.
Hour rows are wall-clock hours from midnight, which is exact in Indonesia's zones (no daylight saving).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.shortcuts import render
from django.urls import reverse

from jasa.accounts.permissions import can
from jasa.bookings import selectors
from jasa.bookings.availability import staff_zone
from jasa.bookings.models import BookingStatus
from jasa.core import clock
from jasa.web.decorators import workspace_member

DEFAULT_HOURS = (8, 18)
Span = tuple[dt.datetime, dt.datetime]


@dataclass
class Column:
    """One column of the grid: a staff member on a date (day view: per member; week view: per date)."""

    date: dt.date
    staff: object
    start: dt.datetime  # the top of the first row, in the viewer's zone
    end: dt.datetime  # the bottom of the last row
    is_today: bool = False
    day_off: str | None = None  # None: a working day; "" a day off without a note; else the holiday or note
    bookings: list[dict] = field(default_factory=list)
    busy: list[dict] = field(default_factory=list)
    off: list[dict] = field(default_factory=list)
    now_style: str = ""

    def place(self, start: dt.datetime, end: dt.datetime) -> dict | None:
        """Position of [start, end) clipped to this column, as inline CSS; None when it lies outside."""
        lo, hi = max(start, self.start), min(end, self.end)
        if lo >= hi:
            return None
        total = (self.end - self.start).total_seconds()
        top = (lo - self.start).total_seconds() / total * 100
        height = (hi - lo).total_seconds() / total * 100
        # min-height too: a hovered or focused block may grow to show all its text but never shrinks.
        return {"style": f"top:{top:.4f}%;height:{height:.4f}%;min-height:{height:.4f}%", "top": top, "height": height,
                "cut_before": start < self.start, "cut_after": end > self.end}


def _midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz)


def working_range(spans: list[Span], days: list[dt.date], tz: ZoneInfo) -> tuple[int, int]:
    """(first hour, end hour) covering every span on these days in ``tz``; 08–18 when none falls on them."""
    lo, hi = 24, 0
    for start, end in spans:
        for day in days:
            day_start = _midnight(day, tz)
            s = max(start, day_start)
            e = min(end, _midnight(day + dt.timedelta(days=1), tz))
            if s >= e:
                continue
            s_hours = (s - day_start).total_seconds() / 3600
            e_hours = (e - day_start).total_seconds() / 3600
            lo = min(lo, int(s_hours))
            hi = max(hi, min(24, int(e_hours) + (0 if e_hours == int(e_hours) else 1)))
    return (lo, hi) if lo < hi else DEFAULT_HOURS


def _gaps(spans: list[Span], start: dt.datetime, end: dt.datetime) -> list[Span]:
    """The parts of [start, end) that no span covers (time off, shaded)."""
    out, at = [], start
    for s, e in sorted(spans):
        if e <= at or s >= end:
            continue
        if s > at:
            out.append((at, s))
        at = max(at, e)
    if at < end:
        out.append((at, end))
    return out


def _fill(col: Column, tz: ZoneInfo, now: dt.datetime, bookings: list, busy: list[Span], working: list[Span],
          url) -> None:
    for b in bookings:
        pos = col.place(b.start_at, b.end_at)
        if pos is None:
            continue
        start, end = b.start_at.astimezone(tz), b.end_at.astimezone(tz)
        col.bookings.append({**pos, "booking": b, "start": start, "end": end, "row": f"{start:%H}:00",
                             "is_hold": b.status == BookingStatus.AWAITING_DEPOSIT, "url": url(b)})
    for s, e in busy:
        pos = col.place(s, e)
        if pos is not None:
            col.busy.append({**pos, "start": s.astimezone(tz), "end": e.astimezone(tz)})
    for s, e in _gaps(working, col.start, col.end):
        pos = col.place(s, e)
        if pos is not None:
            col.off.append(pos)
    if col.start <= now < col.end:
        col.now_style = f"top:{(now - col.start).total_seconds() / (col.end - col.start).total_seconds() * 100:.4f}%"


def _parse_date(raw: str | None, today: dt.date) -> dt.date:
    """The asked date, or today for a bad one or one so far off that a week around it would leave the calendar."""
    try:
        day = dt.date.fromisoformat(raw or "")
    except ValueError:
        return today
    return day if abs((day - today).days) <= 365 * 100 else today


def _pick_staff(raw: str | None, staff: list, viewer):
    """The member the week view shows: the one asked for if the viewer may see them, else the viewer, else
    the first column."""
    by_id = {str(m.pk): m for m in staff}
    try:
        wanted = str(uuid.UUID(raw or ""))
    except ValueError:
        wanted = ""
    return by_id.get(wanted) or by_id.get(str(viewer.pk)) or (staff[0] if staff else None)


@workspace_member("workspace.view")
def calendar(request):
    """The bookings of one day (a column per staff member) or one week (a column per day of one member)."""
    ws, viewer = request.workspace, request.membership
    if not (can(viewer, "bookings.view_all") or can(viewer, "bookings.view_own")):
        return render(request, "web/forbidden.html", {"capability": "bookings.view_all"}, status=403)
    own_only = not can(viewer, "bookings.view_all")
    tz = staff_zone(viewer)
    now = clock.now()
    today = clock.today(tz)
    view = "week" if request.GET.get("view") == "week" else "day"
    date = _parse_date(request.GET.get("date"), today)
    staff = selectors.calendar_staff(ws, viewer, own_only=own_only)
    monday = date - dt.timedelta(days=date.weekday())
    week = [monday + dt.timedelta(days=i) for i in range(7)]
    chosen = _pick_staff(request.GET.get("staff"), staff, viewer)
    if view == "week":
        shown, days, step = ([chosen] if chosen else []), week, 7
    else:
        shown, days, step = staff, [date], 1

    first_utc, last_utc = _midnight(days[0], tz), _midnight(days[-1] + dt.timedelta(days=1), tz)
    bookings = selectors.calendar_bookings(ws, [m.pk for m in shown], first_utc, last_utc)
    busy = selectors.calendar_busy_times(shown, first_utc, last_utc, bookings)
    # The rows come from the whole week's hours, so a day and its week show the same range.
    windows = selectors.calendar_working_windows(shown, week[0], week[-1])
    spans = [span for spans in windows.values() for span in spans]
    hours = working_range(spans, week, tz)
    # A session outside the usual hours widens the grid rather than disappearing from it.
    hours = working_range([*[(b.start_at, b.end_at) for b in bookings],
                           *[(_midnight(d, tz) + dt.timedelta(hours=hours[0]),
                              _midnight(d, tz) + dt.timedelta(hours=hours[1])) for d in days]], days, tz)
    days_off = selectors.calendar_days_off(ws, shown, days[0], days[-1])

    def detail_url(b):
        return reverse("bookings:detail", kwargs={"ws": ws.slug, "booking_id": b.pk})

    columns = []
    for day in days:
        for member in shown:
            key = str(member.pk)
            col = Column(date=day, staff=member, start=_midnight(day, tz) + dt.timedelta(hours=hours[0]),
                         end=_midnight(day, tz) + dt.timedelta(hours=hours[1]), is_today=day == today,
                         day_off=days_off.get((key, day)))
            _fill(col, tz, now, [b for b in bookings if str(b.staff_id) == key], busy.get(key, []),
                  windows.get(key, []), detail_url)
            columns.append(col)

    def link(**changes) -> str:
        params = {"view": view, "date": date.isoformat(), **({"staff": str(chosen.pk)} if chosen else {})}
        params.update({k: v for k, v in changes.items() if v is not None})
        return "?" + urlencode(params)

    return render(request, "bookings/staff/calendar.html", {
        "view": view, "date": date, "days": days, "columns": columns, "staff": staff, "chosen": chosen,
        "own_only": own_only, "tz": tz, "today": today, "rows": [f"{h:02d}:00" for h in range(*hours)],
        "prev_url": link(date=(date - dt.timedelta(days=step)).isoformat()),
        "next_url": link(date=(date + dt.timedelta(days=step)).isoformat()),
        "today_url": link(date=today.isoformat()),
        "day_url": link(view="day"), "week_url": link(view="week"),
        "list_url": reverse("bookings:dashboard", kwargs={"ws": ws.slug}) + f"?day={date.isoformat()}",
    })
