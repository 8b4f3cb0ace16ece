"""Reminders: 24 h and 1 h before by default, per offer; never twice; never after cancel; in the client's
language and zone; moved on reschedule."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.bookings.services import booking_cancel, booking_reschedule, booking_send_reminder
from jasa.core import clock
from jasa.notifications.models import OutboxMessage
from tests.bookings.conftest import FRI_9

pytestmark = pytest.mark.django_db


def _reminders(booking):
    return OutboxMessage.objects.filter(template="bookings.reminder", dedupe_key__contains=str(booking.pk))


def _go(to):
    clock.advance(to - clock.now())


def test_reminders_are_sent_once_each(hold, pay, run_due):
    booking = pay(hold(start=FRI_9))
    _go(FRI_9 - dt.timedelta(hours=24))
    run_due()
    assert set(_reminders(booking).values_list("channel", flat=True)) == {"email", "whatsapp"}
    run_due()
    assert _reminders(booking).count() == 2
    # a duplicate run of the same reminder (a redelivered queue message) sends nothing more
    key = _reminders(booking).first().dedupe_key.split(":")
    booking_send_reminder(booking_id=str(booking.pk), offset=1440, start=key[4], channels=["email", "whatsapp"])
    assert _reminders(booking).count() == 2
    _go(FRI_9 - dt.timedelta(minutes=60))
    run_due()
    assert _reminders(booking).count() == 4
    _go(FRI_9 + dt.timedelta(hours=2))
    run_due()
    assert _reminders(booking).count() == 4


def test_no_reminder_for_a_cancelled_booking(hold, pay, run_due):
    booking = pay(hold(start=FRI_9))
    booking_cancel(booking=booking, by="client")
    _go(FRI_9 - dt.timedelta(minutes=30))
    run_due()
    assert not _reminders(booking).exists()


def test_rescheduled_booking_is_reminded_for_the_new_time_only(hold, pay, run_due):
    booking = pay(hold(start=FRI_9))
    new_start = FRI_9 + dt.timedelta(days=3)  # Monday
    booking_reschedule(booking=booking, start=new_start, by="client")
    _go(FRI_9 - dt.timedelta(minutes=30))
    run_due()
    assert not _reminders(booking).exists()
    _go(new_start - dt.timedelta(minutes=59))
    run_due()
    assert _reminders(booking).count() == 4  # both offsets for the new time (the 24 h one is late but due)


def test_reminder_in_client_language_and_zone(hold, pay, run_due, offer_factory):
    offer = offer_factory(name_id="Konsultasi", name_en="Consultation", reminder_offsets_minutes=[120],
                          reminder_channels=["email"])
    booking = pay(hold(offer=offer, start=FRI_9, language="en", time_zone="Europe/London"))
    _go(FRI_9 - dt.timedelta(hours=2))
    run_due()
    [message] = _reminders(booking)
    assert message.channel == "email" and message.language == "en"
    assert message.context["offer_name"] == "Consultation"
    assert "02:00" in message.context["start"] and "Europe/London" in message.context["start"]
    assert "Friday" in message.context["start"]
