"""Job handlers used by the sweep tests, in-process and in the worker processes they start.

``test.record`` writes one audit entry per job key: the tests count them to prove each job
ran exactly once (a unique key would hide a second run as an error; a count shows it).
"""

from __future__ import annotations

import time

from jasa.core import jobs
from jasa.core.models import AuditEntry

calls: dict[str, int] = {}


@jobs.handler("test.record")
def record(job) -> None:
    AuditEntry.objects.create(actor_label="test", object_type="test.job", object_id=job.key, action="test.ran")
    time.sleep(float(job.payload.get("sleep", 0)))  # widen the window in which two workers could collide


@jobs.handler("test.flaky")
def flaky(job) -> None:
    calls[job.key] = calls.get(job.key, 0) + 1
    # its writes are rolled back when it fails
    AuditEntry.objects.create(actor_label="test", object_type="test.job", object_id=job.key, action="test.flaky")
    if calls[job.key] <= int(job.payload.get("fail_times", 0)):
        raise RuntimeError(f"flaky failure {calls[job.key]}")


def runs_of(key: str) -> int:
    return AuditEntry.objects.filter(object_type="test.job", object_id=key, action="test.ran").count()
