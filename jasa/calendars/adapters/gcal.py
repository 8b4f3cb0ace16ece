"""Google Calendar through google-api-python-client: free/busy, and booking events with Meet links.

OAuth: :func:`authorization_url` sends the staff member to Google with a signed ``state``;
:func:`exchange_code` trades the returned code for a refresh token (stored encrypted on the
connection). The API root and OAuth endpoints come from settings so tests point them at a
local fake (``JASA_GOOGLE_API_ROOT``, ``JASA_GOOGLE_TOKEN_URI``, ``JASA_GOOGLE_AUTH_URI``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import google_auth_httplib2
import httplib2
import requests
from django.conf import settings
from django.utils.translation import gettext as _
from google.auth.exceptions import GoogleAuthError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from jasa.calendars.adapters.base import CalendarError, FetchResult, WrittenEvent
from jasa.calendars.ical import Busy, booking_description, booking_summary

SCOPES = ["https://www.googleapis.com/auth/calendar.readonly", "https://www.googleapis.com/auth/calendar.events"]
TIMEOUT = 20
FREEBUSY_CHUNK = dt.timedelta(days=60)  # keep each free/busy query to a modest range


def _setting(name: str, default: str) -> str:
    return getattr(settings, name, None) or default


def token_uri() -> str:
    return _setting("JASA_GOOGLE_TOKEN_URI", "https://oauth2.googleapis.com/token")


def is_enabled() -> bool:
    return bool(getattr(settings, "GOOGLE_CLIENT_ID", None) and getattr(settings, "GOOGLE_CLIENT_SECRET", None))


def authorization_url(redirect_uri: str, state: str, login_hint: str = "") -> str:
    query = {
        "client_id": settings.GOOGLE_CLIENT_ID, "redirect_uri": redirect_uri, "response_type": "code",
        "scope": " ".join(SCOPES), "access_type": "offline", "prompt": "consent",
        "include_granted_scopes": "true", "state": state,
    }
    if login_hint:
        query["login_hint"] = login_hint
    return f"{_setting('JASA_GOOGLE_AUTH_URI', 'https://accounts.google.com/o/oauth2/v2/auth')}?{urlencode(query)}"


def exchange_code(code: str, redirect_uri: str) -> dict:
    """The OAuth authorization-code grant. Returns the credentials to store (refresh token included)."""
    try:
        response = requests.post(token_uri(), data={
            "code": code, "client_id": settings.GOOGLE_CLIENT_ID, "client_secret": settings.GOOGLE_CLIENT_SECRET,
            "redirect_uri": redirect_uri, "grant_type": "authorization_code",
        }, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise CalendarError(_("Google could not be reached (%(error)s).") % {"error": exc.__class__.__name__}) from exc
    payload = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200 or "refresh_token" not in payload:
        reason = payload.get("error_description") or payload.get("error") or f"HTTP {response.status_code}"
        raise CalendarError(_("Google did not grant calendar access (%(reason)s). Try connecting again.") % {
            "reason": reason})
    return {"refresh_token": payload["refresh_token"], "token": payload.get("access_token", ""),
            "scope": payload.get("scope", "")}


def revoke(connection) -> bool:
    """Revoke the stored grant at Google; True when Google confirmed. Never raises."""
    token = connection.credentials.get("refresh_token") if connection.credentials_encrypted else None
    if not token:
        return False
    try:
        response = requests.post(_setting("JASA_GOOGLE_REVOKE_URI", "https://oauth2.googleapis.com/revoke"),
                                 data={"token": token}, timeout=10)
    except requests.RequestException:
        return False
    return response.status_code == 200


def _service(connection):
    creds = connection.credentials
    if not creds.get("refresh_token"):
        raise CalendarError(_("This Google connection has no access yet; connect it again."))
    credentials = Credentials(
        token=None, refresh_token=creds["refresh_token"], token_uri=token_uri(),
        client_id=settings.GOOGLE_CLIENT_ID, client_secret=settings.GOOGLE_CLIENT_SECRET, scopes=SCOPES,
    )
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=TIMEOUT))
    root = getattr(settings, "JASA_GOOGLE_API_ROOT", None)
    options = {"api_endpoint": root.rstrip("/") + "/calendar/v3/"} if root else None
    return build("calendar", "v3", http=http, client_options=options, cache_discovery=False, static_discovery=True)


def _explain(exc: Exception) -> CalendarError:
    if isinstance(exc, HttpError):
        status = exc.resp.status
        if status in (401, 403):
            return CalendarError(_("Google refused access to the calendar; connect it again."))
        if status == 404:
            return CalendarError(_("The Google calendar or event was not found."))
        return CalendarError(_("Google Calendar answered HTTP %(status)s.") % {"status": status})
    if isinstance(exc, GoogleAuthError):
        return CalendarError(_("Google refused the stored access (the grant was revoked?); connect it again."))
    return CalendarError(_("Google could not be reached (%(error)s).") % {"error": exc.__class__.__name__})


API_ERRORS = (HttpError, GoogleAuthError, httplib2.HttpLib2Error, OSError)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class GoogleAdapter:
    def list_calendars(self, connection) -> list[tuple[str, str]]:
        try:
            items = _service(connection).calendarList().list(minAccessRole="freeBusyReader").execute()
        except API_ERRORS as exc:
            raise _explain(exc) from exc
        return [(c["id"], c.get("summaryOverride") or c.get("summary") or c["id"]) for c in items.get("items", [])]

    def fetch_busy(self, connection, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> FetchResult:
        ids = list(connection.selected_calendars or ["primary"])
        busy: list[Busy] = []
        try:
            service = _service(connection)
            chunk_start = start
            while chunk_start < end:
                chunk_end = min(end, chunk_start + FREEBUSY_CHUNK)
                body = {"timeMin": _iso(chunk_start), "timeMax": _iso(chunk_end), "items": [{"id": i} for i in ids]}
                answer = service.freebusy().query(body=body).execute()
                for cal_id, cal in answer.get("calendars", {}).items():
                    if cal.get("errors"):
                        reasons = ", ".join(e.get("reason", "?") for e in cal["errors"])
                        raise CalendarError(_("Google could not read calendar %(calendar)s: %(reasons)s.") % {
                            "calendar": cal_id, "reasons": reasons})
                    busy.extend(Busy(_parse(b["start"]), _parse(b["end"]), cal_id) for b in cal.get("busy", []))
                chunk_start = chunk_end
        except API_ERRORS as exc:
            raise _explain(exc) from exc
        return FetchResult(busy=busy)

    def _body(self, booking, with_meet: bool) -> dict:
        body = {
            "summary": booking_summary(booking),
            "description": booking_description(booking),
            "start": {"dateTime": _iso(booking.start_at)},
            "end": {"dateTime": _iso(booking.end_at)},
            "extendedProperties": {"private": {"jasa_booking": str(booking.pk)}},
        }
        location = getattr(booking.offer, "location_detail", "")
        if location:
            body["location"] = location
        if with_meet:
            body["conferenceData"] = {"createRequest": {
                "requestId": f"jasa-{booking.pk}-{uuid.uuid4().hex[:8]}",
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }}
        return body

    def upsert_event(self, connection, booking, existing) -> WrittenEvent:
        calendar_id = existing.calendar if existing else connection.write_calendar
        try:
            events = _service(connection).events()
            if existing:
                # Reschedule: move the event; the Meet link stays as it was.
                result = events.patch(calendarId=calendar_id, eventId=existing.external_id,
                                      body=self._body(booking, with_meet=False), sendUpdates="none").execute()
            else:
                with_meet = bool(getattr(booking.offer, "create_meet_link", False))
                result = events.insert(calendarId=calendar_id, body=self._body(booking, with_meet),
                                       conferenceDataVersion=1 if with_meet else 0, sendUpdates="none").execute()
        except API_ERRORS as exc:
            raise _explain(exc) from exc
        meet = result.get("hangoutLink") or next(
            (p.get("uri", "") for p in result.get("conferenceData", {}).get("entryPoints", [])
             if p.get("entryPointType") == "video"), "")
        return WrittenEvent(external_id=result["id"], calendar=calendar_id,
                            meet_url=meet or (existing.meet_url if existing else ""))

    def delete_event(self, connection, existing) -> None:
        try:
            _service(connection).events().delete(calendarId=existing.calendar, eventId=existing.external_id,
                                                 sendUpdates="none").execute()
        except HttpError as exc:
            if exc.resp.status in (404, 410):
                return  # already gone
            raise _explain(exc) from exc
        except API_ERRORS as exc:
            raise _explain(exc) from exc
