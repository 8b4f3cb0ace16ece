"""The one clock every business rule asks for "now".

Tests move it with :func:`frozen` or :func:`travel`; the sandbox-only demo time travel
(``JASA_TIME_TRAVEL``) stores an offset that every process reads, so a demo can jump to a
renewal date and the worker sees the same time as the web server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

UTC = dt.UTC

_state = threading.local()
_global: dict[str, object] = {"frozen": None, "offset": dt.timedelta(0)}


def _real_now() -> dt.datetime:
    return dt.datetime.now(UTC)


def now() -> dt.datetime:
    """Aware UTC now, as the rules see it."""
    frozen = _global["frozen"]
    if frozen is not None:
        assert isinstance(frozen, dt.datetime)
        return frozen
    offset = _global["offset"]
    assert isinstance(offset, dt.timedelta)
    return _real_now() + offset + _shared_offset()


def today(tz: dt.tzinfo) -> dt.date:
    return now().astimezone(tz).date()


def freeze(at: dt.datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("clock.freeze needs an aware datetime")
    _global["frozen"] = at.astimezone(UTC)


def unfreeze() -> None:
    _global["frozen"] = None
    _global["offset"] = dt.timedelta(0)


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move the clock forward (frozen or not) and return the new now."""
    frozen = _global["frozen"]
    if isinstance(frozen, dt.datetime):
        _global["frozen"] = frozen + delta
    else:
        offset = _global["offset"]
        assert isinstance(offset, dt.timedelta)
        _global["offset"] = offset + delta
    return now()


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    previous = (_global["frozen"], _global["offset"])
    freeze(at)
    try:
        yield
    finally:
        _global["frozen"], _global["offset"] = previous


def _shared_offset() -> dt.timedelta:
    """Demo time travel, shared by all processes through the cache. Zero unless enabled."""
    from django.conf import settings

    if not getattr(settings, "JASA_TIME_TRAVEL", False):
        return dt.timedelta(0)
    from django.core.cache import cache

    seconds = cache.get("jasa:clock:offset", 0)
    return dt.timedelta(seconds=int(seconds))


def set_shared_offset(delta: dt.timedelta) -> None:
    from django.conf import settings
    from django.core.cache import cache

    if not getattr(settings, "JASA_TIME_TRAVEL", False):
        raise RuntimeError("time travel is only for sandbox demos (JASA_TIME_TRAVEL=1)")
    cache.set("jasa:clock:offset", int(delta.total_seconds()), None)
