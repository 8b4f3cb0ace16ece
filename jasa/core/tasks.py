"""Queue tasks of the core: thin wrappers that load ids and call services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from jasa.core import jobs


@db_task(retries=3, retry_delay=10)
def run_job(job_id: int) -> str:
    return jobs.run(job_id)


@db_periodic_task(crontab(minute="*"))
def sweep_due_jobs() -> int:
    return jobs.sweep()
