"""Delivery channels. Each takes an outbox row and its rendered words, sends them, and
returns the provider's message id, or raises :class:`DeliveryError` with a reason a person
can act on."""

from __future__ import annotations

from collections.abc import Callable

from jasa.notifications.models import Channel, OutboxMessage
from jasa.notifications.rendering import Rendered


class DeliveryError(Exception):
    pass


Sender = Callable[[OutboxMessage, Rendered], str]


def sender_for(channel: str) -> Sender:
    from jasa.notifications.channels import console, email, sms, whatsapp

    senders: dict[str, Sender] = {
        Channel.EMAIL: email.send,
        Channel.WHATSAPP: whatsapp.send,
        Channel.SMS: sms.send,
        Channel.CONSOLE: console.send,
    }
    try:
        return senders[channel]
    except KeyError:
        raise DeliveryError(f"unknown channel {channel!r}")
