"""Queue tasks of the core: thin wrappers that load ids and call services."""

from __future__ import annotations

import os
import socket

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, task

from jasa.core import jobs


@db_task(retries=3, retry_delay=10)
def run_job(job_id: int) -> str:
    return jobs.run(job_id)


@db_periodic_task(crontab(minute="*"))
def sweep_due_jobs() -> int:
    return jobs.sweep()


@task()
def ping(token: str) -> dict:
    """Round trip through the queue (used by tests and `jasa manage` checks): who consumed it."""
    return {"token": token, "pid": os.getpid(), "host": socket.gethostname()}
