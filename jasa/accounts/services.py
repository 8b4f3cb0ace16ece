"""Every write about accounts and workspaces."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.db import transaction

from jasa.accounts.models import (
    RESERVED_SLUGS,
    ApiKey,
    Client,
    Invitation,
    Membership,
    Role,
    StaffProfile,
    Workspace,
)
from jasa.core import audit, clock
from jasa.core.errors import Conflict, ValidationError


@transaction.atomic
def workspace_create(*, owner, name: str, slug: str, time_zone: str = "Asia/Jakarta", currency: str = "IDR",
                     **fields) -> Workspace:
    slug = slug.strip().lower()
    if slug in RESERVED_SLUGS:
        raise ValidationError("This address is reserved; choose another.", field="slug")
    if Workspace.objects.filter(slug=slug).exists():
        raise Conflict("This address is taken; choose another.", field="slug")
    ws = Workspace(name=name, slug=slug, time_zone=time_zone, currency=currency,
                   languages=fields.pop("languages", ["id", "en"]), **fields)
    ws.full_clean()
    ws.save()
    membership = Membership.objects.create(workspace=ws, user=owner, role=Role.OWNER)
    StaffProfile.objects.create(workspace=ws, membership=membership,
                                display_name=owner.name or owner.email.split("@")[0], time_zone=time_zone)
    audit.record(ws, "workspace.created", after={"name": name, "slug": slug})
    return ws


@transaction.atomic
def invitation_create(*, workspace: Workspace, email: str, role: str, invited_by) -> Invitation:
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}.", field="role")
    email = email.strip().lower()
    if Membership.objects.filter(workspace=workspace, user__email=email, is_active=True).exists():
        raise Conflict("This person is already on the team.", field="email")
    invitation = Invitation.objects.create(
        workspace=workspace, email=email, role=role, invited_by=invited_by,
        expires_at=clock.now() + dt.timedelta(days=7),
    )
    audit.record(invitation, "invitation.created", after={"email": email, "role": role})
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> Membership:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise Conflict("This invitation has expired or was already used.")
    membership, _ = Membership.objects.update_or_create(
        workspace=invitation.workspace, user=user, defaults={"role": invitation.role, "is_active": True}
    )
    StaffProfile.objects.get_or_create(
        membership=membership,
        defaults={"workspace": invitation.workspace, "display_name": user.name or user.email.split("@")[0],
                  "time_zone": invitation.workspace.time_zone},
    )
    invitation.accepted_at = clock.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    audit.record(membership, "membership.joined", after={"role": membership.role})
    return membership


def client_get_or_create(*, workspace: Workspace, email: str, name: str = "", phone: str = "",
                         language: str = "id", time_zone: str | None = None) -> Client:
    """The workspace's client record for this email, linked to the user account of that email."""
    from django.contrib.auth import get_user_model

    email = email.strip().lower()
    User = get_user_model()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, name=name, language=language)
    client, created = Client.objects.get_or_create(
        workspace=workspace, email=email,
        defaults={"user": user, "name": name or email, "phone": phone, "language": language,
                  "time_zone": time_zone or workspace.time_zone},
    )
    if not created:
        changed = []
        for field, value in (("name", name), ("phone", phone)):
            if value and getattr(client, field) != value:
                setattr(client, field, value)
                changed.append(field)
        if client.user_id is None:
            client.user = user
            changed.append("user")
        if changed:
            client.save(update_fields=[*changed, "updated_at"])
    return client


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def apikey_create(*, workspace: Workspace, name: str, role: str = Role.ADMIN, created_by=None) -> tuple[ApiKey, str]:
    """Issue a key; returns it and the plain key, which is never stored and so shown only once."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the key a name so you know later what uses it.", field="name")
    if role not in dict(ApiKey.KEY_ROLES):
        raise ValidationError(f"Unknown access level {role!r}.", field="role")
    prefix = secrets.token_hex(6)
    raw = f"jasa_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(workspace=workspace, name=name[:100], prefix=prefix, hashed_key=_hash_key(raw),
                                role=role, created_by=created_by)
    audit.record(key, "api_key.created", after={"name": key.name, "role": role, "prefix": prefix})
    return key, raw


@transaction.atomic
def apikey_revoke(*, key: ApiKey) -> ApiKey:
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at", "updated_at"])
        audit.record(key, "api_key.revoked", before={"active": True}, after={"active": False})
    return key


def apikey_authenticate(raw: str) -> ApiKey | None:
    """The active key for a presented token, or None. Compares hashes in constant time."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "jasa":
        return None
    key = ApiKey.objects.select_related("workspace").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.hashed_key, _hash_key(raw)):
        return None
    now = clock.now()
    if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=5):
        # Coarse "last used" so a busy integration does not write on every request.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
