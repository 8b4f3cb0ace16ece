"""Development channel: the message is written to the log (and stdout) instead of being sent."""

from __future__ import annotations

import logging
import sys

from jasa.notifications.models import OutboxMessage
from jasa.notifications.rendering import Rendered

log = logging.getLogger("jasa.notifications.console")


def send(message: OutboxMessage, rendered: Rendered) -> str:
    text = rendered.text or " | ".join(rendered.whatsapp_params)
    out = f"--- {message.template} -> {message.recipient} [{message.language}]\n{rendered.subject}\n\n{text}\n---"
    log.info("%s", out)
    print(out, file=sys.stdout, flush=True)
    return f"console:{message.pk}"
