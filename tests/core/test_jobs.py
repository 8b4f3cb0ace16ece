"""Scheduled jobs on any database: idempotent scheduling, cancel, retry with backoff, FAILED, lease."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.core import clock, jobs
from jasa.core.models import AuditEntry, ScheduledJob
from tests.core.jobhandlers import calls, runs_of

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


def _run_due() -> int:
    return jobs.sweep(enqueue=jobs.run)


def test_schedule_is_idempotent_by_key(frozen_clock):
    due = clock.now() + dt.timedelta(hours=1)
    first = jobs.schedule("test.record", key="r:1", due_at=due, payload={"n": 1})
    second = jobs.schedule("test.record", key="r:1", due_at=due + MINUTE, payload={"n": 2})
    assert first.pk == second.pk
    assert ScheduledJob.objects.filter(key="r:1").count() == 1
    assert second.due_at == due and second.payload == {"n": 1}

    moved = jobs.schedule("test.record", key="r:1", due_at=due + MINUTE, payload={"n": 3}, reschedule=True)
    assert moved.due_at == due + MINUTE and moved.payload == {"n": 3}


def test_schedule_refuses_naive_times():
    with pytest.raises(ValueError):
        jobs.schedule("test.record", key="naive", due_at=dt.datetime(2026, 12, 2, 10, 0))


def test_nothing_runs_before_it_is_due_and_then_once(frozen_clock):
    jobs.schedule("test.record", key="r:2", due_at=clock.now() + dt.timedelta(hours=24))
    assert _run_due() == 0
    clock.advance(dt.timedelta(hours=23, minutes=59))
    assert _run_due() == 0
    clock.advance(MINUTE)
    assert _run_due() == 1
    assert _run_due() == 0
    job = ScheduledJob.objects.get(key="r:2")
    assert job.status == ScheduledJob.DONE and job.attempts == 1 and job.done_at == clock.now()
    assert runs_of("r:2") == 1


def test_a_duplicate_queue_message_does_nothing(frozen_clock):
    job = jobs.schedule("test.record", key="r:3", due_at=clock.now())
    [job_id] = jobs.claim_due()
    assert jobs.run(job_id) == ScheduledJob.DONE
    assert jobs.run(job_id) == ScheduledJob.DONE
    assert runs_of(job.key) == 1


def test_cancel_before_due_and_after_claim(frozen_clock):
    jobs.schedule("test.record", key="c:1", due_at=clock.now() + MINUTE)
    jobs.schedule("test.record", key="c:2", due_at=clock.now())
    assert jobs.cancel("c:1") is True
    [claimed] = jobs.claim_due()  # c:2's task is in the queue ...
    assert jobs.cancel("c:2") is True  # ... when the booking is cancelled
    assert jobs.run(claimed) == ScheduledJob.CANCELED
    clock.advance(dt.timedelta(hours=1))
    assert _run_due() == 0
    assert runs_of("c:1") == runs_of("c:2") == 0
    assert jobs.cancel("c:1") is False  # already cancelled


def test_cancel_prefix(frozen_clock):
    for n in range(3):
        jobs.schedule("test.record", key=f"booking:9:reminder:{n}", due_at=clock.now() + MINUTE)
    jobs.schedule("test.record", key="booking:10:reminder:0", due_at=clock.now() + MINUTE)
    assert jobs.cancel_prefix("booking:9:") == 3
    clock.advance(MINUTE)
    assert _run_due() == 1


def test_failures_retry_with_backoff_then_succeed(frozen_clock):
    calls.clear()
    jobs.schedule("test.flaky", key="f:1", due_at=clock.now(), payload={"fail_times": 2})
    assert _run_due() == 1
    job = ScheduledJob.objects.get(key="f:1")
    assert (job.status, job.attempts) == (ScheduledJob.PENDING, 1)
    assert job.due_at == clock.now() + jobs.backoff(1) == clock.now() + MINUTE
    assert "flaky failure 1" in job.last_error
    # the failed attempt's own writes were rolled back
    assert not AuditEntry.objects.filter(object_id="f:1").exists()

    clock.advance(dt.timedelta(seconds=59))
    assert _run_due() == 0
    clock.advance(dt.timedelta(seconds=1))
    assert _run_due() == 1
    job.refresh_from_db()
    assert job.attempts == 2 and job.due_at == clock.now() + 2 * MINUTE

    clock.advance(2 * MINUTE)
    assert _run_due() == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.last_error) == (ScheduledJob.DONE, 3, "")
    assert AuditEntry.objects.filter(object_id="f:1").count() == 1


def test_failed_after_max_attempts(frozen_clock):
    calls.clear()
    jobs.schedule("test.flaky", key="f:2", due_at=clock.now(), payload={"fail_times": 99}, max_attempts=3)
    for _ in range(10):
        _run_due()
        clock.advance(dt.timedelta(hours=1))
    job = ScheduledJob.objects.get(key="f:2")
    assert (job.status, job.attempts) == (ScheduledJob.FAILED, 3)
    assert calls["f:2"] == 3


def test_backoff_grows_to_an_hour():
    assert [jobs.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 7, 8, 20)] == [1, 2, 4, 8, 60, 60, 60]


def test_a_claimed_job_whose_task_was_lost_runs_after_the_lease(frozen_clock):
    jobs.schedule("test.record", key="l:1", due_at=clock.now())
    assert len(jobs.claim_due()) == 1  # claimed, but the queue lost the task
    assert _run_due() == 0
    clock.advance(jobs.LEASE - MINUTE)
    assert _run_due() == 0
    clock.advance(2 * MINUTE)
    assert _run_due() == 1
    assert runs_of("l:1") == 1
    assert ScheduledJob.objects.get(key="l:1").status == ScheduledJob.DONE


def test_unknown_kind_is_an_error_that_is_retried(frozen_clock):
    jobs.schedule("test.nobody", key="u:1", due_at=clock.now())
    _run_due()
    job = ScheduledJob.objects.get(key="u:1")
    assert job.status == ScheduledJob.PENDING and "no handler registered" in job.last_error


def test_one_handler_per_kind():
    with pytest.raises(ValueError):
        jobs.handler("test.record")(lambda job: None)


def test_the_sweep_task_enqueues_run_job(frozen_clock):
    # the queue is immediate in tests: sweep() -> run_job task -> jobs.run
    jobs.schedule("test.record", key="q:1", due_at=clock.now())
    from jasa.core.tasks import sweep_due_jobs

    sweep_due_jobs.call_local()
    assert runs_of("q:1") == 1
