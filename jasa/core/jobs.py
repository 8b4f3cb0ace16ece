"""Future obligations as database rows, and the sweep that turns due rows into queue work.

Usage in a domain app::

    from jasa.core import jobs

    @jobs.handler("booking.reminder")
    def _send_reminder(job):            # must be idempotent: it may run again after a crash
        booking_remind(job.payload["booking"], job.payload["offset"])

    jobs.schedule("booking.reminder", key=f"booking:{b.id}:reminder:24h", due_at=..., payload={...})

Handlers run inside the transaction that marks the job done (on SQLite that holds the
write lock), so they do database work only; slow outside calls go through
``notifications.notify`` (sent after commit) or a queue task of their own.

``schedule`` is idempotent by ``key``. The sweep claims due rows under
``select_for_update(skip_locked=True)`` (PostgreSQL) so two sweepers never claim the same
row, and :func:`run` re-checks the row under a lock so a duplicate queue message does
nothing. A claimed row whose task was lost is claimed again after ``LEASE``.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from jasa.core import clock
from jasa.core.models import ScheduledJob

log = logging.getLogger(__name__)

Handler = Callable[[ScheduledJob], Any]
_handlers: dict[str, Handler] = {}

LEASE = dt.timedelta(minutes=5)
BATCH = 500


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that does jobs of ``kind``. One handler per kind."""

    def register(fn: Handler) -> Handler:
        existing = _handlers.get(kind)
        if existing is not None and _name(existing) != _name(fn):
            raise ValueError(f"job kind {kind!r} already has the handler {_name(existing)}")
        _handlers[kind] = fn
        return fn

    return register


def _name(fn: Handler) -> str:
    return f"{fn.__module__}.{getattr(fn, '__qualname__', fn)}"


def schedule(
    kind: str,
    *,
    key: str,
    due_at: dt.datetime,
    payload: dict[str, Any] | None = None,
    workspace: Any = None,
    max_attempts: int = 8,
    reschedule: bool = False,
) -> ScheduledJob:
    """Create the obligation once. With ``reschedule`` a pending row moves to the new ``due_at``."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be aware")
    job, created = ScheduledJob.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "due_at": due_at,
            "payload": payload or {},
            "workspace": workspace,
            "max_attempts": max_attempts,
        },
    )
    if not created and reschedule and job.status in (ScheduledJob.PENDING, ScheduledJob.CANCELED):
        ScheduledJob.objects.filter(pk=job.pk).update(
            due_at=due_at, payload=payload or job.payload, status=ScheduledJob.PENDING, attempts=0
        )
        job.refresh_from_db()
    return job


_CANCELABLE = (ScheduledJob.PENDING, ScheduledJob.CLAIMED)


def cancel(key: str) -> bool:
    """Cancel an obligation that has not run (a reminder for a cancelled booking). True if one was open.

    A claimed job whose task is still in the queue is cancelled too: :func:`run` only does
    claimed jobs, so the queued task finds it cancelled and does nothing.
    """
    return bool(ScheduledJob.objects.filter(key=key, status__in=_CANCELABLE).update(status=ScheduledJob.CANCELED))


def cancel_prefix(prefix: str) -> int:
    return ScheduledJob.objects.filter(key__startswith=prefix, status__in=_CANCELABLE).update(
        status=ScheduledJob.CANCELED
    )


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after ``attempts`` failures: 1, 2, 4 ... minutes, at most an hour."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def claim_due(limit: int = BATCH) -> list[int]:
    """Claim due rows (and rows whose lease ran out) and return their ids. Each row is claimed once."""
    now = clock.now()
    with transaction.atomic():
        qs = ScheduledJob.objects.filter(status=ScheduledJob.PENDING, due_at__lte=now) | ScheduledJob.objects.filter(
            status=ScheduledJob.CLAIMED, claimed_at__lt=now - LEASE
        )
        qs = qs.order_by("due_at")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("id", flat=True)[:limit])
        if ids:
            ScheduledJob.objects.filter(id__in=ids).update(status=ScheduledJob.CLAIMED, claimed_at=now)
    return ids


def run(job_id: int) -> str:
    """Do one claimed job exactly once. Returns the job's status afterwards.

    The row stays locked while the handler runs, so the handler's writes and the DONE mark
    commit together: a crash leaves the job claimed (swept again after LEASE) and a duplicate
    queue message waits for the lock, then finds the job done.
    """
    with transaction.atomic():
        qs = ScheduledJob.objects.filter(pk=job_id)
        if connection.features.has_select_for_update:
            qs = qs.select_for_update()
        job = qs.first()
        if job is None or job.status != ScheduledJob.CLAIMED:
            return job.status if job else "missing"
        fn = _handlers.get(job.kind)
        job.attempts += 1
        try:
            if fn is None:
                raise LookupError(f"no handler registered for job kind {job.kind!r}")
            with transaction.atomic():  # a failing handler rolls back only its own writes
                fn(job)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            job.last_error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            log.warning("job %s (%s) failed: %s", job.key, job.kind, job.last_error)
            if job.attempts >= job.max_attempts:
                job.status = ScheduledJob.FAILED
                log.error("job %s (%s) FAILED after %s attempts: %s", job.key, job.kind, job.attempts, job.last_error)
            else:
                job.status = ScheduledJob.PENDING
                job.due_at = clock.now() + backoff(job.attempts)
            job.save(update_fields=["attempts", "status", "due_at", "last_error"])
            return job.status
        job.status = ScheduledJob.DONE
        job.done_at = clock.now()
        job.last_error = ""
        job.save(update_fields=["attempts", "status", "done_at", "last_error"])
        return job.status


def sweep(enqueue: Callable[[int], Any] | None = None, limit: int = BATCH) -> int:
    """Claim due rows and hand each to ``enqueue`` (the queue task by default). Returns how many."""
    ids = claim_due(limit)
    if enqueue is None:
        from jasa.core.tasks import run_job

        enqueue = run_job
    for job_id in ids:
        try:
            enqueue(job_id)
        except Exception:  # noqa: BLE001 - queue down: the row stays claimed and is swept again after LEASE
            log.exception("could not enqueue job %s; it runs after the lease of %s", job_id, LEASE)
    return len(ids)
