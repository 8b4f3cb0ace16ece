"""Due work of the sandbox gateway: webhook deliveries (incl. delayed and held ones) and expiry."""

from __future__ import annotations

from django.db import transaction

from jasa.core import jobs


@jobs.handler("sandbox.webhook")
def _deliver(job) -> None:
    webhook_id = job.payload["webhook"]

    def send() -> None:
        from jasa.sandbox.tasks import deliver_webhook

        deliver_webhook(webhook_id, release=True)

    # sent after the job's transaction commits: never hold a write lock while jasa receives it
    transaction.on_commit(send)


@jobs.handler("sandbox.expire")
def _expire(job) -> None:
    from jasa.sandbox.services import payment_expire_if_due

    payment_expire_if_due(job.payload["payment"])
