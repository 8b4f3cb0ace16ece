"""Read-only ICS feed URLs, fetched with conditional requests (ETag / Last-Modified)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import requests
from django.utils.translation import gettext as _

from jasa.calendars.adapters.base import CalendarError, FetchResult
from jasa.calendars.ical import busy_from_ical
from jasa.calendars.netcheck import check_public_url

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = 20
MAX_REDIRECTS = 5


def _get(url: str, headers: dict) -> requests.Response:
    """GET following up to five redirects, checking every address it is sent to."""
    for _hop in range(MAX_REDIRECTS + 1):
        check_public_url(url)
        try:
            response = requests.get(url, headers=headers, timeout=TIMEOUT, stream=True, allow_redirects=False)
        except requests.RequestException as exc:
            raise CalendarError(
                _("The feed could not be reached (%(error)s).") % {"error": exc.__class__.__name__}) from exc
        if not response.is_redirect:
            return response
        response.close()
        url = urljoin(url, response.headers["Location"])
    raise CalendarError(_("The feed redirects too often."))


class IcsAdapter:
    def fetch_busy(self, connection, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> FetchResult:
        headers = {"User-Agent": "jasa-calendar-sync/1", "Accept": "text/calendar, */*"}
        if connection.etag:
            headers["If-None-Match"] = connection.etag
        if connection.last_modified:
            headers["If-Modified-Since"] = connection.last_modified
        response = _get(connection.url.replace("webcal://", "https://", 1), headers)
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
