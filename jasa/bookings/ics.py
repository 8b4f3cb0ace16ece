"""RFC 5545 calendar files and "add to calendar" links for a booking."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import icalendar

from jasa.bookings.links import manage_url


def _summary(booking, language: str) -> str:
    return f"{booking.offer.name(language)} · {booking.workspace.name}"


def _location(booking) -> str:
    return booking.offer.location_detail or booking.offer.get_location_kind_display()


def booking_ics(booking, language: str | None = None, *, method: str = "PUBLISH") -> bytes:
    """One VEVENT with a stable UID (so calendars update it on reschedule) and SEQUENCE = reschedules."""
    language = language or booking.client_language
    cal = icalendar.Calendar()
    cal.add("prodid", "-//jasa//bookings//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if booking.status == "cancelled" else method)
    event = icalendar.Event()
    event.add("uid", f"booking-{booking.pk}@jasa")
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    event.add("dtstart", booking.start_at.astimezone(dt.UTC))
    event.add("dtend", booking.end_at.astimezone(dt.UTC))
    event.add("sequence", booking.reschedule_count + (1 if booking.status == "cancelled" else 0))
    event.add("summary", _summary(booking, language))
    event.add("description", f"{booking.offer.description(language)}\n\n{manage_url(booking)}".strip())
    event.add("location", _location(booking))
    event.add("status", "CANCELLED" if booking.status == "cancelled" else "CONFIRMED")
    event.add("url", manage_url(booking))
    organizer = icalendar.vCalAddress(f"mailto:{booking.workspace.email or booking.staff.user.email}")
    organizer.params["cn"] = icalendar.vText(booking.workspace.name)
    event.add("organizer", organizer)
    cal.add_component(event)
    return cal.to_ical()


def _utc_stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def google_calendar_url(booking, language: str = "id") -> str:
    query = urlencode({
        "action": "TEMPLATE",
        "text": _summary(booking, language),
        "dates": f"{_utc_stamp(booking.start_at)}/{_utc_stamp(booking.end_at)}",
        "details": manage_url(booking),
        "location": _location(booking),
    })
    return f"https://calendar.google.com/calendar/render?{query}"


def outlook_calendar_url(booking, language: str = "id") -> str:
    query = urlencode({
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": _summary(booking, language),
        "startdt": booking.start_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "enddt": booking.end_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "body": manage_url(booking),
        "location": _location(booking),
    })
    return f"https://outlook.live.com/calendar/0/deeplink/compose?{query}"
