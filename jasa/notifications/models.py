"""The outbox: every message jasa sends is a row first, then a delivery.

A row exists before anything leaves jasa, so a crash never loses a message, and the
unique ``dedupe_key`` means one business event ("booking:<id>:reminder:24h") is sent at
most once however many times the code asking for it runs.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from jasa.core.models import WorkspaceOwned


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    CONSOLE = "console", _("Console (development)")


class OutboxMessage(WorkspaceOwned):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    STATUSES = [
        (QUEUED, _("queued")),
        (SENDING, _("sending")),
        (SENT, _("sent")),
        (FAILED, _("failed")),
    ]

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    language = models.CharField(_("language"), max_length=8, default="id")
    template = models.CharField(_("template"), max_length=100)
    context = models.JSONField(_("context"), default=dict, blank=True)
    # NULL for messages that may repeat; UNIQUE otherwise (NULLs never collide).
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, null=True, blank=True, unique=True)
    attachments = models.JSONField(
        _("attachments"), default=list, blank=True,
        help_text='[{"filename": ..., "content_type": ..., "data_b64": ...}] - small files only',
    )
    status = models.CharField(_("status"), max_length=20, choices=STATUSES, default=QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="when the retry sweep may try again")
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True, help_text="as rendered when sent")
    provider_message_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.template} -> {self.recipient} ({self.status})"

    @property
    def can_retry(self) -> bool:
        return self.status == self.FAILED


class NotificationTemplate(WorkspaceOwned):
    """A workspace's own wording for one message, language and channel. Overrides win over jasa's files.

    ``subject`` and ``body`` are Django template text rendered with the message context.
    For WhatsApp, ``subject`` is the approved Meta template name and ``body`` holds the
    template's body parameters, one per line.
    """

    template = models.CharField(_("template"), max_length=100)
    language = models.CharField(_("language"), max_length=8, default="id")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "template", "language", "channel"], name="notification_template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} [{self.language}/{self.channel}]"
