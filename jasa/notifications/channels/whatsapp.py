"""WhatsApp Business Cloud API: template messages (the only kind a business may start a chat with).

POST {WHATSAPP_API_URL}/{WHATSAPP_PHONE_NUMBER_ID}/messages with a Bearer token. The
template (``whatsapp.txt`` of the message, one body parameter per line) must be approved in
Meta's WhatsApp Manager under the name ``<template with dots as underscores>`` in each language.
"""

from __future__ import annotations

import phonenumbers
import requests
from django.conf import settings

from jasa.notifications.channels import DeliveryError
from jasa.notifications.models import OutboxMessage
from jasa.notifications.rendering import Rendered

TIMEOUT = 15


def to_whatsapp_number(recipient: str, region: str = "ID") -> str:
    """"0812-3456-7890" or "+62 812 3456 7890" -> "6281234567890" (E.164 digits, no plus)."""
    try:
        number = phonenumbers.parse(recipient, region)
    except phonenumbers.NumberParseException as exc:
        raise DeliveryError(f"{recipient!r} is not a phone number: {exc}")
    if not phonenumbers.is_possible_number(number):
        raise DeliveryError(f"{recipient!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def payload(message: OutboxMessage, rendered: Rendered) -> dict:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to_whatsapp_number(message.recipient),
        "type": "template",
        "template": {
            "name": rendered.whatsapp_template,
            "language": {"code": message.language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in rendered.whatsapp_params]}
            ],
        },
    }


def send(message: OutboxMessage, rendered: Rendered) -> str:
    token = settings.WHATSAPP_TOKEN
    phone_id = settings.WHATSAPP_PHONE_NUMBER_ID
    if not token or not phone_id:
        raise DeliveryError("WhatsApp is not configured: set WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID")
    url = f"{str(settings.WHATSAPP_API_URL).rstrip('/')}/{phone_id}/messages"
    try:
        response = requests.post(
            url, json=payload(message, rendered), headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"WhatsApp API unreachable: {exc.__class__.__name__}")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400 or "error" in body:
        error = body.get("error") or {}
        raise DeliveryError(
            f"WhatsApp API {response.status_code}: {error.get('message') or response.text[:200]}"
            + (f" (code {error['code']})" if "code" in error else "")
        )
    try:
        return str(body["messages"][0]["id"])
    except (KeyError, IndexError, TypeError):
        raise DeliveryError(f"WhatsApp API answered without a message id: {str(body)[:200]}")
