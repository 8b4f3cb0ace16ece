"""iCalendar in and out: busy times from ICS data (CalDAV and feeds), staff events for bookings.

Reading expands recurring events (RRULE, RDATE, EXDATE, overridden occurrences) with
recurring-ical-events, honours TZID, and reads all-day events as whole days in the staff
member's zone. Free (TRANSP:TRANSPARENT) and cancelled events are not busy time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

UTC = dt.UTC


@dataclass(frozen=True)
class Busy:
    start: dt.datetime
    end: dt.datetime
    uid: str = ""


def _aware(value, tz: ZoneInfo) -> dt.datetime:
    """DATE -> midnight in ``tz``; floating DATE-TIME -> in ``tz``; aware -> itself. Returned in UTC."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def busy_from_ical(data: bytes | str, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> list[Busy]:
    """Busy intervals overlapping [start, end) in one or more concatenated VCALENDARs."""
    out: list[Busy] = []
    calendars = icalendar.Calendar.from_ical(data, multiple=True)
    for cal in calendars:
        for event in recurring_ical_events.of(cal).between(start, end):
            if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
                continue
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            if "DTSTART" not in event:
                continue
            begin = event["DTSTART"].dt
            if "DTEND" in event:
                finish = event["DTEND"].dt
            elif "DURATION" in event:
                finish = begin + event["DURATION"].dt
            elif not isinstance(begin, dt.datetime):
                finish = begin + dt.timedelta(days=1)  # an all-day event without an end lasts the day
            else:
                finish = begin
            s, e = _aware(begin, tz), _aware(finish, tz)
            if e > s:
                out.append(Busy(s, e, str(event.get("UID", ""))))
    return out


def booking_uid(booking) -> str:
    return f"booking-{booking.pk}@jasa"


def booking_summary(booking) -> str:
    client = getattr(getattr(booking, "client", None), "name", "") or ""
    return f"{booking.offer.name('id')} · {client}".strip(" ·")


def booking_description(booking) -> str:
    client = getattr(booking, "client", None)
    lines = [booking_summary(booking)]
    if client is not None:
        lines += [getattr(client, "email", ""), getattr(client, "phone", "")]
    detail = getattr(booking.offer, "location_detail", "")
    if detail:
        lines.append(detail)
    return "\n".join(line for line in lines if line)


def booking_event(booking, *, stamp: dt.datetime) -> icalendar.Event:
    """The staff member's view of a booking: client and offer in the title, stable UID, SEQUENCE bumps."""
    event = icalendar.Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", booking.start_at.astimezone(UTC))
    event.add("dtend", booking.end_at.astimezone(UTC))
    event.add("sequence", int(getattr(booking, "reschedule_count", 0) or 0))
    event.add("summary", booking_summary(booking))
    event.add("description", booking_description(booking))
    location = getattr(booking.offer, "location_detail", "")
    if location:
        event.add("location", location)
    # A hold still waiting for its deposit is tentative in the staff member's calendar.
    event.add("status", "TENTATIVE" if getattr(booking, "status", "") == "awaiting_deposit" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def calendar_of(events: list[icalendar.Event], name: str = "") -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//jasa//calendars//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if name:
        cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(event)
    return cal.to_ical()
