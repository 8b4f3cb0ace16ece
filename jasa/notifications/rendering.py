"""Turn an outbox row into the words that leave jasa, in the recipient's language.

jasa's own wording lives in ``templates/notifications/<template>/`` of the app that sends
the message (``subject.txt``, ``body.txt``, ``body.html``, ``whatsapp.txt``); a workspace's
:class:`~jasa.notifications.models.NotificationTemplate` for the same template, language
and channel wins over those files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.template import Context, Template, TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import translation
from django.utils.html import linebreaks

from jasa.notifications.models import Channel, NotificationTemplate, OutboxMessage


@dataclass
class Rendered:
    subject: str = ""
    text: str = ""
    html: str = ""
    # WhatsApp template messages: the approved template's name and its body parameters.
    whatsapp_template: str = ""
    whatsapp_params: list[str] = field(default_factory=list)


def whatsapp_template_name(template: str) -> str:
    """Meta template names are lowercase letters, digits and underscores: "booking.reminder" -> "booking_reminder"."""
    return "".join(c if c.isalnum() else "_" for c in template.lower())


def _context(message: OutboxMessage) -> dict[str, Any]:
    return {
        **message.context,
        "workspace": message.workspace,
        "site_url": settings.SITE_URL,
        "language": message.language,
    }


def _file(template: str, name: str, ctx: dict[str, Any], *, autoescape: bool) -> str | None:
    try:
        tpl = get_template(f"notifications/{template}/{name}")
    except TemplateDoesNotExist:
        return None
    # Plain-text parts must not be HTML-escaped ("Rp 1.500.000 & PPN", not "&amp;").
    return tpl.template.render(Context(ctx, autoescape=autoescape))  # type: ignore[attr-defined]


def _string(source: str, ctx: dict[str, Any]) -> str:
    return Template(source).render(Context(ctx, autoescape=False))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def render(message: OutboxMessage) -> Rendered:
    ctx = _context(message)
    channel = message.channel
    with translation.override(message.language):
        override = NotificationTemplate.objects.filter(
            workspace_id=message.workspace_id, template=message.template,
            language=message.language, channel=channel,
        ).first()
        if override is not None:
            return _from_override(message, override, ctx)
        out = Rendered(
            subject=_one_line(_file(message.template, "subject.txt", ctx, autoescape=False) or ""),
            text=(_file(message.template, "body.txt", ctx, autoescape=False) or "").strip(),
            html=(_file(message.template, "body.html", ctx, autoescape=True) or "").strip(),
        )
        if channel == Channel.WHATSAPP:
            wa = _file(message.template, "whatsapp.txt", ctx, autoescape=False)
            if wa is None:
                raise TemplateDoesNotExist(f"notifications/{message.template}/whatsapp.txt")
            out.whatsapp_template = whatsapp_template_name(message.template)
            out.whatsapp_params = _lines(wa)
        elif not out.text and not out.html:
            raise TemplateDoesNotExist(f"notifications/{message.template}/body.txt")
        return out


def _from_override(message: OutboxMessage, override: NotificationTemplate, ctx: dict[str, Any]) -> Rendered:
    body = _string(override.body, ctx).strip()
    if message.channel == Channel.WHATSAPP:
        return Rendered(
            whatsapp_template=override.subject.strip() or whatsapp_template_name(message.template),
            whatsapp_params=_lines(body),
            text=body,
        )
    return Rendered(
        subject=_one_line(_string(override.subject, ctx)),
        text=body,
        # the override is plain text; its HTML part is the same words, escaped, in paragraphs
        html=linebreaks(body, autoescape=True),
    )
