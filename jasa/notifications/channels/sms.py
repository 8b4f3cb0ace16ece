"""SMS through a generic HTTP gateway: POST JASA_SMS_API_URL {"to": ..., "text": ...} with a Bearer token.

Indonesian SMS providers differ; point JASA_SMS_API_URL at a small adapter for yours.
Without it, SMS messages fail with a clear error (and stay in the outbox for a retry).
"""

from __future__ import annotations

import requests
from django.conf import settings

from jasa.notifications.channels import DeliveryError
from jasa.notifications.channels.whatsapp import to_whatsapp_number
from jasa.notifications.models import OutboxMessage
from jasa.notifications.rendering import Rendered


def send(message: OutboxMessage, rendered: Rendered) -> str:
    url = settings.JASA_SMS_API_URL
    if not url:
        raise DeliveryError("no SMS provider configured: set JASA_SMS_API_URL")
    text = rendered.text or "\n".join(rendered.whatsapp_params)
    try:
        response = requests.post(
            url,
            json={"to": "+" + to_whatsapp_number(message.recipient), "text": text},
            headers={"Authorization": f"Bearer {settings.JASA_SMS_API_TOKEN or ''}"},
            timeout=15,
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"SMS gateway unreachable: {exc.__class__.__name__}")
    if response.status_code >= 400:
        raise DeliveryError(f"SMS gateway {response.status_code}: {response.text[:200]}")
    try:
        return str(response.json().get("id", ""))
    except ValueError:
        return ""
