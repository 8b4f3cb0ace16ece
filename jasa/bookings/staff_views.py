"""Staff pages of bookings: list and day view, a booking's detail with its actions, the figures."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jasa.accounts.permissions import can
from jasa.bookings import selectors, services
from jasa.bookings.models import BookingStatus
from jasa.core import audit, clock
from jasa.core.errors import JasaError
from jasa.web.decorators import workspace_member


def _own_only(request) -> bool:
    return not can(request.membership, "bookings.view_all")


def _can_manage(request, booking) -> bool:
    m = request.membership
    return can(m, "bookings.manage") or (can(m, "bookings.manage_own") and booking.staff_id == m.pk)


def _day(request, tz) -> dt.date | None:
    raw = request.GET.get("day")
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return clock.today(tz)


@workspace_member("workspace.view")
def bookings_list(request):
    """Upcoming bookings (or one day with ?day=), filterable by status."""
    ws = request.workspace
    if not (can(request.membership, "bookings.view_all") or can(request.membership, "bookings.view_own")):
        return render(request, "web/forbidden.html", {"capability": "bookings.view_all"}, status=403)
    tz = ws.tz
    day = _day(request, tz)
    status = request.GET.get("status", "")
    if day is not None:
        qs = selectors.bookings_on_day(ws, day, tz, request.membership, own_only=_own_only(request))
    else:
        qs = selectors.bookings_for_workspace(ws, request.membership, own_only=_own_only(request)).filter(
            start_at__gte=clock.now() - dt.timedelta(hours=12)
        )
        if not status:
            qs = qs.filter(status__in=[BookingStatus.AWAITING_DEPOSIT, BookingStatus.CONFIRMED])
    if status in BookingStatus.values:
        qs = qs.filter(status=status)
    today = clock.today(tz)
    shown = day or today
    return render(request, "bookings/staff/list.html", {
        "bookings": qs.order_by("start_at")[:200], "day": day, "status": status, "statuses": BookingStatus.choices,
        "prev_day": shown - dt.timedelta(days=1), "next_day": shown + dt.timedelta(days=1), "today": today,
        "tz": tz,
    })


@workspace_member("workspace.view")
def booking_detail(request, booking_id):
    booking = selectors.booking_for_workspace(request.workspace, booking_id)
    if booking is None or (_own_only(request) and booking.staff_id != request.membership.pk):
        raise Http404("No such booking")
    return render(request, "bookings/staff/detail.html", {
        "booking": booking, "can_manage": _can_manage(request, booking), "now": clock.now(),
        "history": audit.for_object(booking)[:50], "tz": request.workspace.tz,
    })


@require_POST
@workspace_member("workspace.view")
def booking_action(request, booking_id, action: str):
    booking = selectors.booking_for_workspace(request.workspace, booking_id)
    if booking is None or not _can_manage(request, booking):
        raise Http404("No such booking")
    actions = {
        "attended": lambda: services.booking_mark_attended(booking=booking),
        "no-show": lambda: services.booking_mark_no_show(booking=booking),
        "cancel": lambda: services.booking_cancel(booking=booking, by="staff",
                                                  reason=request.POST.get("reason", "")[:200]),
    }
    if action not in actions:
        raise Http404("No such action")
    try:
        actions[action]()
    except JasaError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, _("Saved."))
    return redirect("bookings:detail", ws=request.workspace.slug, booking_id=booking.pk)


def _period(request, tz) -> tuple[dt.date, dt.date]:
    today = clock.today(tz)
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today - dt.timedelta(days=30)
    try:
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end = today
    if end < start:
        start, end = end, start
    return start, end


@workspace_member("reports.view")
def figures(request):
    """Per offer and period: bookings, attendance, no-shows, cancellations, deposits kept, abandonment."""
    ws = request.workspace
    tz = ws.tz
    start, end = _period(request, tz)
    lo = dt.datetime.combine(start, dt.time(0), tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    rows = [{"offer": None, **selectors.figures(ws, lo, hi)}]
    for offer in selectors.offers_for_workspace(ws, active_only=False):
        rows.append({"offer": offer, **selectors.figures(ws, lo, hi, offer=offer)})
    return render(request, "bookings/staff/figures.html", {"rows": rows, "start": start, "end": end})
