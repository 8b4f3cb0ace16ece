"""Reads of the outbox, always scoped to one workspace."""

from __future__ import annotations

from django.db.models import QuerySet

from jasa.notifications.models import OutboxMessage


def outbox_for(workspace, *, status: str | None = None) -> QuerySet[OutboxMessage]:
    qs = OutboxMessage.objects.filter(workspace=workspace).defer("attachments", "context")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")


def outbox_message(workspace, message_id) -> OutboxMessage | None:
    return OutboxMessage.objects.filter(workspace=workspace, pk=message_id).first()
