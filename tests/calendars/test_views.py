"""Calendar pages: connect, status and errors, sync now, disconnect, Google OAuth round trip, the ICS feed."""

import datetime as dt
import sys
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import icalendar
import pytest
from django.urls import reverse

from jasa.calendars import services
from jasa.calendars.models import CalendarConnection
from jasa.core import jobs
from jasa.core.models import ScheduledJob


@pytest.fixture
def staff(workspace, member_factory):
    return member_factory(workspace)


def page_url(ws, name="connections", *args):
    return reverse(f"calendars:{name}", args=[ws.slug, *args])


def test_add_ics_shows_status_error_sync_now_and_remove(client, workspace, staff, fake_http, frozen_clock):
    @fake_http.route("GET", "/broken.ics")
    def _broken(req):
        return 404, {}, b"gone"

    client.force_login(staff.user)
    page = client.get(page_url(workspace), HTTP_ACCEPT_LANGUAGE="id")
    assert page.status_code == 200 and "Hubungkan kalender" in page.content.decode()  # Bahasa Indonesia
    assert "Connect a calendar" in client.get(page_url(workspace), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    bad = client.post(page_url(workspace, "add_ics"), {"name": "X", "url": "not a url"})
    assert bad.status_code == 422
    r = client.post(page_url(workspace, "add_ics"), {"name": "Team", "url": f"{fake_http.url}/broken.ics"})
    assert r.status_code == 302
    conn = CalendarConnection.objects.get(membership=staff)
    jobs.sweep(enqueue=jobs.run)
    html = client.get(page_url(workspace)).content.decode()
    assert "HTTP 404" in html  # the error is shown to the staff member
    client.post(page_url(workspace, "sync", conn.pk))
    assert ScheduledJob.objects.filter(key__startswith=f"calendar:{conn.pk}:sync:now:").exists()
    client.post(page_url(workspace, "remove", conn.pk))
    assert not CalendarConnection.objects.exists()


def test_connections_are_private_to_their_staff_member(client, workspace, staff, member_factory):
    other = member_factory(workspace)
    conn = services.connection_create(membership=other, kind="ics", name="Private", url="https://x.example/a.ics")
    client.force_login(staff.user)
    assert "Private" not in client.get(page_url(workspace)).content.decode()
    assert client.get(page_url(workspace, "edit", conn.pk)).status_code == 404
    assert client.post(page_url(workspace, "remove", conn.pk)).status_code == 404
    assert CalendarConnection.objects.filter(pk=conn.pk).exists()


def test_edit_caldav_connection_lists_calendars(client, workspace, staff, radicale_server):
    import caldav

    dav = caldav.DAVClient(url=radicale_server.url, username=radicale_server.username,
                           password=radicale_server.password)
    cal = dav.principal().make_calendar(name="Kerja")
    client.force_login(staff.user)
    r = client.post(page_url(workspace, "add_caldav"), {
        "name": "Radicale", "url": radicale_server.url, "username": radicale_server.username,
        "password": radicale_server.password})
    conn = CalendarConnection.objects.get(membership=staff)
    assert r.status_code == 302 and r["Location"] == page_url(workspace, "edit", conn.pk)
    html = client.get(r["Location"]).content.decode()
    assert "Kerja" in html
    r = client.post(page_url(workspace, "edit", conn.pk), {
        "name": "Radicale", "selected_calendars": [str(cal.url)], "write_calendar": str(cal.url)})
    assert r.status_code == 302
    conn.refresh_from_db()
    assert conn.selected_calendars == [str(cal.url)] and conn.is_writable


def test_google_round_trip_through_views(client, workspace, staff, fake_http, settings):
    settings.GOOGLE_CLIENT_ID, settings.GOOGLE_CLIENT_SECRET = "cid", "sec"
    settings.JASA_GOOGLE_TOKEN_URI = fake_http.url + "/token"

    @fake_http.route("POST", "/token")
    def _token(req):
        return 200, {}, {"access_token": "a", "refresh_token": "1//r", "expires_in": 3600, "token_type": "Bearer"}

    client.force_login(staff.user)
    start = client.get(page_url(workspace, "google_start"))
    assert start.status_code == 302 and start["Location"].startswith("https://accounts.google.com/")
    query = parse_qs(urlparse(start["Location"]).query)
    assert query["redirect_uri"] == ["http://testserver/calendars/google/callback/"]
    back = client.get(reverse("calendars:google_callback"), {"code": "c", "state": query["state"][0]})
    conn = CalendarConnection.objects.get(membership=staff, kind="google")
    assert back["Location"] == page_url(workspace, "edit", conn.pk)
    assert conn.credentials["refresh_token"] == "1//r" and conn.write_calendar == "primary"
    forged = client.get(reverse("calendars:google_callback"), {"code": "c", "state": "forged"})
    assert forged.status_code == 302 and CalendarConnection.objects.count() == 1


def test_outgoing_feed_at_secret_address(client, workspace, staff, monkeypatch):
    feed = services.feed_for(staff)
    url = reverse("calendars:feed", args=[feed.token])
    # Until the bookings selector lands, the feed is valid and empty.
    monkeypatch.setitem(sys.modules, "jasa.bookings.selectors", SimpleNamespace())
    empty = client.get(url)
    assert empty.status_code == 200 and empty["Content-Type"].startswith("text/calendar")
    assert icalendar.Calendar.from_ical(empty.content).walk("VEVENT") == []

    start = dt.datetime(2026, 12, 3, 2, tzinfo=dt.UTC)
    offer = SimpleNamespace(name=lambda lang="id": "Konsultasi", location_detail="")

    def bookings_for_feed(membership):
        assert membership == staff
        return [SimpleNamespace(pk=n, offer=offer, client=SimpleNamespace(name="Budi", email="", phone=""),
                                start_at=start, end_at=start + dt.timedelta(hours=1), reschedule_count=0,
                                status=status) for n, status in ((1, "confirmed"), (2, "cancelled"))]

    monkeypatch.setitem(sys.modules, "jasa.bookings.selectors", SimpleNamespace(bookings_for_feed=bookings_for_feed))
    events = icalendar.Calendar.from_ical(client.get(url).content).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == ["booking-1@jasa"]
    assert events[0]["DTSTART"].dt == start
    old = feed.token
    client.force_login(staff.user)
    client.post(page_url(workspace, "feed_rotate"))
    assert client.get(reverse("calendars:feed", args=[old])).status_code == 404
