"""Stored answers to POSTs made with an Idempotency-Key."""

from django.db import models

from jasa.core import clock


class IdempotentRequest(models.Model):
    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=200, help_text="who sent it: user id, API key, or anonymous")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    content_type = models.CharField(max_length=100, default="application/json")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key", "method", "path"], name="idempotency_key_once")
        ]
