"""Workers write a heartbeat to the shared cache; /healthz reads it.

Every ``jasa worker`` beats every ``INTERVAL`` seconds. The worker that runs the periodic
sweep also beats a second key, so /healthz can tell "workers are alive" apart from
"someone is sweeping due jobs" (a deployment whose workers all run ``--no-periodic``
would silently never send a reminder).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from django.core.cache import cache
from django.db import connections

from jasa.core import clock

log = logging.getLogger(__name__)

KEY = "jasa:worker:heartbeat"
PERIODIC_KEY = "jasa:worker:heartbeat:periodic"
INTERVAL_SECONDS = 30
MAX_AGE_SECONDS = 120
_KEEP_SECONDS = 24 * 3600  # long enough that /healthz reports "N s old" rather than "none"


def beat(*, periodic: bool = False) -> None:
    value = {"at": clock.now().timestamp(), "host": socket.gethostname(), "pid": os.getpid()}
    cache.set(KEY, value, _KEEP_SECONDS)
    if periodic:
        cache.set(PERIODIC_KEY, value, _KEEP_SECONDS)


def _age(key: str) -> float | None:
    value: Any = cache.get(key)
    if value is None:
        return None
    at = value["at"] if isinstance(value, dict) else float(value)
    return max(0.0, clock.now().timestamp() - float(at))


def worker_age_seconds() -> float | None:
    """Seconds since any worker beat, or None if none ever did."""
    return _age(KEY)


def sweeper_age_seconds() -> float | None:
    """Seconds since the worker that runs the periodic sweep beat, or None."""
    return _age(PERIODIC_KEY)


def start(*, periodic: bool, interval: float = INTERVAL_SECONDS) -> threading.Event:
    """Beat now and then every ``interval`` seconds in a daemon thread. Set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                beat(periodic=periodic)
            except Exception as exc:  # noqa: BLE001 - a missed beat shows in /healthz; the worker goes on
                log.warning("worker heartbeat failed: %s", exc)
            finally:
                # this thread's own database connection (database cache): never keep a broken one
                connections.close_all()
            stop.wait(interval)

    threading.Thread(target=loop, daemon=True, name="jasa-heartbeat").start()
    return stop
