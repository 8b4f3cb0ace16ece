"""Read-only ICS feed URLs, fetched with conditional requests (ETag / Last-Modified)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import requests
from django.utils.translation import gettext as _

from jasa.calendars.adapters.base import CalendarError, FetchResult
from jasa.calendars.ical import busy_from_ical

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = 20


class IcsAdapter:
    def fetch_busy(self, connection, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> FetchResult:
        headers = {"User-Agent": "jasa-calendar-sync/1", "Accept": "text/calendar, */*"}
        if connection.etag:
            headers["If-None-Match"] = connection.etag
        if connection.last_modified:
            headers["If-Modified-Since"] = connection.last_modified
        url = connection.url.replace("webcal://", "https://", 1)
        try:
            response = requests.get(url, headers=headers, timeout=TIMEOUT, stream=True)
        except requests.RequestException as exc:
            raise CalendarError(_("The feed could not be reached (%(error)s).") % {"error": exc.__class__.__name__}) from exc
        with response:
            if response.status_code == 304:
                return FetchResult(not_modified=True, etag=connection.etag, last_modified=connection.last_modified)
            if response.status_code != 200:
                raise CalendarError(_("The feed answered HTTP %(status)s; check the address.") % {
                    "status": response.status_code})
            body = response.raw.read(MAX_BYTES + 1, decode_content=True)
        if len(body) > MAX_BYTES:
            raise CalendarError(_("The feed is larger than 20 MB."))
        try:
            busy = busy_from_ical(body, start, end, tz)
        except ValueError as exc:
            raise CalendarError(_("The feed is not a valid iCalendar file: %(error)s") % {"error": exc}) from exc
        return FetchResult(
            busy=busy, etag=response.headers.get("ETag", ""), last_modified=response.headers.get("Last-Modified", "")
        )

    def list_calendars(self, connection) -> list[tuple[str, str]]:
        return [(connection.url, connection.name)]

    def upsert_event(self, connection, booking, existing):
        raise CalendarError(_("An ICS feed is read-only."))

    def delete_event(self, connection, existing) -> None:
        raise CalendarError(_("An ICS feed is read-only."))
