"""Signed notifications from the sandbox to jasa's own endpoint, through the queue, with faults.

Wire format (what :meth:`SandboxGateway.parse_webhook` verifies)::

    POST {SITE_URL}/webhooks/sandbox
    X-Sandbox-Signature: hex HMAC-SHA256(body, merchant secret_key)
    X-Sandbox-Event-Id:  evt_...      (also in the body)
    X-Sandbox-Timestamp: unix seconds (also in the body as "sent_at"; signed with it)
    X-Sandbox-Merchant:  merchant_id
    {"event_id", "type", "merchant_id", "sent_at", "occurred_at", "data": {payment fields}}

Each delivery is a :class:`SandboxWebhook` row plus a ScheduledJob (the database is the truth;
the queue only hurries it). Deliveries are signed when sent, so a delayed one is still fresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from typing import Any

import requests
from django.conf import settings
from django.db import transaction

from jasa.core import clock, jobs
from jasa.sandbox.faults import faults_for
from jasa.sandbox.models import SandboxPayment, SandboxWebhook

log = logging.getLogger(__name__)

HOLD_AT_MOST = dt.timedelta(seconds=60)  # an out-of-order event waits this long for a successor
TIMEOUT_SECONDS = 10


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payment_data(payment: SandboxPayment) -> dict[str, Any]:
    return {
        "id": payment.gateway_reference,
        "reference": payment.reference,
        "status": payment.api_status,
        "gross_amount": payment.gross_amount,
        "refunded_amount": payment.refunded_amount,
        "currency": payment.currency,
        "method": payment.method,
    }


def default_url() -> str:
    return settings.SITE_URL.rstrip("/") + "/webhooks/sandbox"


def emit(payment: SandboxPayment, event_type: str, extra: dict[str, Any] | None = None) -> list[SandboxWebhook]:
    """Record a notification about ``payment`` and schedule its delivery, as the faults say."""
    faults = faults_for(payment.merchant)
    event_id = "evt_" + secrets.token_hex(12)
    data = {**payment_data(payment), **(extra or {}), "occurred_at": int(clock.now().timestamp())}
    url = payment.notification_url or default_url()
    now = clock.now()
    common = {"merchant": payment.merchant, "payment": payment, "event_id": event_id, "event_type": event_type,
              "data": data, "url": url, "forged": faults.webhook_forged}
    if faults.webhook_lost:
        return [SandboxWebhook.objects.create(**common, status=SandboxWebhook.LOST)]
    due = now + dt.timedelta(seconds=faults.webhook_delay_seconds)
    copies = 2 if faults.webhook_duplicate else 1
    held = list(SandboxWebhook.objects.filter(payment=payment, status=SandboxWebhook.HELD))
    if faults.webhook_out_of_order and not held:
        # hold this one back until the next event of the payment has gone out
        rows = [SandboxWebhook.objects.create(**common, status=SandboxWebhook.HELD, due_at=now + HOLD_AT_MOST)
                for _ in range(copies)]
    else:
        rows = [SandboxWebhook.objects.create(**common, due_at=due) for _ in range(copies)]
        for row in held:  # released after this one, so they arrive late
            row.status = SandboxWebhook.PENDING
            row.due_at = due
            row.save(update_fields=["status", "due_at", "updated_at"])
        rows += held
    for row in rows:
        jobs.schedule("sandbox.webhook", key=f"sandbox:webhook:{row.id}", due_at=row.due_at,
                      payload={"webhook": str(row.id)})
    immediate = [str(r.id) for r in rows if r.status == SandboxWebhook.PENDING and r.due_at <= now]
    if immediate:
        transaction.on_commit(lambda: _enqueue(immediate))
    return rows


def _enqueue(ids: list[str]) -> None:
    from jasa.sandbox.tasks import deliver_webhook

    for webhook_id in ids:
        deliver_webhook(webhook_id)


def build(webhook: SandboxWebhook) -> tuple[dict[str, str], bytes]:
    """Headers and body of one delivery, signed now."""
    merchant = webhook.merchant
    secret = ("forged-" + secrets.token_hex(8)) if webhook.forged else merchant.secret_key
    return signed_notification(secret=secret, merchant_id=merchant.merchant_id, event_id=webhook.event_id,
                               event_type=webhook.event_type, data=webhook.data,
                               sent_at=int(clock.now().timestamp()))


def signed_notification(*, secret: str, merchant_id: str, event_id: str, event_type: str, data: dict[str, Any],
                        sent_at: int) -> tuple[dict[str, str], bytes]:
    """A notification as the sandbox gateway sends it (also used by tests and bench/webhooks.py)."""
    body = json.dumps(
        {"event_id": event_id, "type": event_type, "merchant_id": merchant_id, "sent_at": sent_at, "data": data},
        separators=(",", ":"), sort_keys=True,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "jasa-sandbox-gateway/1",
        "X-Sandbox-Signature": sign(secret, body),
        "X-Sandbox-Event-Id": event_id,
        "X-Sandbox-Timestamp": str(sent_at),
        "X-Sandbox-Merchant": merchant_id,
    }
    return headers, body


class DeliveryFailed(Exception):
    """The receiver was unreachable or answered 5xx: the job retries with backoff."""


def deliver(webhook_id: str, *, release: bool = False) -> str:
    """Send one delivery. Safe to call again: a sent, rejected or lost row is left alone.

    No transaction is held during the HTTP call: the receiver is jasa itself, and on SQLite an
    open write transaction here would lock it out."""
    webhook = SandboxWebhook.objects.select_related("merchant").filter(pk=webhook_id).first()
    if webhook is None:
        return "missing"
    if webhook.status == SandboxWebhook.HELD and release:
        SandboxWebhook.objects.filter(pk=webhook.pk, status=SandboxWebhook.HELD).update(
            status=SandboxWebhook.PENDING, due_at=clock.now())
        webhook.refresh_from_db()
    if webhook.status != SandboxWebhook.PENDING:
        return webhook.status
    if webhook.due_at > clock.now():
        return "not_due"
    headers, body = build(webhook)
    status, sent_at, code, error = SandboxWebhook.PENDING, None, None, ""
    try:
        response = requests.post(webhook.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    else:
        code = response.status_code
        if 200 <= code < 300:
            status, sent_at = SandboxWebhook.SENT, clock.now()
        elif 400 <= code < 500:
            status = SandboxWebhook.REJECTED
        else:
            error = f"HTTP {code}"
    SandboxWebhook.objects.filter(pk=webhook.pk, status=SandboxWebhook.PENDING).update(
        attempts=webhook.attempts + 1, status=status, response_status=code, sent_at=sent_at, last_error=error,
        updated_at=clock.now(),
    )
    if error:
        log.info("sandbox webhook %s to %s failed: %s", webhook.event_id, webhook.url, error)
        raise DeliveryFailed(error)
    return status
