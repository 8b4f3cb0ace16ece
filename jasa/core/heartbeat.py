"""Workers write a heartbeat to the shared cache; /healthz reads it."""

from __future__ import annotations

from django.core.cache import cache

from jasa.core import clock

KEY = "jasa:worker:heartbeat"
MAX_AGE_SECONDS = 120


def beat() -> None:
    cache.set(KEY, clock.now().timestamp(), 24 * 3600)


def worker_age_seconds() -> float | None:
    value = cache.get(KEY)
    if value is None:
        return None
    return max(0.0, clock.now().timestamp() - float(value))
