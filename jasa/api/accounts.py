"""API routes for workspaces, their members and invitations.

Callers: a logged-in person (session + CSRF) or a workspace API key (Bearer). A workspace
the caller has no part in answers 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from jasa.accounts import selectors, services
from jasa.accounts.models import ApiKey, Membership, Workspace
from jasa.api.auth import api_auth, require_slug
from jasa.api.schemas import ErrorOut, In

router = Router(tags=["workspaces"], auth=api_auth)

RoleName = Literal["owner", "admin", "staff", "finance"]


class WorkspaceOut(Schema):
    slug: str
    name: str
    legal_name: str
    address: str
    npwp: str
    email: str
    phone: str
    brand_colour: str
    time_zone: str
    currency: str
    languages: list[str]
    refund_policy_id: str
    refund_policy_en: str
    refund_transfer_days: int | None  # working days a refund by bank transfer takes; null: not stated
    terms_id: str
    terms_en: str
    logo_url: str | None
    created_at: dt.datetime

    @staticmethod
    def resolve_logo_url(obj: Workspace) -> str | None:
        return obj.logo.url if obj.logo else None


class WorkspacePatch(In):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    legal_name: str | None = Field(None, max_length=200)
    address: str | None = None
    npwp: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32)
    brand_colour: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    time_zone: str | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    languages: list[Literal["id", "en"]] | None = Field(None, min_length=1)
    refund_policy_id: str | None = None
    refund_policy_en: str | None = None
    refund_transfer_days: int | None = Field(None, ge=1, le=60)  # send null to clear it
    terms_id: str | None = None
    terms_en: str | None = None


class MemberOut(Schema):
    id: uuid.UUID
    email: str
    name: str
    display_name: str
    role: RoleName
    is_active: bool
    joined_at: dt.datetime

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return obj.user.email

    @staticmethod
    def resolve_name(obj: Membership) -> str:
        return obj.user.name

    @staticmethod
    def resolve_display_name(obj: Membership) -> str:
        profile = getattr(obj, "profile", None)
        return profile.display_name if profile else ""

    @staticmethod
    def resolve_joined_at(obj: Membership) -> dt.datetime:
        return obj.created_at


class InvitationIn(In):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
    role: RoleName = "staff"


class InvitationOut(Schema):
    id: uuid.UUID
    email: str
    role: RoleName
    expires_at: dt.datetime
    created_at: dt.datetime


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.get("/workspaces", response=list[WorkspaceOut], summary="Workspaces I belong to")
def workspaces_mine(request: HttpRequest):
    if isinstance(request.auth, ApiKey):
        return [request.auth.workspace]
    return list(selectors.workspaces_for_user(request.user))


@router.get("/workspaces/{slug}", response={200: WorkspaceOut, **ERRORS})
def workspace_get(request: HttpRequest, slug: str):
    workspace, _ = require_slug(request, slug, "workspace.view")
    return workspace


@router.patch("/workspaces/{slug}", response={200: WorkspaceOut, **ERRORS})
def workspace_patch(request: HttpRequest, slug: str, payload: WorkspacePatch):
    workspace, _ = require_slug(request, slug, "workspace.manage")
    fields = payload.model_dump(exclude_unset=True)
    # null leaves a field as it is, except where null is a value ("not stated")
    fields = {k: v for k, v in fields.items() if v is not None or k == "refund_transfer_days"}
    return services.workspace_update(workspace=workspace, **fields)


@router.get("/workspaces/{slug}/members", response={200: list[MemberOut], **ERRORS})
def workspace_members(request: HttpRequest, slug: str):
    workspace, _ = require_slug(request, slug, "staff.view")
    return list(selectors.members(workspace))


@router.post("/workspaces/{slug}/invitations", response={201: InvitationOut, **ERRORS})
def workspace_invite(request: HttpRequest, slug: str, payload: InvitationIn):
    workspace, principal = require_slug(request, slug, "staff.invite")
    # An API key invites on the workspace's behalf; it can never create an owner.
    invited_by = request.user if isinstance(principal, Membership) else None
    invitation = services.invitation_create(workspace=workspace, email=payload.email, role=payload.role,
                                            invited_by=invited_by)
    return Status(201, invitation)
