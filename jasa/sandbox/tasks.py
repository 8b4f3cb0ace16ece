"""Queue tasks of the sandbox: thin wrappers around webhook delivery."""

from __future__ import annotations

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from jasa.core import clock, jobs
from jasa.sandbox import webhooks
from jasa.sandbox.models import SandboxWebhook

MAX_ATTEMPTS = 8


@db_task()
def deliver_webhook(webhook_id: str, release: bool = False) -> str:
    try:
        return webhooks.deliver(webhook_id, release=release)
    except webhooks.DeliveryFailed:
        attempts = SandboxWebhook.objects.filter(pk=webhook_id).values_list("attempts", flat=True).first() or 0
        if attempts >= MAX_ATTEMPTS:
            return "gave_up"
        # like real gateways: retry with backoff (1, 2, 4 ... minutes); the row stays pending meanwhile
        jobs.schedule("sandbox.webhook", key=f"sandbox:webhook:{webhook_id}:retry:{attempts}",
                      due_at=clock.now() + dt.timedelta(minutes=2 ** (attempts - 1)),
                      payload={"webhook": webhook_id})
        return "retry"


@db_periodic_task(crontab(minute="*/5"))
def expire_due_payments() -> int:
    """The sweep behind the per-payment expiry jobs: catches any payment whose job was lost."""
    from jasa.sandbox.services import payments_expire_due

    return payments_expire_due()
