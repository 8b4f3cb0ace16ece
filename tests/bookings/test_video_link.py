"""The Google Meet link of a confirmed booking reaches the client: stored on the booking when the calendar job
writes the event (after the confirmation went out), then shown in reminders, on the booking page and in a
moved booking's message. Google is the local fake of tests/calendars."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.bookings.links import manage_path
from jasa.bookings.services import booking_remember_video_link, booking_reschedule
from jasa.core import clock
from jasa.core.models import AuditEntry
from jasa.notifications.models import OutboxMessage
from jasa.notifications.rendering import render
from tests.bookings.conftest import FRI_9
from tests.calendars.conftest import fake_http  # noqa: F401  (the local HTTP fake under the Google fixture)
from tests.calendars.test_google import _connect, google  # noqa: F401

pytestmark = pytest.mark.django_db

MEET = "https://meet.google.com/abc-defg-hij"


@pytest.fixture
def meet_offer(offer_factory):
    return offer_factory(name_id="Konsultasi video", name_en="Video consultation", create_meet_link=True)


@pytest.fixture
def connected(staff, google):  # noqa: F811
    return _connect(staff, google)


def _message(booking, template: str, channel: str) -> OutboxMessage:
    return OutboxMessage.objects.filter(template=template, channel=channel,
                                        dedupe_key__contains=str(booking.pk)).latest("created_at")


def _confirmed(hold, pay, offer, language):
    return pay(hold(start=FRI_9, offer=offer, language=language))


@pytest.mark.parametrize("language, pending, label", [
    ("en", "The video link will be on your booking page and in your reminder.", "Video link"),
    ("id", "Tautan video akan ada di halaman pemesanan Anda dan di pengingat.", "Tautan video"),
])
def test_link_made_after_confirmation_reaches_reminder_and_page(hold, pay, run_due, meet_offer, connected, client,
                                                               language, pending, label):
    booking = _confirmed(hold, pay, meet_offer, language)
    # The confirmation is written in the confirming transaction; the calendar event is a job after it.
    assert booking.status == "confirmed" and booking.conference_url == ""
    confirmation = render(_message(booking, "bookings.confirmed", "email"))
    assert pending in confirmation.text and pending in confirmation.html and MEET not in confirmation.text
    page = client.get(manage_path(booking)).content.decode()
    assert 'class="video-pending"' in page and MEET not in page

    run_due()  # the calendar job: Google makes the event with a Meet link
    booking.refresh_from_db()
    assert booking.conference_url == MEET
    assert AuditEntry.objects.filter(action="booking.video_link", object_id=str(booking.pk)).count() == 1
    page = client.get(manage_path(booking)).content.decode()
    assert f'href="{MEET}"' in page and 'class="video-pending"' not in page
    staff_page = client.get(f"/dashboard/{booking.workspace.slug}/bookings/{booking.pk}/")
    assert staff_page.status_code == 302  # not logged in: the staff page is not the client's

    clock.advance(FRI_9 - dt.timedelta(minutes=60) - clock.now())
    run_due()
    reminder = render(_message(booking, "bookings.reminder", "email"))
    assert f"{label}: {MEET}" in reminder.text and MEET in reminder.html and pending not in reminder.text
    whatsapp = render(_message(booking, "bookings.reminder", "whatsapp"))
    assert whatsapp.whatsapp_params[3] == MEET and len(whatsapp.whatsapp_params) == 5


def test_confirmation_shows_a_link_already_known(hold, pay, meet_offer, run_due, connected):
    """A booking confirmed again by a late deposit, or any message built after the event: the link is in it."""
    booking = _confirmed(hold, pay, meet_offer, "en")
    run_due()
    booking.refresh_from_db()
    OutboxMessage.objects.filter(template="bookings.confirmed").delete()
    from jasa.bookings import messages

    messages.booking_confirmed(booking)
    email = render(_message(booking, "bookings.confirmed", "email"))
    assert f"Video link: {MEET}" in email.text and "will be on your booking page" not in email.text
    whatsapp = render(_message(booking, "bookings.confirmed", "whatsapp"))
    assert whatsapp.whatsapp_params == [booking.client.name, "Video consultation",
                                        whatsapp.whatsapp_params[2], MEET, whatsapp.whatsapp_params[4]]


def test_moved_booking_keeps_its_link_and_says_so(hold, pay, meet_offer, run_due, connected, google,  # noqa: F811
                                                  client, workspace):
    booking = _confirmed(hold, pay, meet_offer, "en")
    run_due()
    booking.refresh_from_db()
    client.force_login(workspace.memberships.get(role="owner").user)
    detail = client.get(f"/dashboard/{workspace.slug}/bookings/{booking.pk}/").content.decode()
    assert f'href="{MEET}"' in detail  # staff see the link on the booking too
    booking = booking_reschedule(booking=booking, start=FRI_9 + dt.timedelta(days=3), by="client")
    run_due()  # the event is moved (PATCH); Google keeps the Meet link
    booking.refresh_from_db()
    assert booking.conference_url == MEET
    assert [r for r in google.fake.requests if r.method == "PATCH"]
    moved = render(_message(booking, "bookings.rescheduled", "email"))
    assert f"Video link: {MEET}" in moved.text


def test_without_meet_nothing_is_promised_and_an_empty_link_never_clears(hold, pay, offer, run_due, connected,
                                                                         client):
    booking = _confirmed(hold, pay, offer, "en")  # the default offer asks for no Meet link
    run_due()
    booking.refresh_from_db()
    assert booking.conference_url == ""
    email = render(_message(booking, "bookings.confirmed", "email"))
    assert "Video link" not in email.text and "video link will" not in email.text
    whatsapp = render(_message(booking, "bookings.confirmed", "whatsapp"))
    assert len(whatsapp.whatsapp_params) == 5  # the location stands in: the approved template's count holds
    page = client.get(manage_path(booking)).content.decode()
    assert "video-link" not in page and "video-pending" not in page

    assert booking_remember_video_link(booking=booking, url=MEET) is True
    assert booking_remember_video_link(booking=booking, url=MEET) is False
    assert booking_remember_video_link(booking=booking, url="") is False
    booking.refresh_from_db()
    assert booking.conference_url == MEET


def test_no_promise_when_no_google_calendar_will_make_the_link(hold, pay, meet_offer, run_due, client):
    """The offer asks for Meet but its staff member has no Google calendar jasa writes to: no link is coming."""
    booking = _confirmed(hold, pay, meet_offer, "en")
    run_due()
    booking.refresh_from_db()
    assert booking.conference_url == ""
    email = render(_message(booking, "bookings.confirmed", "email"))
    assert "video link will" not in email.text and "Video link" not in email.text
    page = client.get(manage_path(booking)).content.decode()
    assert "video-pending" not in page and "video-link" not in page


def test_the_api_shows_the_link_to_the_client_with_its_token_only(hold, pay, run_due, meet_offer, connected,
                                                                 client):
    from jasa.bookings.links import manage_signature

    booking = _confirmed(hold, pay, meet_offer, "en")
    run_due()  # the calendar job stores the Meet link
    path = f"/api/v1/bookings/{booking.pk}"
    assert client.get(path).json()["video_link"] == ""  # the id alone is not a credential
    with_token = client.get(path, headers={"X-Booking-Token": manage_signature(booking)})
    assert with_token.status_code == 200 and with_token.json()["video_link"] == MEET
