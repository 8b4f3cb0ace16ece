"""Queue tasks of notifications: thin, they call services (and return None: see jasa.core.tasks)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from jasa.notifications import services


@db_task()
def deliver_message(message_id: str) -> None:
    services.outbox_deliver(message_id)


@db_periodic_task(crontab(minute="*"))
def outbox_sweep() -> None:
    services.outbox_sweep()
