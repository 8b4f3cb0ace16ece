"""The sweep across real processes on PostgreSQL: every due job is done exactly once."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings

from jasa.core import clock, jobs
from jasa.core.models import ScheduledJob
from tests.core.jobhandlers import runs_of
from tests.core.procs import ROOT, child_env, database_url_for_children, run_python, started

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="process races need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

N = 40


def _env(tmp_path, queue_name: str) -> dict[str, str]:
    db = database_url_for_children()
    return child_env(
        JASA_DATA_DIR=str(tmp_path), DATABASE_URL=db, JASA_QUEUE_URL=f"{db}?name={queue_name}",
        LOG_LEVEL="WARNING",
    )


def _schedule(n: int, prefix: str) -> list[str]:
    due = clock.now() - dt.timedelta(seconds=1)
    keys = [f"{prefix}:{i}" for i in range(n)]
    for key in keys:
        jobs.schedule("test.record", key=key, due_at=due, payload={"sleep": 0.02})
    return keys


def _sweepers(env, *extra: str, count: int = 2) -> list[dict]:
    start_at = str(time.time() + 6)  # after both processes have set Django up
    procs = [
        subprocess.Popen([sys.executable, "-m", "tests.core.sweeper", "--start-at", start_at, *extra],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_two_sweeping_processes_do_each_job_once(tmp_path):
    keys = _schedule(N, "race")
    results = _sweepers(_env(tmp_path, f"t-{uuid.uuid4().hex[:8]}"), "--direct")
    assert sum(r["claimed"] for r in results) == N
    assert all(r["claimed"] > 0 for r in results), results  # they really swept at the same time
    assert [runs_of(k) for k in keys] == [1] * N
    assert set(ScheduledJob.objects.filter(key__in=keys).values_list("status", "attempts")) == {("done", 1)}


def test_two_sweepers_and_two_jasa_workers_through_the_postgres_queue(tmp_path):
    keys = _schedule(N, "queue")
    env = _env(tmp_path, f"t-{uuid.uuid4().hex[:8]}")
    worker = ["-m", "jasa.cli", "worker", "--no-periodic", "--workers", "2", "--import", "tests.core.jobhandlers"]
    with started(worker, env, tmp_path / "w1.log"), started(worker, env, tmp_path / "w2.log"):
        results = _sweepers(env)  # each enqueues every claimed job twice
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if ScheduledJob.objects.filter(key__in=keys, status="done").count() == N:
                break
            time.sleep(0.2)
        time.sleep(1)  # let the duplicate messages be consumed too
    logs = (tmp_path / "w1.log").read_text() + (tmp_path / "w2.log").read_text()
    assert sum(r["claimed"] for r in results) == N
    assert [runs_of(k) for k in keys] == [1] * N, logs[-3000:]
    assert ScheduledJob.objects.filter(key__in=keys, status="done", attempts=1).count() == N


def test_a_job_whose_task_was_lost_is_done_by_the_next_sweep_after_the_lease(tmp_path):
    [key] = _schedule(1, "lost")
    assert len(jobs.claim_due()) == 1  # claimed, and its queue task lost
    env = _env(tmp_path, f"t-{uuid.uuid4().hex[:8]}")

    soon = run_python(["-m", "tests.core.sweeper", "--direct", "--idle", "0.5",
                       "--advance", str((jobs.LEASE - dt.timedelta(minutes=1)).total_seconds())], env)
    assert soon.returncode == 0, soon.stderr
    assert json.loads(soon.stdout.strip().splitlines()[-1])["claimed"] == 0
    assert runs_of(key) == 0

    later = run_python(["-m", "tests.core.sweeper", "--direct", "--idle", "0.5",
                        "--advance", str((jobs.LEASE + dt.timedelta(minutes=1)).total_seconds())], env)
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout.strip().splitlines()[-1])["claimed"] == 1
    assert runs_of(key) == 1
    assert ScheduledJob.objects.get(key=key).status == ScheduledJob.DONE
