"""Staff pages for calendar connections, the Google OAuth callback, and the outgoing ICS feed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jasa.calendars import selectors, services
from jasa.calendars.adapters import CalendarError, gcal
from jasa.calendars.forms import CalDavForm, ConnectionEditForm, IcsForm
from jasa.calendars.ical import booking_event, calendar_of
from jasa.core import clock
from jasa.core.errors import JasaError
from jasa.web.decorators import workspace_member
from jasa.web.utils import form_error

CAPABILITY = "calendars.manage_own"


def _page(request, *, ics_form=None, caldav_form=None, status=200):
    feed = services.feed_for(request.membership)
    return render(request, "calendars/connections.html", {
        "connections": selectors.connections_for(request.membership),
        "ics_form": ics_form or IcsForm(),
        "caldav_form": caldav_form or CalDavForm(),
        "google_enabled": gcal.is_enabled(),
        "feed_url": request.build_absolute_uri(reverse("calendars:feed", args=[feed.token])),
    }, status=status)


def _to_page(request):
    return redirect("calendars:connections", ws=request.workspace.slug)


@workspace_member(CAPABILITY)
def connections(request):
    return _page(request)


@require_POST
@workspace_member(CAPABILITY)
def add_ics(request):
    form = IcsForm(request.POST)
    if form.is_valid():
        try:
            services.connection_create(membership=request.membership, kind="ics", **form.cleaned_data)
        except JasaError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Calendar added. Its busy times appear after the first sync."))
            return _to_page(request)
    return _page(request, ics_form=form, status=422)


@require_POST
@workspace_member(CAPABILITY)
def add_caldav(request):
    form = CalDavForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            conn = services.connection_create(
                membership=request.membership, kind="caldav", name=data["name"], url=data["url"],
                credentials={"username": data["username"], "password": data["password"]},
            )
        except JasaError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Calendar connected. Choose which calendars to check."))
            return redirect("calendars:edit", ws=request.workspace.slug, connection_id=conn.pk)
    return _page(request, caldav_form=form, status=422)


def _connection_or_404(request, connection_id):
    conn = selectors.connection_for(request.membership, connection_id)
    if conn is None:
        raise Http404("No such calendar")
    return conn


@workspace_member(CAPABILITY)
def edit(request, connection_id):
    conn = _connection_or_404(request, connection_id)
    error = ""
    try:
        calendars = services.connection_calendars(conn)
    except CalendarError as exc:
        calendars, error = [], str(exc)
    known = {cal_id for cal_id, _name in calendars}
    # Keep current choices selectable even when the server cannot list them right now.
    extra = [c for c in [*conn.selected_calendars, conn.write_calendar] if c and c not in known]
    calendars += [(c, _("Primary calendar") if c == "primary" else c) for c in dict.fromkeys(extra)]
    writable = conn.kind != "ics"
    initial = {"name": conn.name, "selected_calendars": conn.selected_calendars, "write_calendar": conn.write_calendar}
    form = ConnectionEditForm(request.POST or None, initial=initial, calendars=calendars, writable=writable)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.connection_update(conn, name=data["name"], selected_calendars=data["selected_calendars"],
                                       write_calendar=data.get("write_calendar") if writable else None)
        except JasaError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Calendar settings saved; a sync is on its way."))
            return _to_page(request)
    status = 422 if request.method == "POST" else 200
    return render(request, "calendars/edit.html", {"connection": conn, "form": form, "list_error": error},
                  status=status)


@require_POST
@workspace_member(CAPABILITY)
def sync_now(request, connection_id):
    services.connection_sync_soon(_connection_or_404(request, connection_id))
    messages.success(request, _("Sync queued; refresh in a minute to see the result."))
    return _to_page(request)


@require_POST
@workspace_member(CAPABILITY)
def remove(request, connection_id):
    services.connection_delete(_connection_or_404(request, connection_id))
    messages.success(request, _("Calendar disconnected; its busy times no longer block slots."))
    return _to_page(request)


@require_POST
@workspace_member(CAPABILITY)
def feed_rotate(request):
    services.feed_rotate(request.membership)
    messages.success(request, _("Your feed has a new address; the old one no longer works."))
    return _to_page(request)


def _google_redirect_uri(request) -> str:
    return request.build_absolute_uri(reverse("calendars:google_callback"))


@workspace_member(CAPABILITY)
def google_start(request):
    try:
        return redirect(services.google_connect_url(request.membership, _google_redirect_uri(request)))
    except JasaError as exc:
        messages.error(request, exc.message)
        return _to_page(request)


@login_required
def google_callback(request):
    """Google sends the staff member back here (one fixed address for the OAuth client)."""
    try:
        conn = services.google_connect_finish(
            request.user, code=request.GET.get("code", ""), state=request.GET.get("state", ""),
            redirect_uri=_google_redirect_uri(request),
        )
    except JasaError as exc:
        messages.error(request, exc.message)
        return redirect("web:dashboard_index")
    messages.success(request, _("Google Calendar connected."))
    return redirect("calendars:edit", ws=conn.workspace.slug, connection_id=conn.pk)


def feed(request, token: str):
    """The staff member's jasa bookings as an ICS feed at a secret address (no login: the token is the key)."""
    found = selectors.feed_by_token(token)
    if found is None:
        raise Http404("No such feed")
    membership = found.membership
    stamp = clock.now()
    events = [booking_event(b, stamp=stamp) for b in selectors.feed_bookings(membership)]
    name = f"jasa · {membership.workspace.name}"
    response = HttpResponse(calendar_of(events, name=name), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
