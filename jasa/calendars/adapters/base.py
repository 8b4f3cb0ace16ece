"""What every calendar adapter does: read busy times, list calendars, write booking events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from jasa.calendars.ical import Busy


class CalendarError(Exception):
    """The calendar could not be read or written; the message is shown to the staff member."""


@dataclass
class FetchResult:
    busy: list[Busy] = field(default_factory=list)
    not_modified: bool = False  # the server said 304: keep the cached busy times
    etag: str = ""
    last_modified: str = ""


@dataclass
class WrittenEvent:
    external_id: str
    calendar: str = ""
    meet_url: str = ""


class Adapter(Protocol):
    def fetch_busy(self, connection, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> FetchResult: ...

    def list_calendars(self, connection) -> list[tuple[str, str]]: ...

    def upsert_event(self, connection, booking, existing) -> WrittenEvent: ...

    def delete_event(self, connection, existing) -> None: ...
