"""Reads about accounts and workspaces. Every read of workspace data is scoped here."""

from __future__ import annotations

from django.db.models import QuerySet

from jasa.accounts.models import Membership, StaffProfile, Workspace


def workspace_by_slug(slug: str) -> Workspace | None:
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
