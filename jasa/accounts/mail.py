"""The staff invitation email, sent through the notifications outbox."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from jasa.notifications.services import notify

TEMPLATE = "staff_invitation"  # templates/notifications/staff_invitation/ in this app


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
    """Queue the mail in the outbox, in the same transaction as the invitation itself."""
    notify(workspace=invitation.workspace, channel="email", recipient=invitation.email, template=TEMPLATE,
           context=invitation_context(invitation, language), language=language,
           dedupe_key=f"invitation:{invitation.pk}")
