"""Public booking pages: offer page with month calendar and slots (htmx), booking form, checkout
summary, and the manage page behind the signed link (confirmation, add to calendar, cancel, reschedule)."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages as flash
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jasa.accounts.selectors import workspace_by_slug
from jasa.bookings import billing, consent, selectors, services
from jasa.bookings.forms import BookingForm
from jasa.bookings.ics import booking_ics, google_calendar_url, outlook_calendar_url
from jasa.bookings.links import booking_from_signature, manage_path
from jasa.bookings.models import BookingStatus
from jasa.core import clock
from jasa.core.errors import JasaError
from jasa.payments.forms_refund import RefundAccountForm

COMMON_ZONES = [
    "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Bangkok",
    "Asia/Tokyo", "Australia/Sydney", "Europe/London", "Europe/Amsterdam", "America/New_York",
    "America/Los_Angeles", "UTC",
]


def _language() -> str:
    return "en" if (get_language() or "id").startswith("en") else "id"


def _zone(request, default: str) -> tuple[str, ZoneInfo]:
    name = request.GET.get("tz") or request.POST.get("tz") or default
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return default, ZoneInfo(default)


def _offer_or_404(ws: str, offer_slug: str):
    from jasa.catalog.models import ConsultationOffer

    workspace = workspace_by_slug(ws)
    if workspace is None:
        raise Http404("No such business")
    offer = ConsultationOffer.objects.filter(workspace=workspace, slug=offer_slug, is_active=True).first()
    if offer is None:
        raise Http404("No such consultation")
    return workspace, offer


def _month(request, tz: ZoneInfo) -> dt.date:
    raw = request.GET.get("month", "")
    this_month = clock.today(tz).replace(day=1)
    try:
        year, month = (int(x) for x in raw.split("-")[:2])
        chosen = dt.date(year, month, 1)
    except (ValueError, TypeError):
        return this_month
    # Only months that can hold a slot: from this month to two years ahead.
    return min(max(chosen, this_month), this_month.replace(year=this_month.year + 2))


def _calendar_context(offer, tz_name: str, tz: ZoneInfo, month: dt.date, selected: dt.date | None,
                      exclude_booking=None, staff_id: str | None = None) -> dict:
    """A month grid (Monday first) with the days that have free slots marked."""
    last_day = dt.date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    today = clock.today(tz)
    first = max(month, today)
    days_with_slots: set[dt.date] = set()
    if last_day >= first:
        for start, slot_staff in _free_slots(offer, first, last_day, tz, exclude_booking=exclude_booking):
            if staff_id and slot_staff != staff_id:
                continue
            days_with_slots.add(start.astimezone(tz).date())
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        weeks.append([
            {"date": d, "in_month": d.month == month.month, "free": d in days_with_slots, "selected": d == selected}
            for d in week
        ])
    prev_month = (month - dt.timedelta(days=1)).replace(day=1)
    next_month = (last_day + dt.timedelta(days=1))
    horizon = clock.now().astimezone(tz).date() + dt.timedelta(days=offer.horizon_days)
    return {
        "month": month, "weeks": weeks, "tz": tz_name,
        "prev_month": prev_month if prev_month >= today.replace(day=1) else None,
        "next_month": next_month if next_month <= horizon else None,
        "first_free": min(days_with_slots) if days_with_slots else None,
    }


def _free_slots(offer, first: dt.date, last: dt.date, tz: ZoneInfo, exclude_booking=None) -> list[tuple[dt.datetime, str]]:
    """Free ``(start, staff id)`` pairs from ``first`` to ``last`` (days in ``tz``), through the slots cache of
    the JSON endpoint (jasa.bookings.cache): a click on the calendar costs no availability query, and every
    change that alters free time (a booking, hours, a calendar sync) shows at once (the workspace's version)."""
    from jasa.bookings.availability import available_slots
    from jasa.bookings.cache import cached_slots

    def build(offer) -> list[tuple[int, tuple[int, str]]]:
        return [(int(s.start.timestamp()), (int(s.start.timestamp()), s.staff_id))
                for s in available_slots(offer, first, last, tz, exclude_booking=exclude_booking)]

    # "page" keeps these keys apart from the endpoint's (same offer and dates, another payload).
    key = ("page", first, last, tz.key, exclude_booking.pk if exclude_booking is not None else "")
    return [(dt.datetime.fromtimestamp(ts, dt.UTC), staff) for ts, staff in cached_slots(offer.pk, key, lambda: offer, build)]


def _day_slots(offer, tz: ZoneInfo, day: dt.date, exclude_booking=None, staff_id: str | None = None) -> list[dict]:
    today = clock.today(tz)
    if not today - dt.timedelta(days=1) <= day <= today + dt.timedelta(days=offer.horizon_days + 1):
        return []  # nothing bookable that day (and no date arithmetic near the ends of the calendar)
    seen: dict[dt.datetime, dict] = {}
    for start, slot_staff in _free_slots(offer, day, day, tz, exclude_booking=exclude_booking):
        if staff_id and slot_staff != staff_id:
            continue
        # One button per time; the first free staff member takes it (clients pick a time, not a person).
        seen.setdefault(start, {"start": start.astimezone(tz), "staff": slot_staff,
                                "iso": start.astimezone(tz).isoformat()})
    return list(seen.values())


def offer_page(request, ws: str, offer: str):
    workspace, offer_obj = _offer_or_404(ws, offer)
    request.workspace = workspace
    tz_name, tz = _zone(request, workspace.time_zone)
    month = _month(request, tz)
    ctx = _calendar_context(offer_obj, tz_name, tz, month, None)
    selected = ctx["first_free"]
    if request.GET.get("date"):
        try:
            selected = dt.date.fromisoformat(request.GET["date"])
        except ValueError:
            pass
    ctx.update({
        "workspace": workspace, "offer": offer_obj, "lang": _language(), "zones": _zones(tz_name),
        "selected": selected, "slots": _day_slots(offer_obj, tz, selected) if selected else [],
        "mode": "book",
    })
    for week in ctx["weeks"]:
        for d in week:
            d["selected"] = d["date"] == selected
    if request.htmx and request.GET.get("part") == "calendar":
        return render(request, "bookings/_calendar.html", ctx)
    return render(request, "bookings/offer.html", ctx)


def day_slots(request, ws: str, offer: str):
    workspace, offer_obj = _offer_or_404(ws, offer)
    tz_name, tz = _zone(request, workspace.time_zone)
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = clock.today(tz)
    return render(request, "bookings/_slots.html", {
        "workspace": workspace, "offer": offer_obj, "tz": tz_name, "selected": day,
        "slots": _day_slots(offer_obj, tz, day), "mode": "book",
    })


def _zones(current: str) -> list[str]:
    return COMMON_ZONES if current in COMMON_ZONES else [current, *COMMON_ZONES]


def book_details(request, ws: str, offer: str):
    """The booking form for one chosen time; POST holds the slot and goes to the checkout summary."""
    workspace, offer_obj = _offer_or_404(ws, offer)
    request.workspace = workspace
    tz_name, tz = _zone(request, workspace.time_zone)
    raw_start = request.POST.get("start") or request.GET.get("start") or ""
    try:
        start = dt.datetime.fromisoformat(raw_start)
        if start.tzinfo is None or not services.plausible_start(start):
            raise ValueError
    except (ValueError, OverflowError):
        flash.error(request, _("Choose a time first."))
        return redirect("bookings:offer", ws=ws, offer=offer)
    form = BookingForm(request.POST or None, offer=offer_obj, language=_language(), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            booking = services.booking_hold(
                offer=offer_obj, start=start, client_name=form.cleaned_data["name"],
                client_email=form.cleaned_data["email"], client_phone=form.cleaned_data["phone"],
                answers=form.answers(), language=_language(), time_zone=tz_name,
            )
        except JasaError as exc:
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            elif exc.field == "client.phone":
                form.add_error("phone", exc.message)
            else:
                flash.error(request, exc.message)
                return redirect(f"{_offer_url(ws, offer)}?tz={tz_name}&date={start.astimezone(tz).date()}")
        else:
            return redirect(manage_path(booking, "bookings:checkout"))
    return render(request, "bookings/details.html", {
        "workspace": workspace, "offer": offer_obj, "form": form, "start": start.astimezone(tz),
        "end": (start + dt.timedelta(minutes=offer_obj.duration_minutes)).astimezone(tz), "tz": tz_name,
        "start_iso": start.isoformat(), "lang": _language(),
    })


def _offer_url(ws: str, offer: str) -> str:
    from django.urls import reverse

    return reverse("bookings:offer", kwargs={"ws": ws, "offer": offer})


def _booking_or_404(signed: str):
    booking = booking_from_signature(signed)
    if booking is None:
        raise Http404("This link is not valid any more.")
    return booking


def _booking_context(request, booking) -> dict:
    tz = ZoneInfo(booking.client_time_zone or booking.workspace.time_zone)
    lang = _language()
    request.workspace = booking.workspace
    now = clock.now()
    return {
        "booking": booking, "workspace": booking.workspace, "offer": booking.offer, "lang": lang,
        "start": booking.start_at.astimezone(tz), "end": booking.end_at.astimezone(tz), "tz": str(tz),
        "hold_expires": booking.hold_expires_at.astimezone(tz) if booking.hold_expires_at else None,
        "refund_now": services.refund_due(booking, "client", now),
        "refund_until": (booking.start_at - dt.timedelta(hours=booking.offer.refund_until_hours)).astimezone(tz),
        "reschedule_until": (booking.start_at - dt.timedelta(hours=booking.offer.free_reschedule_hours)).astimezone(tz),
        "can_reschedule": booking.status == BookingStatus.CONFIRMED and services.can_reschedule_free(booking, now),
        "can_cancel": booking.status in (BookingStatus.AWAITING_DEPOSIT, BookingStatus.CONFIRMED)
        and booking.start_at > now,
        "refund_policy": booking.workspace.text("refund_policy", lang),
        "signed": request.resolver_match.kwargs.get("signed"),
    }


def checkout(request, signed: str):
    """The summary before paying: price, deposit now, balance later, refund policy, security note."""
    booking = _booking_or_404(signed)
    if booking.status != BookingStatus.AWAITING_DEPOSIT:
        return redirect("bookings:manage", signed=signed)
    ctx = _booking_context(request, booking)
    ctx.update(consent.save_card_context(booking, ctx["lang"]))
    return render(request, "bookings/checkout.html", ctx)


@require_POST
def pay(request, signed: str):
    """Go to the gateway's hosted page for the deposit (the same payment on every click; ticking "save
    this card" is another one, with the client's consent)."""
    booking = _booking_or_404(signed)
    if booking.status != BookingStatus.AWAITING_DEPOSIT:
        return redirect("bookings:manage", signed=signed)
    try:
        booking = services.booking_start_payment(booking=booking,
                                                 save_method=consent.card_save_wanted(booking, request.POST))
    except JasaError as exc:
        flash.error(request, exc.message)
        return redirect("bookings:manage", signed=signed)
    if not booking.checkout_url:
        flash.error(request, _("The payment page is not ready. Please try again in a minute."))
        return redirect("bookings:checkout", signed=signed)
    return redirect(booking.checkout_url)


def manage(request, signed: str):
    """Confirmation page and manage-booking page in one: what happened, and what the client may still do."""
    booking = _booking_or_404(signed)
    ctx = _booking_context(request, booking)
    ctx.update({
        "google_url": google_calendar_url(booking, ctx["lang"]),
        "owed_refunds": billing.owed_refunds(booking),
        "refund_account_form": RefundAccountForm(),
        "outlook_url": outlook_calendar_url(booking, ctx["lang"]),
        "video_pending": booking.status == BookingStatus.CONFIRMED and selectors.video_link_expected(booking),
    })
    return render(request, "bookings/manage.html", ctx)


def ics_download(request, signed: str):
    booking = _booking_or_404(signed)
    response = HttpResponse(booking_ics(booking), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="booking-{str(booking.pk)[:8]}.ics"'
    return response


@require_POST
def refund_account(request, signed: str):
    """The client gives the bank account for a deposit refund the gateway could not make (VA, store)."""
    booking = _booking_or_404(signed)
    form = RefundAccountForm(request.POST)
    if form.is_valid():
        try:
            services.booking_refund_account(booking=booking, **form.cleaned_data)
        except JasaError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, _("Thank you. We will transfer your refund to this account."))
    else:
        flash.error(request, _("Give the bank, the account number and the account holder."))
    return redirect("bookings:manage", signed=signed)


@require_POST
def cancel(request, signed: str):
    booking = _booking_or_404(signed)
    try:
        booking = services.booking_cancel(booking=booking, by="client", reason=request.POST.get("reason", "")[:200])
    except JasaError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, _("Your booking is cancelled."))
    return redirect("bookings:manage", signed=signed)


def reschedule(request, signed: str):
    """Pick a new time (same staff member) inside the free reschedule window."""
    booking = _booking_or_404(signed)
    ctx = _booking_context(request, booking)
    if not ctx["can_reschedule"]:
        flash.error(request, _("This booking can no longer be moved here. Please contact us."))
        return redirect("bookings:manage", signed=signed)
    tz_name, tz = _zone(request, booking.client_time_zone)
    if request.method == "POST":
        try:
            start = dt.datetime.fromisoformat(request.POST.get("start", ""))
            services.booking_reschedule(booking=booking, start=start, by="client")
        except (ValueError, OverflowError):
            flash.error(request, _("Choose a time first."))
        except JasaError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, _("Your booking is moved."))
            return redirect("bookings:manage", signed=signed)
    month = _month(request, tz)
    staff_id = str(booking.staff_id)
    cal = _calendar_context(booking.offer, tz_name, tz, month, None, exclude_booking=booking, staff_id=staff_id)
    selected = cal["first_free"]
    if request.GET.get("date"):
        try:
            selected = dt.date.fromisoformat(request.GET["date"])
        except ValueError:
            pass
    for week in cal["weeks"]:
        for d in week:
            d["selected"] = d["date"] == selected
    slots = _day_slots(booking.offer, tz, selected, exclude_booking=booking, staff_id=staff_id) if selected else []
    ctx.update(cal)
    ctx.update({"selected": selected, "slots": slots, "mode": "reschedule", "zones": _zones(tz_name),
                "tz": tz_name})
    if request.htmx and request.GET.get("part") == "slots":
        return render(request, "bookings/_slots.html", ctx)
    return render(request, "bookings/reschedule.html", ctx)
