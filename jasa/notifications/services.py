"""Every write of the outbox. Other apps only ever call :func:`notify`.

Usage (from any app's service, inside or outside a transaction)::

    from jasa.notifications.services import notify

    notify(
        workspace=booking.workspace,
        channel="email",                        # "email" | "whatsapp" | "sms" | "console"
        recipient=client.email,                 # an address, or a phone number for whatsapp/sms
        template="bookings.reminder",           # templates/notifications/bookings.reminder/...
        context={"name": client.name, "start": "Rabu, 2 Desember 2026 10.00 WIB"},
        language=client.language,               # "id" | "en"
        dedupe_key=f"booking:{booking.id}:reminder:24h",   # same key again -> the same row, no new send
        attachments=[{"filename": "invite.ics", "content_type": "text/calendar; method=REQUEST",
                      "content": ics_bytes}],
    )

The row is written in the caller's transaction; delivery is queued only after it commits
(so a rolled-back booking sends nothing). Context must be JSON: format dates, money and
names for the recipient before passing them (values with ``to_json()`` such as Money are
converted). Failed deliveries are retried with backoff by the periodic outbox sweep.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import traceback
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from jasa.core import audit, clock
from jasa.core.errors import Conflict, ValidationError
from jasa.notifications.models import Channel, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 1024 * 1024  # the outbox row holds them; keep them small (an .ics, a PDF receipt)
SENDING_LEASE = dt.timedelta(minutes=10)
QUEUED_GRACE = dt.timedelta(minutes=1)  # the after-commit task normally takes a message before this


class _Encoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if hasattr(o, "to_json"):
            return o.to_json()
        return super().default(o)


def _jsonable(context: dict[str, Any]) -> dict[str, Any]:
    try:
        return json.loads(json.dumps(context, cls=_Encoder))
    except TypeError as exc:
        raise ValidationError(f"notification context must be JSON data: {exc}", field="context")


def _attachments(items: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    total = 0
    for item in items or []:
        content = item.get("content")
        if isinstance(content, str):
            content = content.encode("utf-8")
        if not isinstance(content, bytes) or not item.get("filename"):
            raise ValidationError("an attachment needs a filename and bytes content", field="attachments")
        total += len(content)
        out.append({
            "filename": str(item["filename"]),
            "content_type": str(item.get("content_type") or "application/octet-stream"),
            "data_b64": base64.b64encode(content).decode("ascii"),
        })
    if total > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            f"attachments are {total} bytes; at most {MAX_ATTACHMENT_BYTES} fit in a notification",
            field="attachments",
        )
    return out


def notify(
    *,
    workspace,
    channel: str,
    recipient: str,
    template: str,
    context: dict[str, Any],
    language: str = "id",
    dedupe_key: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> OutboxMessage:
    """Put one message in the outbox and send it after the current transaction commits.

    Idempotent by ``dedupe_key``: a second call with the same key returns the first row and
    sends nothing. ``attachments``: ``[{"filename", "content_type", "content": bytes}]``.
    """
    if channel not in Channel.values:
        raise ValidationError(f"unknown channel {channel!r}; use one of {', '.join(Channel.values)}", field="channel")
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(f"unknown language {language!r}", field="language")
    if not recipient or not recipient.strip():
        raise ValidationError("a notification needs a recipient", field="recipient")
    if dedupe_key:
        existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    fields = {
        "workspace": workspace,
        "channel": channel,
        "recipient": recipient.strip(),
        "template": template,
        "context": _jsonable(context),
        "language": language,
        "dedupe_key": dedupe_key or None,
        "attachments": _attachments(attachments),
        "next_attempt_at": clock.now() + QUEUED_GRACE,
    }
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(**fields)
    except IntegrityError:
        if dedupe_key:  # another process wrote the same key between our read and insert
            return OutboxMessage.objects.get(dedupe_key=dedupe_key)
        raise
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id) -> None:
    from jasa.notifications.tasks import deliver_message

    try:
        deliver_message(str(message_id))
    except Exception:  # noqa: BLE001 - the queue is down: the outbox sweep sends it later
        log.exception("could not enqueue outbox message %s; the outbox sweep will send it", message_id)


def _backoff(attempts: int) -> dt.timedelta:
    # 1, 4, 16, 64 minutes ... at most 6 hours
    return dt.timedelta(minutes=min(360, 4 ** max(0, attempts - 1)))


def _claim(message_id) -> OutboxMessage | None:
    """Take the message for sending; only one process wins (a conditional UPDATE)."""
    now = clock.now()
    sendable = Q(status=OutboxMessage.QUEUED) | Q(
        status=OutboxMessage.FAILED, next_attempt_at__lte=now, attempts__lt=F("max_attempts")
    )
    won = OutboxMessage.objects.filter(sendable, pk=message_id).update(
        status=OutboxMessage.SENDING, claimed_at=now
    )
    return OutboxMessage.objects.select_related("workspace").get(pk=message_id) if won else None


def outbox_deliver(message_id) -> str:
    """Send one message if it is still to be sent. Returns its status afterwards.

    The provider call happens outside any transaction (no lock is held during SMTP or HTTP).
    """
    from jasa.notifications.channels import sender_for
    from jasa.notifications.rendering import render

    message = _claim(message_id)
    if message is None:
        current = OutboxMessage.objects.filter(pk=message_id).values_list("status", flat=True).first()
        return current or "missing"
    try:
        rendered = render(message)
        provider_id = sender_for(message.channel)(message, rendered)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row and retried
        return _record_failure(message, exc)
    now = clock.now()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.SENT, sent_at=now, attempts=message.attempts + 1, last_error="",
        subject=rendered.subject[:300], provider_message_id=provider_id[:200], next_attempt_at=None,
    )
    return OutboxMessage.SENT


def _record_failure(message: OutboxMessage, exc: BaseException) -> str:
    attempts = message.attempts + 1
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    retry_at = clock.now() + _backoff(attempts) if attempts < message.max_attempts else None
    log.warning("outbox message %s (%s) failed, attempt %s: %s", message.pk, message.template, attempts, error)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.FAILED, attempts=attempts, last_error=error[:2000], next_attempt_at=retry_at
    )
    return OutboxMessage.FAILED


@transaction.atomic
def outbox_retry(message: OutboxMessage) -> OutboxMessage:
    """A person asked to send a failed message again: one more attempt, now."""
    locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if locked.status != OutboxMessage.FAILED:
        raise Conflict(f"only failed messages can be retried; this one is {locked.status}")
    before = {"status": locked.status, "attempts": locked.attempts}
    locked.status = OutboxMessage.QUEUED
    locked.max_attempts = max(locked.max_attempts, locked.attempts + 1)
    locked.next_attempt_at = clock.now() + QUEUED_GRACE
    locked.save(update_fields=["status", "max_attempts", "next_attempt_at", "updated_at"])
    audit.record(locked, "notification.retry", before=before, after={"status": locked.status})
    transaction.on_commit(lambda: _enqueue(locked.pk))
    return locked


def outbox_sweep(enqueue=None) -> int:
    """Periodic: hand every message due for (re)sending to the queue. Returns how many.

    Due are: failed messages whose backoff has passed and that have attempts left, and
    queued messages whose after-commit task never ran (queue down, process killed).
    A message stuck in "sending" (the process died mid-send) is marked failed without an
    automatic retry: it may have arrived, and a reminder must not be sent twice.
    """
    now = clock.now()
    OutboxMessage.objects.filter(status=OutboxMessage.SENDING, claimed_at__lt=now - SENDING_LEASE).update(
        status=OutboxMessage.FAILED, next_attempt_at=None,
        last_error="interrupted while sending; it may have been delivered - retry by hand if not",
    )
    due = OutboxMessage.objects.filter(next_attempt_at__lte=now).filter(
        Q(status=OutboxMessage.QUEUED) | Q(status=OutboxMessage.FAILED, attempts__lt=F("max_attempts"))
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:500])
    send = enqueue or _enqueue
    for message_id in ids:
        send(message_id)
    return len(ids)
