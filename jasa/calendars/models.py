"""Calendar connections of staff members and the busy times cached from them.

The slots page reads only :class:`BusyInterval` rows; the background sync replaces a
connection's rows after each successful fetch, so a failing calendar keeps counting with its
last known busy times while ``last_error`` tells the staff member what went wrong.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from jasa.core.models import BaseModel, WorkspaceOwned


class CalendarKind(models.TextChoices):
    GOOGLE = "google", _("Google Calendar")
    CALDAV = "caldav", _("CalDAV (iCloud, Nextcloud, Fastmail …)")
    ICS = "ics", _("ICS feed (read-only)")


class CalendarConnection(WorkspaceOwned):
    membership = models.ForeignKey(
        "accounts.Membership", on_delete=models.CASCADE, related_name="calendar_connections"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=CalendarKind.choices)
    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("address"), max_length=1000, blank=True, help_text=_("CalDAV server or ICS feed URL"))
    credentials_encrypted = models.TextField(blank=True, help_text="Fernet token of a JSON object")
    selected_calendars = models.JSONField(_("calendars to check"), default=list, blank=True)
    write_calendar = models.CharField(
        _("calendar for new bookings"), max_length=1000, blank=True,
        help_text=_("Confirmed bookings are written here; empty means read-only."),
    )
    is_active = models.BooleanField(default=True)
    sync_every_minutes = models.PositiveIntegerField(default=10)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def credentials(self) -> dict:
        from jasa.core.crypto import decrypt_json

        return decrypt_json(self.credentials_encrypted, what="calendar credentials")

    @credentials.setter
    def credentials(self, value: dict) -> None:
        from jasa.core.crypto import encrypt_json

        self.credentials_encrypted = encrypt_json(value)

    @property
    def is_writable(self) -> bool:
        return self.kind != CalendarKind.ICS and bool(self.write_calendar)


class BusyInterval(models.Model):
    """A busy time [start, end) seen in a connected calendar. Rows are replaced on each successful sync."""

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(CalendarConnection, on_delete=models.CASCADE, related_name="busy")
    membership = models.ForeignKey("accounts.Membership", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    source_uid = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["membership", "start"]), models.Index(fields=["membership", "end"])]


class BookingEvent(WorkspaceOwned):
    """The event jasa wrote into a staff calendar for a booking, so reschedule/cancel find it again."""

    connection = models.ForeignKey(CalendarConnection, on_delete=models.CASCADE, related_name="booking_events")
    booking_id = models.CharField(max_length=64, db_index=True)
    external_id = models.CharField(max_length=1000, help_text="Google event id or CalDAV event URL")
    calendar = models.CharField(max_length=1000, blank=True)
    meet_url = models.URLField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "booking_id"], name="booking_event_once_per_connection")
        ]


def _feed_token() -> str:
    return secrets.token_urlsafe(24)


class BookingFeed(BaseModel):
    """The secret address of a staff member's outgoing ICS feed of jasa bookings."""

    membership = models.OneToOneField("accounts.Membership", on_delete=models.CASCADE, related_name="booking_feed")
    token = models.CharField(max_length=64, unique=True, default=_feed_token)
