"""Writes of staff availability: weekly hours, date overrides, public holidays. Each one audited."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from jasa.bookings.models_availability import DateOverride, PublicHoliday, WorkingHours, parse_ranges
from jasa.core import audit
from jasa.core.errors import Conflict, NotFound, ValidationError


def _minutes(t: dt.time, end: bool = False) -> int:
    return 24 * 60 if end and t == dt.time(0) else t.hour * 60 + t.minute


def _check_range(start: dt.time, end: dt.time) -> None:
    if not (end > start or end == dt.time(0)):
        raise ValidationError(_("The end must be after the start."), field="end_time")


def parse_range_text(text: str) -> list[tuple[dt.time, dt.time]]:
    """'09:00-12:00, 13:00-17:00' -> ranges; a clear error for anything else."""
    ranges = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        bits = [b.strip() for b in part.replace("–", "-").split("-")]
        try:
            if len(bits) != 2:
                raise ValueError
            ranges.append(parse_ranges([bits])[0])
        except ValueError:
            raise ValidationError(
                _("Write hours as 09:00-12:00, several separated by commas (“%(part)s” is not).") % {"part": part},
                field="ranges",
            )
    ranges.sort()
    for (a_start, a_end), (b_start, _b_end) in zip(ranges, ranges[1:], strict=False):
        if _minutes(b_start) < _minutes(a_end, end=True):
            raise ValidationError(_("The hours %(a)s and %(b)s overlap.") % {
                "a": f"{a_start:%H:%M}-{a_end:%H:%M}", "b": f"{b_start:%H:%M}"}, field="ranges")
    return ranges


@transaction.atomic
def working_hours_add(membership, *, weekday: int, start_time: dt.time, end_time: dt.time) -> WorkingHours:
    if not 0 <= int(weekday) <= 6:
        raise ValidationError(_("Choose a day of the week."), field="weekday")
    _check_range(start_time, end_time)
    for other in WorkingHours.objects.filter(membership=membership, weekday=weekday):
        if _minutes(start_time) < _minutes(other.end_time, True) and _minutes(other.start_time) < _minutes(end_time, True):
            raise Conflict(_("This overlaps %(range)s on the same day.") % {"range": str(other)}, field="start_time")
    wh = WorkingHours.objects.create(workspace=membership.workspace, membership=membership, weekday=weekday,
                                     start_time=start_time, end_time=end_time)
    audit.record(wh, "availability.hours_added", after={"weekday": weekday, "start": start_time, "end": end_time})
    return wh


def _own_row(model, membership, pk, missing: str):
    row = model.objects.filter(membership=membership, workspace_id=membership.workspace_id, pk=pk).first()
    if row is None:
        raise NotFound(missing)
    return row


@transaction.atomic
def working_hours_delete(membership, hours_id) -> None:
    wh = _own_row(WorkingHours, membership, hours_id, _("These working hours no longer exist."))
    audit.record(wh, "availability.hours_removed", before={"weekday": wh.weekday, "start": wh.start_time,
                                                            "end": wh.end_time})
    wh.delete()


@transaction.atomic
def date_override_set(membership, *, date: dt.date, is_day_off: bool, ranges: list, note: str = "") -> DateOverride:
    """Set a date's hours (replacing the weekly hours that day), or make it a day off."""
    ranges = [] if is_day_off else [[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b in ranges]
    if not is_day_off and not ranges:
        raise ValidationError(_("Give the hours for that date, or mark it as a day off."), field="ranges")
    before = DateOverride.objects.filter(membership=membership, date=date).first()
    ov, _created = DateOverride.objects.update_or_create(
        membership=membership, date=date,
        defaults={"workspace": membership.workspace, "is_day_off": is_day_off, "ranges": ranges, "note": note},
    )
    audit.record(ov, "availability.override_set",
                 before={"is_day_off": before.is_day_off, "ranges": before.ranges} if before else None,
                 after={"date": date, "is_day_off": is_day_off, "ranges": ranges})
    return ov


@transaction.atomic
def date_override_delete(membership, override_id) -> None:
    ov = _own_row(DateOverride, membership, override_id, _("This date no longer has its own hours."))
    audit.record(ov, "availability.override_removed", before={"date": ov.date, "ranges": ov.ranges,
                                                               "is_day_off": ov.is_day_off})
    ov.delete()


@transaction.atomic
def public_holiday_add(workspace, *, date: dt.date, name: str) -> PublicHoliday:
    if PublicHoliday.objects.filter(workspace=workspace, date=date).exists():
        raise Conflict(_("%(date)s is already a holiday.") % {"date": date.isoformat()}, field="date")
    hol = PublicHoliday.objects.create(workspace=workspace, date=date, name=name.strip())
    audit.record(hol, "availability.holiday_added", after={"date": date, "name": hol.name})
    return hol


@transaction.atomic
def public_holiday_delete(workspace, holiday_id) -> None:
    hol = PublicHoliday.objects.filter(workspace=workspace, pk=holiday_id).first()
    if hol is None:
        raise NotFound(_("This holiday no longer exists."))
    audit.record(hol, "availability.holiday_removed", before={"date": hol.date, "name": hol.name})
    hol.delete()
