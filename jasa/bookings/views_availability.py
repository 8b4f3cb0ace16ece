"""The staff availability editor: weekly hours (several ranges a day), date overrides, public holidays.

Staff edit their own hours; owners and admins (``availability.manage_all``) pick any staff
member with ``?staff=<id>`` and keep the workspace's public holidays.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jasa.accounts.models import Membership
from jasa.accounts.permissions import can
from jasa.bookings import availability
from jasa.bookings import services_availability as services
from jasa.bookings.models_availability import WEEKDAYS
from jasa.core import clock
from jasa.core.errors import JasaError
from jasa.web.decorators import workspace_member
from jasa.web.utils import form_error

OWN = "availability.manage_own"
ALL = "availability.manage_all"
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class HoursForm(forms.Form):
    weekday = forms.TypedChoiceField(label=gettext_lazy("Day"), choices=WEEKDAYS, coerce=int)
    start_time = forms.TimeField(label=gettext_lazy("From"), widget=TIME)
    end_time = forms.TimeField(label=gettext_lazy("Until"), widget=TIME,
                               help_text=gettext_lazy("00:00 means midnight at the end of the day"))


class OverrideForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    is_day_off = forms.BooleanField(label=gettext_lazy("Day off"), required=False)
    ranges = forms.CharField(label=gettext_lazy("Hours that day"), required=False,
                             help_text=gettext_lazy("e.g. 09:00-12:00, 13:00-17:00 (replaces the weekly hours)"))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class HolidayForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)


def _staff(request) -> Membership:
    """Whose availability: one's own, or (with manage_all) the staff member named by ?staff=."""
    staff_id = request.GET.get("staff") or request.POST.get("staff")
    if not staff_id or staff_id == str(request.membership.pk):
        if not can(request.membership, OWN):
            raise Http404("No availability to edit")
        return request.membership
    if not can(request.membership, ALL):
        raise Http404("No such staff member")
    try:
        target = Membership.objects.select_related("profile", "user").filter(
            workspace=request.workspace, pk=staff_id, is_active=True).first()
    except (ValueError, forms.ValidationError):
        target = None
    if target is None:
        raise Http404("No such staff member")
    return target


def _page(request, staff, *, hours_form=None, override_form=None, holiday_form=None, status=200):
    ws = request.workspace
    profile = getattr(staff, "profile", None)
    today = clock.today(ws.tz)
    return render(request, "bookings/availability/editor.html", {
        "staff": staff,
        "staff_name": getattr(profile, "display_name", "") or staff.user,
        "staff_zone": availability.staff_zone(staff),
        "is_self": staff.pk == request.membership.pk,
        "team": (Membership.objects.filter(workspace=ws, is_active=True).select_related("profile", "user")
                 if can(request.membership, ALL) else []),
        "weekly": availability.weekly_hours(staff),
        "overrides": availability.upcoming_overrides(staff, today),
        "holidays": availability.upcoming_holidays(ws, today),
        "may_edit_holidays": can(request.membership, ALL),
        "hours_form": hours_form or HoursForm(),
        "override_form": override_form or OverrideForm(),
        "holiday_form": holiday_form or HolidayForm(),
    }, status=status)


def _back(request, staff):
    url = redirect("bookings:availability", ws=request.workspace.slug)
    if staff.pk != request.membership.pk:
        url["Location"] += f"?staff={staff.pk}"
    return url


@workspace_member("workspace.view")
def editor(request):
    return _page(request, _staff(request))


@require_POST
@workspace_member("workspace.view")
def hours_add(request):
    staff = _staff(request)
    form = HoursForm(request.POST)
    if form.is_valid():
        try:
            services.working_hours_add(staff, **form.cleaned_data)
        except JasaError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Working hours added."))
            return _back(request, staff)
    return _page(request, staff, hours_form=form, status=422)


def _remove(request, item_id, remove):
    staff = _staff(request)
    try:
        remove(staff, item_id)
    except JasaError as exc:
        messages.error(request, exc.message)
    return _back(request, staff)


@require_POST
@workspace_member("workspace.view")
def hours_delete(request, item_id):
    return _remove(request, item_id, services.working_hours_delete)


@require_POST
@workspace_member("workspace.view")
def override_set(request):
    staff = _staff(request)
    form = OverrideForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            ranges = [] if data["is_day_off"] else services.parse_range_text(data["ranges"])
            services.date_override_set(staff, date=data["date"], is_day_off=data["is_day_off"], ranges=ranges,
                                       note=data["note"])
        except JasaError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Hours for %(date)s saved.") % {"date": data["date"].isoformat()})
            return _back(request, staff)
    return _page(request, staff, override_form=form, status=422)


@require_POST
@workspace_member("workspace.view")
def override_delete(request, item_id):
    return _remove(request, item_id, services.date_override_delete)


@require_POST
@workspace_member(ALL)
def holiday_add(request):
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            services.public_holiday_add(request.workspace, **form.cleaned_data)
        except JasaError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Holiday added: nobody is bookable that day unless they set their own hours."))
            return redirect("bookings:availability", ws=request.workspace.slug)
    return _page(request, request.membership, holiday_form=form, status=422)


@require_POST
@workspace_member(ALL)
def holiday_delete(request, item_id):
    try:
        services.public_holiday_delete(request.workspace, item_id)
    except JasaError as exc:
        messages.error(request, exc.message)
    return redirect("bookings:availability", ws=request.workspace.slug)
