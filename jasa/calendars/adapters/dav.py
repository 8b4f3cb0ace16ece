"""CalDAV (iCloud, Nextcloud, Fastmail, Radicale …) through the caldav library.

Busy times: a time-range REPORT per chosen calendar; the returned objects (with their RRULEs,
TZIDs and all-day dates) are expanded here by :func:`jasa.calendars.ical.busy_from_ical`, so
recurring events work the same whether or not the server expands them.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import caldav
from caldav.lib import error as caldav_error
from django.utils.translation import gettext as _

from jasa.calendars.adapters.base import CalendarError, FetchResult, WrittenEvent
from jasa.calendars.ical import booking_event, busy_from_ical, calendar_of
from jasa.calendars.netcheck import check_public_url
from jasa.core import clock

TIMEOUT = 20
DAV_ERRORS = (caldav_error.DAVError, OSError, ValueError)


def _client(connection) -> caldav.DAVClient:
    check_public_url(connection.url)
    creds = connection.credentials
    return caldav.DAVClient(
        url=connection.url, username=creds.get("username") or None, password=creds.get("password") or None,
        timeout=TIMEOUT,
    )


def _explain(exc: Exception) -> CalendarError:
    if isinstance(exc, caldav_error.AuthorizationError):
        return CalendarError(_("The CalDAV server refused the user name or password."))
    if isinstance(exc, caldav_error.NotFoundError):
        return CalendarError(_("The calendar was not found on the CalDAV server; choose it again."))
    return CalendarError(_("The CalDAV server could not be used: %(error)s") % {
        "error": f"{exc.__class__.__name__}: {str(exc)[:200]}"})


class CalDavAdapter:
    def list_calendars(self, connection) -> list[tuple[str, str]]:
        try:
            with _client(connection) as client:
                return [(str(c.url), c.get_display_name() or str(c.url)) for c in client.principal().calendars()]
        except DAV_ERRORS as exc:
            raise _explain(exc) from exc

    def fetch_busy(self, connection, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> FetchResult:
        try:
            with _client(connection) as client:
                urls = list(connection.selected_calendars or [])
                calendars = [client.calendar(url=u) for u in urls] or client.principal().calendars()
                busy = []
                for cal in calendars:
                    objects = cal.search(start=start, end=end, event=True, expand=False)
                    data = "".join(obj.data for obj in objects if obj.data)
                    if data:
                        busy.extend(busy_from_ical(data, start, end, tz))
                return FetchResult(busy=busy)
        except DAV_ERRORS as exc:
            raise _explain(exc) from exc

    def upsert_event(self, connection, booking, existing) -> WrittenEvent:
        data = calendar_of([booking_event(booking, stamp=clock.now())]).decode()
        try:
            with _client(connection) as client:
                cal = client.calendar(url=existing.calendar if existing else connection.write_calendar)
                if existing:
                    event = cal.event_by_url(existing.external_id)
                    event.data = data
                    event.save(increase_seqno=False)
                else:
                    event = cal.add_event(data)
                return WrittenEvent(external_id=str(event.url), calendar=str(cal.url))
        except DAV_ERRORS as exc:
            raise _explain(exc) from exc

    def delete_event(self, connection, existing) -> None:
        try:
            with _client(connection) as client:
                cal = client.calendar(url=existing.calendar or connection.write_calendar)
                cal.event_by_url(existing.external_id).delete()
        except caldav_error.NotFoundError:
            return  # already gone: deleting is idempotent
        except DAV_ERRORS as exc:
            raise _explain(exc) from exc
