"""Writes of the calendars app: connections, background sync, booking events, the outgoing feed token.

Sync never runs inside a page request: :func:`connection_sync_soon` schedules a job and the
slots page reads only the cached :class:`BusyInterval` rows. A failed sync keeps the last
known busy times and records the error on the connection for the staff member to see.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from jasa.calendars.adapters import CalendarError, adapter_for
from jasa.calendars.models import BookingEvent, BookingFeed, BusyInterval, CalendarConnection, CalendarKind
from jasa.core import audit, clock, jobs
from jasa.core.errors import ValidationError

log = logging.getLogger(__name__)

SYNC_JOB = "calendars.sync"
MIN_SYNC_DAYS = 60
BUSY_ROWS_MAX = 50_000
JASA_UID = re.compile(r"booking-[0-9a-f-]+@jasa")


def _read_only() -> str:
    return _("An ICS feed is read-only; bookings cannot be written to it.")


# --- connections ---------------------------------------------------------------------------------------


@transaction.atomic
def connection_create(*, membership, kind: str, name: str, url: str = "", credentials: dict | None = None,
                      selected_calendars: list[str] | None = None, write_calendar: str = "") -> CalendarConnection:
    if kind not in CalendarKind.values:
        raise ValidationError(_("Choose Google, CalDAV or an ICS feed."), field="kind")
    if kind in (CalendarKind.CALDAV, CalendarKind.ICS) and not url.startswith(("https://", "http://", "webcal://")):
        raise ValidationError(_("Enter the calendar's address (https://…)."), field="url")
    if kind == CalendarKind.ICS and write_calendar:
        raise ValidationError(_read_only(), field="write_calendar")
    conn = CalendarConnection(
        workspace=membership.workspace, membership=membership, kind=kind, name=name.strip() or kind, url=url,
        selected_calendars=list(selected_calendars or []), write_calendar=write_calendar,
    )
    conn.credentials = credentials or {}
    conn.save()
    audit.record(conn, "calendar.connected", after={"kind": kind, "name": conn.name})
    connection_sync_soon(conn)
    return conn


@transaction.atomic
def connection_update(conn: CalendarConnection, *, name: str | None = None, selected_calendars=None,
                      write_calendar: str | None = None, credentials: dict | None = None) -> CalendarConnection:
    before = {"name": conn.name, "selected_calendars": conn.selected_calendars, "write_calendar": conn.write_calendar}
    if name is not None:
        conn.name = name.strip() or conn.name
    if selected_calendars is not None:
        conn.selected_calendars = list(selected_calendars)
    if write_calendar is not None:
        if conn.kind == CalendarKind.ICS and write_calendar:
            raise ValidationError(_read_only(), field="write_calendar")
        conn.write_calendar = write_calendar
    if credentials is not None:
        conn.credentials = {**conn.credentials, **credentials}
        conn.etag = conn.last_modified = ""
    conn.save()
    audit.record(conn, "calendar.updated", before=before,
                 after={"name": conn.name, "selected_calendars": conn.selected_calendars,
                        "write_calendar": conn.write_calendar})
    connection_sync_soon(conn)
    return conn


def connection_delete(conn: CalendarConnection) -> None:
    if conn.kind == CalendarKind.GOOGLE:
        from jasa.calendars.adapters import gcal

        gcal.revoke(conn)  # best effort: the grant should not outlive the connection
    with transaction.atomic():
        audit.record(conn, "calendar.disconnected", before={"kind": conn.kind, "name": conn.name})
        jobs.cancel_prefix(f"calendar:{conn.pk}:")
        conn.delete()  # its busy rows go with it: they no longer block slots


def connection_calendars(conn: CalendarConnection) -> list[tuple[str, str]]:
    """The calendars the account offers (id, name), to choose which to check and where to write."""
    return adapter_for(conn.kind).list_calendars(conn)


# --- sync ------------------------------------------------------------------------------------------------


def _sync_key(conn: CalendarConnection, due_at: dt.datetime) -> str:
    # Keys fall on the sync grid, so "sync now" and the regular chain converge on one row per slot.
    every = max(1, conn.sync_every_minutes) * 60
    slot = int(due_at.timestamp()) // every
    return f"calendar:{conn.pk}:sync:{slot}"


def connection_sync_soon(conn: CalendarConnection, *, delay: dt.timedelta = dt.timedelta(0)) -> None:
    due = clock.now() + delay
    key = _sync_key(conn, due) if delay else f"calendar:{conn.pk}:sync:now:{due:%Y%m%dT%H%M%S%f}"
    jobs.schedule(SYNC_JOB, key=key, due_at=due, payload={"connection": str(conn.pk)}, workspace=conn.workspace)


def sync_window(conn: CalendarConnection) -> tuple[dt.datetime, dt.datetime]:
    """From yesterday to the furthest horizon of the offers this staff member delivers (and two days more)."""
    from jasa.catalog.models import ConsultationOffer

    horizon = ConsultationOffer.objects.filter(staff=conn.membership, is_active=True).aggregate(
        h=Max("horizon_days"))["h"] or 0
    now = clock.now()
    return now - dt.timedelta(days=1), now + dt.timedelta(days=max(MIN_SYNC_DAYS, horizon) + 2)


def connection_sync(conn_id) -> CalendarConnection | None:
    """Fetch busy times now and replace the cache; on failure keep the cache and record the error."""
    from jasa.bookings.availability import staff_zone
    from jasa.bookings.cache import availability_changed

    conn = CalendarConnection.objects.select_related("membership__profile", "workspace").filter(pk=conn_id).first()
    if conn is None or not conn.is_active:
        return conn
    now = clock.now()
    start, end = sync_window(conn)
    if conn.last_synced_at is None or conn.last_synced_at.date() != now.date():
        # Once a day fetch in full even if unchanged: the window moves on and recurrences must follow.
        conn.etag = conn.last_modified = ""
    try:
        result = adapter_for(conn.kind).fetch_busy(conn, start, end, staff_zone(conn.membership))
    except CalendarError as exc:
        return _sync_failed(conn, str(exc), now)
    except Exception as exc:  # noqa: BLE001 - an unexpected failure must still leave the cache and show up
        log.exception("calendar sync of %s failed", conn.pk)
        return _sync_failed(conn, f"Unexpected error: {exc.__class__.__name__}", now)
    # jasa's own booking events come back from the calendar; the bookings themselves already block
    # (and a cancelled one must not linger until its event is deleted).
    busy = [b for b in result.busy if not JASA_UID.fullmatch(b.uid)]
    with transaction.atomic():
        if not result.not_modified:
            BusyInterval.objects.filter(connection=conn).delete()
            BusyInterval.objects.bulk_create(
                [BusyInterval(workspace_id=conn.workspace_id, connection=conn, membership_id=conn.membership_id,
                              start=b.start, end=b.end, source_uid=b.uid[:500])
                 for b in busy[:BUSY_ROWS_MAX]],
                batch_size=1000,
            )
            conn.etag, conn.last_modified = result.etag[:500], result.last_modified[:100]
            availability_changed(conn.workspace_id)  # bulk writes send no signals: cached slots must go
        had_error = bool(conn.last_error)
        conn.last_synced_at = conn.last_attempt_at = now
        conn.last_error = ""
        conn.save(update_fields=["etag", "last_modified", "last_synced_at", "last_attempt_at", "last_error",
                                 "updated_at"])
        if had_error:
            audit.record(conn, "calendar.sync_recovered")
    return conn


def _sync_failed(conn: CalendarConnection, message: str, now: dt.datetime) -> CalendarConnection:
    with transaction.atomic():
        changed = conn.last_error != message
        CalendarConnection.objects.filter(pk=conn.pk).update(last_error=message, last_attempt_at=now)
        conn.last_error, conn.last_attempt_at = message, now
        if changed:  # audit the change of state, not every retry
            audit.record(conn, "calendar.sync_failed", after={"error": message})
    return conn


# --- booking events (called by the bookings module on confirm / reschedule / cancel) -----------------------


def writable_connection(membership) -> CalendarConnection | None:
    return (
        CalendarConnection.objects.filter(membership=membership, is_active=True)
        .exclude(kind=CalendarKind.ICS).exclude(write_calendar="").order_by("created_at").first()
    )


def booking_event_upsert(booking) -> BookingEvent | None:
    """Write the booking into its staff member's calendar, or move it there on reschedule.

    No-op (None) when the staff member has no writable calendar. Raises CalendarError when the
    calendar refuses, so the caller's job retries.
    """
    existing = BookingEvent.objects.select_related("connection").filter(booking_id=str(booking.pk)).first()
    if existing is not None and existing.connection.membership_id != booking.staff_id:
        booking_event_delete(booking)  # the booking moved to another staff member
        existing = None
    conn = existing.connection if existing else writable_connection(booking.staff)
    if conn is None:
        return None
    written = adapter_for(conn.kind).upsert_event(conn, booking, existing)
    with transaction.atomic():
        event, created = BookingEvent.objects.update_or_create(
            connection=conn, booking_id=str(booking.pk),
            defaults={"workspace_id": conn.workspace_id, "external_id": written.external_id,
                      "calendar": written.calendar, "meet_url": written.meet_url},
        )
        audit.record(event, "calendar.event_written" if created else "calendar.event_moved",
                     after={"start": booking.start_at, "connection": conn.name}, workspace=booking.workspace)
        if existing is not None and conn.kind == CalendarKind.GOOGLE:
            # Google free/busy still shows the old time until the next sync: fetch again now.
            connection_sync_soon(conn)
    return event


def booking_event_delete(booking) -> int:
    """Remove the booking's event from every calendar jasa wrote it to. Returns how many were removed."""
    removed = 0
    for event in BookingEvent.objects.select_related("connection").filter(booking_id=str(booking.pk)):
        adapter_for(event.connection.kind).delete_event(event.connection, event)
        with transaction.atomic():
            audit.record(event, "calendar.event_deleted", workspace=booking.workspace)
            event.delete()
            if event.connection.kind == CalendarKind.GOOGLE:
                connection_sync_soon(event.connection)  # free the time in the cached free/busy soon
        removed += 1
    return removed


def booking_meet_url(booking) -> str:
    """The video link Google made for the booking, if any."""
    event = BookingEvent.objects.filter(booking_id=str(booking.pk)).exclude(meet_url="").first()
    return event.meet_url if event else ""


# --- the outgoing feed -------------------------------------------------------------------------------------


def feed_for(membership) -> BookingFeed:
    feed, _ = BookingFeed.objects.get_or_create(membership=membership)
    return feed


@transaction.atomic
def feed_rotate(membership) -> BookingFeed:
    """A new secret address; the old one stops working at once."""
    feed = feed_for(membership)
    from jasa.calendars.models import _feed_token

    feed.token = _feed_token()
    feed.save(update_fields=["token", "updated_at"])
    audit.record(feed, "calendar.feed_rotated", workspace=membership.workspace)
    return feed


# --- Google OAuth connect flow -----------------------------------------------------------------------------

GOOGLE_STATE_SALT = "jasa.calendars.google"
GOOGLE_STATE_MAX_AGE = 15 * 60


def google_connect_url(membership, redirect_uri: str) -> str:
    """Where to send the staff member to grant calendar access; ``state`` is signed and names them."""
    from django.core import signing

    from jasa.calendars.adapters import gcal

    if not gcal.is_enabled():
        raise ValidationError(_("Google Calendar is not set up on this server (GOOGLE_CLIENT_ID/SECRET)."))
    state = signing.dumps({"m": str(membership.pk)}, salt=GOOGLE_STATE_SALT)
    return gcal.authorization_url(redirect_uri, state, login_hint=membership.user.email)


def google_connect_finish(user, *, code: str, state: str, redirect_uri: str) -> CalendarConnection:
    """The OAuth callback: check the state, trade the code for a refresh token, store it encrypted."""
    from django.core import signing

    from jasa.accounts.models import Membership
    from jasa.calendars.adapters import gcal

    try:
        data = signing.loads(state, salt=GOOGLE_STATE_SALT, max_age=GOOGLE_STATE_MAX_AGE)
    except signing.BadSignature:
        raise ValidationError(_("The Google sign-in link expired or was changed; start connecting again."))
    membership = Membership.objects.filter(pk=data.get("m"), user=user, is_active=True).select_related(
        "workspace").first()
    if membership is None:
        raise ValidationError(_("This Google sign-in was started by someone else; start connecting again."))
    if not code:
        raise ValidationError(_("Google did not grant access; start connecting again."))
    try:
        creds = gcal.exchange_code(code, redirect_uri)
    except CalendarError as exc:
        raise ValidationError(str(exc))
    return connection_create(membership=membership, kind=CalendarKind.GOOGLE, name="Google Calendar",
                             credentials=creds, selected_calendars=["primary"], write_calendar="primary")
