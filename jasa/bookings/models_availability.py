"""Staff availability: weekly working hours, date overrides and public holidays.

Times are wall-clock times in the staff member's zone (``StaffProfile.time_zone``); the slot
engine turns them into UTC per date, so a 09:00 start stays 09:00 across daylight saving.
"""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from jasa.core.models import WorkspaceOwned

__all__ = ["WorkingHours", "DateOverride", "PublicHoliday", "parse_ranges"]

WEEKDAYS = [
    (0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
    (4, _("Friday")), (5, _("Saturday")), (6, _("Sunday")),
]


class WorkingHours(WorkspaceOwned):
    """One range of a weekday's working hours; a day may have several (09:00–12:00, 13:00–17:00)."""

    WEEKDAYS = WEEKDAYS

    membership = models.ForeignKey("accounts.Membership", on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS, validators=[MaxValueValidator(6)])
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"), help_text=_("00:00 means midnight at the end of the day"))

    class Meta:
        ordering = ["weekday", "start_time"]
        indexes = [models.Index(fields=["membership", "weekday"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="working_hours_weekday_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")) | models.Q(end_time=dt.time(0)),
                name="working_hours_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class DateOverride(WorkspaceOwned):
    """A date whose hours replace the weekly hours: a day off, or different / extra hours."""

    membership = models.ForeignKey("accounts.Membership", on_delete=models.CASCADE, related_name="date_overrides")
    date = models.DateField(_("date"))
    is_day_off = models.BooleanField(_("day off"), default=False)
    ranges = models.JSONField(_("hours"), default=list, blank=True, help_text='[["09:00", "12:00"], ...]')
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "date"], name="date_override_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {'off' if self.is_day_off else self.ranges}"

    def time_ranges(self) -> list[tuple[dt.time, dt.time]]:
        return [] if self.is_day_off else parse_ranges(self.ranges)


class PublicHoliday(WorkspaceOwned):
    """A day nobody in the workspace works unless their own date override says otherwise."""

    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "date"], name="public_holiday_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


def parse_ranges(raw) -> list[tuple[dt.time, dt.time]]:
    """[["09:00", "12:00"], ...] -> [(time, time), ...]; raises ValueError on a bad or inverted range."""
    out = []
    for pair in raw or []:
        start, end = (dt.time.fromisoformat(str(v)) for v in pair)
        if not (end > start or end == dt.time(0)):
            raise ValueError(f"{start:%H:%M}–{end:%H:%M} ends before it starts")
        out.append((start, end))
    return sorted(out)
