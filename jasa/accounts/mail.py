"""The invitation email. Goes through the notifications outbox when that app provides ``notify``."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

TEMPLATE = "staff_invitation"


def invitation_context(invitation, language: str) -> dict[str, str]:
    """Plain strings only: the outbox stores the context as JSON."""
    with translation.override(language):
        inviter = invitation.invited_by
        return {
            "workspace_name": invitation.workspace.name,
            "inviter": (inviter.name or inviter.email) if inviter else invitation.workspace.name,
            "role": str(invitation.get_role_display()),
            "accept_url": settings.SITE_URL + reverse("web:invitation_accept", args=[invitation.token]),
            "expires_at": invitation.expires_at.astimezone(invitation.workspace.tz).strftime("%Y-%m-%d %H:%M"),
            "email": invitation.email,
        }


def send_invitation(invitation, *, language: str = "id") -> None:
    context = invitation_context(invitation, language)
    try:
        from jasa.notifications.services import notify
    except ImportError:
        notify = None
    if notify is not None:
        notify(workspace=invitation.workspace, channel="email", recipient=invitation.email, template=TEMPLATE,
               context=context, language=language, dedupe_key=f"invitation:{invitation.pk}")
        return
    _send_directly(invitation.email, context, language)


def _send_directly(recipient: str, context: dict[str, str], language: str) -> None:
    """Fallback while the outbox is not available: render the same templates and send over SMTP."""
    with translation.override(language):
        base = f"notifications/{TEMPLATE}/"
        subject = " ".join(render_to_string(base + "subject.txt", context).split())
        text = render_to_string(base + "body.txt", context)
        html = render_to_string(base + "body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [recipient])
    message.attach_alternative(html, "text/html")
    message.send()
