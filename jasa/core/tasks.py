"""Queue tasks of the core: thin wrappers that load ids and call services.

Tasks return None: huey keeps every non-None return value in its result store until
someone reads it, and nobody reads these (the database rows hold the outcome).
"""

from __future__ import annotations

import os
import socket

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, task

from jasa.core import jobs


@db_task(retries=3, retry_delay=10)
def run_job(job_id: int) -> None:
    jobs.run(job_id)


@db_periodic_task(crontab(minute="*"))
def sweep_due_jobs() -> None:
    jobs.sweep()


@task()
def ping(token: str) -> dict:
    """Round trip through the queue (used by tests): who consumed it. Its result is read, so returned."""
    return {"token": token, "pid": os.getpid(), "host": socket.gethostname()}
