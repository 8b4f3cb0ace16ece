"""The webhook pump: hands stored webhook events to the queue from outside the webhook request.

Why: a webhook request that also pushes a queue task makes two round trips to two servers, and
the push cost as much as storing the event (bench/webhooks.py). On PostgreSQL the insert that
stores an event also announces it (``pg_notify`` in the same statement, delivered on commit, so
only stored events are announced); one pump per deployment LISTENs and enqueues their re-read
(``webhook_process_batch_task``, a few events per task). The request then does one round trip: verify, insert, answer.
See docs/adr/0008-webhook-pump.md.

The stored row stays the truth, so nothing is lost when a notification is:
- the pump takes the events still ``received`` from the last ``CATCH_UP`` on every (re)connect;
- the web side pushes the task itself while no pump is connected (:func:`pump_alive`, checked at
  most every ``ALIVE_TTL`` seconds per process), and always on SQLite;
- reconciliation processes any event left ``received`` for over a minute.

Only one pump dispatches at a time (a PostgreSQL advisory lock); others wait as standbys, so
running ``jasa worker`` on several machines does not enqueue each event several times.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence

from django.db import connection, connections

from jasa.core import clock

log = logging.getLogger(__name__)

CHANNEL = "jasa_webhook_events"
APP_NAME = "jasa-webhook-pump"  # the pump's connection, as pg_stat_activity shows it
LOCK_KEY = 0x6A617361_7770  # "jasa" "wp": pg_advisory_lock key of the active pump
ALIVE_TTL = 5.0
CATCH_UP = dt.timedelta(minutes=15)
# Events per queue task, and how long the pump waits for a batch to fill: one push per batch keeps
# the pump cheap under load; small batches keep several consumers busy when status calls are slow.
BATCH = 25
GATHER_SECONDS = 0.05

_alive: dict[str, tuple[float, bool]] = {}


def pump_alive() -> bool:
    """True when a pump is connected to this database (PostgreSQL only), cached ``ALIVE_TTL`` s."""
    if connection.vendor != "postgresql":
        return False
    alias = connection.settings_dict["NAME"]
    hit = _alive.get(alias)
    now = time.monotonic()
    if hit is not None and now - hit[0] < ALIVE_TTL:
        return hit[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s)", [APP_NAME])
        alive = bool(cursor.fetchone()[0])
    _alive[alias] = (now, alive)
    return alive


def describe() -> str:
    """For /healthz: who hands stored webhook events to the queue right now."""
    if connection.vendor != "postgresql":
        return "queued by each webhook request"
    if pump_alive():
        return "webhook pump connected"
    return "no webhook pump connected: each webhook request queues its re-read (start jasa worker)"


def forget_pump_state() -> None:
    _alive.clear()


def dispatch(event_ids: Sequence[int]) -> int:
    """Enqueue the re-read of the events, ``BATCH`` per task. A failed push is logged: the rows stay
    ``received`` and reconciliation processes them."""
    from jasa.payments.tasks import webhook_process_batch_task

    sent = 0
    for start in range(0, len(event_ids), BATCH):
        batch = list(event_ids[start:start + BATCH])
        try:
            webhook_process_batch_task(batch)
            sent += len(batch)
        except Exception:  # noqa: BLE001 - the stored row is the truth
            log.exception("webhook pump: could not enqueue events %s; reconciliation will process them", batch)
    return sent


def _received_since(raw, since: dt.datetime) -> list[int]:
    rows = raw.execute(
        "SELECT id FROM payments_webhookevent WHERE state = 'received' AND received_at >= %s "
        "ORDER BY id LIMIT 10000", [since]).fetchall()
    return [row[0] for row in rows]


def _open_connection():
    """A dedicated autocommit connection (LISTEN needs a session, not a pooled transaction)."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    raw = wrapper.connection
    raw.autocommit = True
    raw.execute(f"SET application_name = '{APP_NAME}-standby'")
    return wrapper, raw


def run_pump(stop: threading.Event, *, on_active: Callable[[], None] | None = None,
             poll_seconds: float = 1.0, retry_seconds: float = 5.0) -> None:
    """Block until ``stop`` is set: take the pump lock, LISTEN, enqueue what is announced.

    Survives database restarts (reconnects, then catches up). ``on_active`` is called each time
    this process becomes the active pump (tests wait on it).
    """
    if connections["default"].vendor != "postgresql":
        raise RuntimeError("the webhook pump needs PostgreSQL; on other databases the web process enqueues")
    while not stop.is_set():
        wrapper = None
        try:
            wrapper, raw = _open_connection()
            while not stop.is_set() and not raw.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
                stop.wait(retry_seconds)  # another pump is active: stand by
            if stop.is_set():
                return
            raw.execute(f"LISTEN {CHANNEL}")
            raw.execute(f"SET application_name = '{APP_NAME}'")
            caught_up = dispatch(_received_since(raw, clock.now() - CATCH_UP))
            log.info("webhook pump active (caught up %s stored events)", caught_up)
            if on_active is not None:
                on_active()
            while not stop.is_set():
                first = list(raw.notifies(timeout=poll_seconds, stop_after=1))
                if first:
                    more = list(raw.notifies(timeout=GATHER_SECONDS, stop_after=BATCH - 1))
                    dispatch([int(n.payload) for n in first + more])
        except Exception as exc:  # noqa: BLE001 - the database went away: wait, reconnect, catch up
            log.warning("webhook pump: %s; reconnecting in %s s", exc, retry_seconds)
            stop.wait(retry_seconds)
        finally:
            if wrapper is not None:
                try:
                    wrapper.close()
                except Exception:  # noqa: BLE001
                    pass
            connections.close_all()  # this thread's own connection (dispatch may have used it)


def start_pump_thread(**kwargs) -> threading.Event:
    """Run the pump in a daemon thread of this process (``jasa worker``). Set the event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run_pump, args=(stop,), kwargs=kwargs, daemon=True, name=APP_NAME).start()
    return stop
