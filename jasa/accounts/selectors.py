"""Reads about accounts and workspaces. Every read of workspace data is scoped here."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet

from jasa.accounts.models import ApiKey, Client, Invitation, Membership, StaffProfile, Workspace
from jasa.core import clock
from jasa.core.models import AuditEntry


def workspace_by_slug(slug: str) -> Workspace | None:
    if "\x00" in slug:  # no slug holds NUL, and PostgreSQL refuses to even compare one (an error, not a miss)
        return None
    return Workspace.objects.filter(slug=slug).first()


def membership_for(user, workspace: Workspace) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(workspace=workspace, user=user, is_active=True).first()


def workspaces_for_user(user) -> QuerySet[Workspace]:
    return Workspace.objects.filter(memberships__user=user, memberships__is_active=True).distinct()


def public_staff(workspace: Workspace) -> QuerySet[StaffProfile]:
    return StaffProfile.objects.filter(workspace=workspace, is_public=True, membership__is_active=True).order_by(
        "display_name"
    )


def members(workspace: Workspace, *, include_inactive: bool = True) -> QuerySet[Membership]:
    qs = Membership.objects.filter(workspace=workspace).select_related("user", "profile")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("-is_active", "role", "user__email")


def membership_in(workspace: Workspace, membership_id) -> Membership | None:
    """A membership of this workspace only: an id from another workspace is simply not found."""
    try:
        return members(workspace).filter(pk=membership_id).first()
    except (ValueError, DjangoValidationError):
        return None


def open_invitations(workspace: Workspace) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        workspace=workspace, accepted_at__isnull=True, expires_at__gt=clock.now()
    ).order_by("-created_at")


def invitation_in(workspace: Workspace, invitation_id) -> Invitation | None:
    try:
        return Invitation.objects.filter(workspace=workspace, pk=invitation_id).first()
    except (ValueError, DjangoValidationError):
        return None


def invitation_by_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("workspace", "invited_by").filter(token=token).first()


def api_keys(workspace: Workspace) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(workspace=workspace).select_related("created_by")


def api_key_in(workspace: Workspace, key_id) -> ApiKey | None:
    try:
        return api_keys(workspace).filter(pk=key_id).first()
    except (ValueError, DjangoValidationError):
        return None


def audit_entries(workspace: Workspace) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(workspace=workspace).select_related("actor").order_by("-created_at", "-id")


def client_records(user) -> QuerySet[Client]:
    """The user's client records, one per workspace they bought from (the portal)."""
    return Client.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


def invitations_for_user(user) -> QuerySet[Invitation]:
    """Open invitations sent to any of the user's verified addresses (shown on their home page)."""
    from allauth.account.models import EmailAddress

    emails = {user.email.lower()} | {
        e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    }
    return Invitation.objects.select_related("workspace").filter(
        email__in=emails, accepted_at__isnull=True, expires_at__gt=clock.now()
    ).exclude(workspace__memberships__user=user, workspace__memberships__is_active=True)
