"""Google Calendar through google-api-python-client, against a local fake answering documented payloads."""

import datetime as dt
import re
import uuid
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest

from jasa.calendars import services
from jasa.calendars.models import BookingEvent, BusyInterval
from jasa.core import clock
from jasa.core.errors import ValidationError
from jasa.core.models import ScheduledJob

UTC = dt.UTC


@pytest.fixture
def google(fake_http, settings):
    settings.GOOGLE_CLIENT_ID = "client-123.apps.googleusercontent.com"
    settings.GOOGLE_CLIENT_SECRET = "shh"
    settings.JASA_GOOGLE_API_ROOT = fake_http.url + "/"
    settings.JASA_GOOGLE_TOKEN_URI = fake_http.url + "/token"
    settings.JASA_GOOGLE_AUTH_URI = fake_http.url + "/o/oauth2/v2/auth"
    settings.JASA_GOOGLE_REVOKE_URI = fake_http.url + "/revoke"
    state = {"events": {}, "busy": [], "fail_freebusy": None}

    @fake_http.route("POST", "/token")
    def _token(req):
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if form.get("client_secret") != "shh":
            return 401, {}, {"error": "invalid_client"}
        if form["grant_type"] == "authorization_code":
            if form["code"] != "good-code":
                return 400, {}, {"error": "invalid_grant", "error_description": "Bad Request"}
            return 200, {}, {"access_token": "ya29.first", "expires_in": 3599, "refresh_token": "1//refresh",
                             "scope": "https://www.googleapis.com/auth/calendar.events", "token_type": "Bearer"}
        assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "1//refresh"
        return 200, {}, {"access_token": "ya29.fresh", "expires_in": 3599, "token_type": "Bearer"}

    @fake_http.route("POST", "/revoke")
    def _revoke(req):
        state["revoked"] = parse_qs(req.body.decode())["token"][0]
        return 200, {}, b""

    @fake_http.route("GET", "/calendar/v3/users/me/calendarList")
    def _list(req):
        return 200, {}, {"kind": "calendar#calendarList", "items": [
            {"kind": "calendar#calendarListEntry", "id": "primary@example.com", "summary": "Dimas", "primary": True},
            {"kind": "calendar#calendarListEntry", "id": "team@group.calendar.google.com", "summary": "Team"},
        ]}

    @fake_http.route("POST", "/calendar/v3/freeBusy")
    def _freebusy(req):
        assert req.headers.get("authorization") == "Bearer ya29.fresh" or req.headers.get(
            "Authorization") == "Bearer ya29.fresh"
        if state["fail_freebusy"]:
            return state["fail_freebusy"], {}, {"error": {"code": state["fail_freebusy"], "message": "nope"}}
        body = req.json()
        t0, t1 = (dt.datetime.fromisoformat(body[k].replace("Z", "+00:00")) for k in ("timeMin", "timeMax"))
        calendars = {}
        for item in body["items"]:
            if item["id"] == "missing@example.com":
                calendars[item["id"]] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            busy = [b for b in state["busy"] if t0 <= b[0] < t1]
            calendars[item["id"]] = {"busy": [{"start": s.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                               "end": e.strftime("%Y-%m-%dT%H:%M:%SZ")} for s, e in busy]}
        return 200, {}, {"kind": "calendar#freeBusy", "timeMin": body["timeMin"], "timeMax": body["timeMax"],
                         "calendars": calendars}

    @fake_http.route("POST", "/calendar/v3/calendars/")
    def _insert(req):
        path = urlparse(req.path)
        cal = path.path.split("/")[4]
        body = req.json()
        eid = uuid.uuid4().hex
        event = {"kind": "calendar#event", "id": eid, "status": "confirmed", "htmlLink": f"https://g/{eid}",
                 **body}
        query = parse_qs(path.query)
        if body.get("conferenceData", {}).get("createRequest") and query.get("conferenceDataVersion") == ["1"]:
            event["hangoutLink"] = "https://meet.google.com/abc-defg-hij"
            event["conferenceData"] = {
                "createRequest": {**body["conferenceData"]["createRequest"], "status": {"statusCode": "success"}},
                "entryPoints": [{"entryPointType": "video", "uri": "https://meet.google.com/abc-defg-hij"}],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "conferenceId": "abc-defg-hij",
            }
        state["events"][(cal, eid)] = event
        return 200, {}, event

    @fake_http.route("PATCH", "/calendar/v3/calendars/")
    def _patch(req):
        parts = urlparse(req.path).path.split("/")
        key = (parts[4], parts[6])
        if key not in state["events"]:
            return 404, {}, {"error": {"code": 404, "message": "Not Found"}}
        state["events"][key].update(req.json())
        return 200, {}, state["events"][key]

    @fake_http.route("DELETE", "/calendar/v3/calendars/")
    def _delete(req):
        parts = urlparse(req.path).path.split("/")
        if state["events"].pop((parts[4], parts[6]), None) is None:
            return 410, {}, {"error": {"code": 410, "message": "Resource has been deleted"}}
        return 204, {}, b""

    return SimpleNamespace(fake=fake_http, state=state)


@pytest.fixture
def staff(workspace, member_factory):
    return member_factory(workspace)


def _connect(staff, google):
    url = services.google_connect_url(staff, "http://testserver/cb")
    query = parse_qs(urlparse(url).query)
    assert url.startswith(google.fake.url + "/o/oauth2/v2/auth?")
    assert query["access_type"] == ["offline"] and "calendar.events" in query["scope"][0]
    return services.google_connect_finish(staff.user, code="good-code", state=query["state"][0],
                                          redirect_uri="http://testserver/cb")


def test_oauth_connect_stores_refresh_token_encrypted(db, staff, google, member_factory):
    conn = _connect(staff, google)
    assert conn.credentials["refresh_token"] == "1//refresh"
    assert "1//refresh" not in conn.credentials_encrypted
    token_call = [r for r in google.fake.requests if r.path == "/token"][0]
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Fcb" in token_call.body.decode()
    # a state made for one staff member does not work for another, nor a bad code
    url = services.google_connect_url(staff, "http://testserver/cb")
    state = parse_qs(urlparse(url).query)["state"][0]
    with pytest.raises(ValidationError):
        services.google_connect_finish(member_factory(staff.workspace).user, code="good-code", state=state,
                                       redirect_uri="x")
    with pytest.raises(ValidationError, match="did not grant"):
        services.google_connect_finish(staff.user, code="bad", state=state, redirect_uri="x")
    with pytest.raises(ValidationError):
        services.google_connect_finish(staff.user, code="good-code", state=state + "x", redirect_uri="x")


def test_calendar_list_and_freebusy_sync(db, staff, google):
    clock.freeze(dt.datetime(2026, 12, 1, tzinfo=UTC))
    conn = _connect(staff, google)
    assert dict(services.connection_calendars(conn))["team@group.calendar.google.com"] == "Team"
    services.connection_update(conn, selected_calendars=["primary", "team@group.calendar.google.com"])
    google.state["busy"] = [(dt.datetime(2026, 12, 3, 2, tzinfo=UTC), dt.datetime(2026, 12, 3, 3, tzinfo=UTC)),
                            (dt.datetime(2027, 1, 20, 2, tzinfo=UTC), dt.datetime(2027, 1, 20, 4, tzinfo=UTC))]
    services.connection_sync(conn.pk)
    conn.refresh_from_db()
    assert conn.last_error == ""
    rows = BusyInterval.objects.filter(connection=conn)
    assert rows.count() == 4  # two calendars x two busy blocks
    queries = [r.json() for r in google.fake.requests if r.path.startswith("/calendar/v3/freeBusy")]
    assert len(queries) == 2  # the 63-day window is asked in two chunks
    assert [i["id"] for i in queries[0]["items"]] == ["primary", "team@group.calendar.google.com"]

    google.state["fail_freebusy"] = 403
    services.connection_sync(conn.pk)
    conn.refresh_from_db()
    assert "refused access" in conn.last_error and rows.count() == 4
    google.state["fail_freebusy"] = None
    services.connection_update(conn, selected_calendars=["missing@example.com"])
    services.connection_sync(conn.pk)
    conn.refresh_from_db()
    assert "notFound" in conn.last_error and rows.count() == 4


def _booking(staff, start, meet=True, pk=None):
    offer = SimpleNamespace(name=lambda lang="id": "Konsultasi 60 menit", location_detail="", create_meet_link=meet)
    return SimpleNamespace(pk=pk or uuid.uuid4(), staff=staff, staff_id=staff.pk, workspace=staff.workspace,
                           offer=offer, client=SimpleNamespace(name="Budi", email="b@example.test", phone=""),
                           start_at=start, end_at=start + dt.timedelta(hours=1), reschedule_count=0)


def test_event_insert_with_meet_patch_on_reschedule_delete_on_cancel(db, staff, google):
    _connect(staff, google)
    start = dt.datetime(2026, 12, 3, 2, tzinfo=UTC)
    booking = _booking(staff, start)
    event = services.booking_event_upsert(booking)
    assert event.meet_url == "https://meet.google.com/abc-defg-hij"
    assert services.booking_meet_url(booking) == event.meet_url
    insert = [r for r in google.fake.requests if r.method == "POST" and "/events" in r.path][0]
    assert "conferenceDataVersion=1" in insert.path
    body = insert.json()
    assert body["conferenceData"]["createRequest"]["conferenceSolutionKey"] == {"type": "hangoutsMeet"}
    assert body["start"] == {"dateTime": "2026-12-03T02:00:00Z"}
    assert body["extendedProperties"]["private"]["jasa_booking"] == str(booking.pk)

    moved = _booking(staff, start + dt.timedelta(days=1), pk=booking.pk)
    again = services.booking_event_upsert(moved)
    assert again.external_id == event.external_id and again.meet_url == event.meet_url
    patch = [r for r in google.fake.requests if r.method == "PATCH"][0]
    assert re.search(rf"/events/{event.external_id}", patch.path)
    assert patch.json()["start"] == {"dateTime": "2026-12-04T02:00:00Z"}
    assert google.state["events"][("primary", event.external_id)]["start"]["dateTime"] == "2026-12-04T02:00:00Z"

    assert services.booking_event_delete(moved) == 1
    assert google.state["events"] == {} and not BookingEvent.objects.exists()
    # reschedule and cancel each asked for a fresh free/busy sync
    assert ScheduledJob.objects.filter(kind=services.SYNC_JOB, key__contains=":sync:now:").count() >= 2


def test_event_without_meet_and_gone_event_on_delete(db, staff, google):
    _connect(staff, google)
    booking = _booking(staff, dt.datetime(2026, 12, 3, 2, tzinfo=UTC), meet=False)
    event = services.booking_event_upsert(booking)
    assert event.meet_url == ""
    insert = [r for r in google.fake.requests if r.method == "POST" and "/events" in r.path][0]
    assert "conferenceData" not in insert.json()
    google.state["events"].clear()  # deleted in Google by hand
    assert services.booking_event_delete(booking) == 1


def test_google_disabled_without_client_settings(db, staff, settings):
    settings.GOOGLE_CLIENT_ID = None
    with pytest.raises(ValidationError, match="not set up"):
        services.google_connect_url(staff, "http://testserver/cb")


def test_disconnect_revokes_the_grant(db, staff, google):
    conn = _connect(staff, google)
    services.connection_delete(conn)
    assert google.state["revoked"] == "1//refresh"
