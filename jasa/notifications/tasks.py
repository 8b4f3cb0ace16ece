"""Queue tasks of notifications: thin, they call services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from jasa.notifications import services


@db_task()
def deliver_message(message_id: str) -> str:
    return services.outbox_deliver(message_id)


@db_periodic_task(crontab(minute="*"))
def outbox_sweep() -> int:
    return services.outbox_sweep()
