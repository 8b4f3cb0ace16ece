"""Calendar adapters by connection kind."""

from __future__ import annotations

from jasa.calendars.adapters.base import Adapter, CalendarError, FetchResult, WrittenEvent

__all__ = ["Adapter", "CalendarError", "FetchResult", "WrittenEvent", "adapter_for"]


def adapter_for(kind: str) -> Adapter:
    # Imported on use: each adapter pulls in its own client library.
    if kind == "google":
        from jasa.calendars.adapters.gcal import GoogleAdapter

        return GoogleAdapter()
    if kind == "caldav":
        from jasa.calendars.adapters.dav import CalDavAdapter

        return CalDavAdapter()
    if kind == "ics":
        from jasa.calendars.adapters.ics import IcsAdapter

        return IcsAdapter()
    raise ValueError(f"unknown calendar kind {kind!r}")
