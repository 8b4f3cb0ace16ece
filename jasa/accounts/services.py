"""Every write about accounts and workspaces."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _

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
from jasa.core.errors import Conflict, PermissionDenied, ValidationError

INVITATION_VALID_FOR = dt.timedelta(days=7)


@transaction.atomic
def workspace_create(*, owner, name: str, slug: str, time_zone: str = "Asia/Jakarta", currency: str = "IDR",
                     **fields) -> Workspace:
    slug = slug.strip().lower()
    if slug in RESERVED_SLUGS:
        raise ValidationError(_("This address is reserved; choose another."), field="slug")
    if Workspace.objects.filter(slug=slug).exists():
        raise Conflict(_("This address is taken; choose another."), field="slug")
    ws = Workspace(name=name, slug=slug, time_zone=time_zone, currency=currency,
                   languages=fields.pop("languages", ["id", "en"]), **fields)
    ws.full_clean()
    ws.save()
    membership = Membership.objects.create(workspace=ws, user=owner, role=Role.OWNER)
    StaffProfile.objects.create(workspace=ws, membership=membership,
                                display_name=owner.name or owner.email.split("@")[0], time_zone=time_zone)
    audit.record(ws, "workspace.created", after={"name": name, "slug": slug})
    return ws


WORKSPACE_FIELDS = (
    "name", "logo", "brand_colour", "time_zone", "currency", "languages", "legal_name", "address", "npwp",
    "email", "phone", "refund_policy_id", "refund_policy_en", "terms_id", "terms_en", "refund_transfer_days",
)
PROFILE_FIELDS = (
    "display_name", "photo", "headline", "bio_id", "bio_en", "years_experience", "certifications", "languages",
    "time_zone", "is_public",
)


def _snapshot(obj, fields) -> dict:
    # Files are recorded by their stored name, not as file objects.
    return {f: (v.name if isinstance(v := getattr(obj, f), FieldFile) else v) for f in fields}


def _apply(obj, fields: dict, allowed) -> tuple[dict, dict]:
    """Set allowed fields, validate, and return (before, after) of what changed."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    before = _snapshot(obj, fields)
    for name, value in fields.items():
        setattr(obj, name, value)
    try:
        obj.full_clean()
    except DjangoValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ValidationError(f"{field}: {' '.join(messages)}", field=field)
    after = _snapshot(obj, fields)
    changed = [f for f in fields if before[f] != after[f]]
    return {f: before[f] for f in changed}, {f: after[f] for f in changed}


def _clean_languages(languages) -> list[str]:
    allowed = [code for code, _ in settings.LANGUAGES]
    result = [code for code in allowed if code in (languages or [])]
    if not result:
        raise ValidationError(_("Choose at least one language."), field="languages")
    return result


@transaction.atomic
def workspace_update(*, workspace: Workspace, **fields) -> Workspace:
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if "languages" in fields:
        fields["languages"] = _clean_languages(fields["languages"])
    if "name" in fields and not (fields["name"] or "").strip():
        raise ValidationError(_("The business needs a name."), field="name")
    before, after = _apply(workspace, fields, WORKSPACE_FIELDS)
    workspace.save()
    if after:
        audit.record(workspace, "workspace.updated", before=before, after=after)
    return workspace


@transaction.atomic
def staff_profile_update(*, profile: StaffProfile, **fields) -> StaffProfile:
    profile = StaffProfile.objects.select_for_update().get(pk=profile.pk)
    if "certifications" in fields:
        fields["certifications"] = [c.strip() for c in fields["certifications"] if c and c.strip()][:20]
    if "languages" in fields:
        fields["languages"] = [c.strip().lower() for c in fields["languages"] if c and c.strip()][:10]
    before, after = _apply(profile, fields, PROFILE_FIELDS)
    profile.save()
    if after:
        audit.record(profile, "staff_profile.updated", before=before, after=after)
    return profile


@transaction.atomic
def invitation_create(*, workspace: Workspace, email: str, role: str, invited_by,
                      language: str | None = None) -> Invitation:
    """Invite a person by email; the mail carries the accept link /invite/<token>/."""
    if role not in Role.values:
        raise ValidationError(_("Unknown role %(role)r.") % {"role": role}, field="role")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError(_("Enter a valid email address."), field="email")
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email, is_active=True).exists():
        raise Conflict(_("This person is already on the team."), field="email")
    inviter = Membership.objects.filter(workspace=workspace, user=invited_by, is_active=True).first()
    if role == Role.OWNER and (inviter is None or inviter.role != Role.OWNER):
        raise PermissionDenied(_("Only an owner can invite another owner."), field="role")
    # A new invitation replaces any open one for the same address.
    Invitation.objects.filter(workspace=workspace, email=email, accepted_at__isnull=True).update(
        expires_at=clock.now()
    )
    invitation = Invitation.objects.create(
        workspace=workspace, email=email, role=role, invited_by=invited_by,
        expires_at=clock.now() + INVITATION_VALID_FOR,
    )
    audit.record(invitation, "invitation.created", after={"email": email, "role": role})
    from jasa.accounts.mail import send_invitation

    language = language if language in dict(settings.LANGUAGES) else (workspace.languages or ["id"])[0]
    send_invitation(invitation, language=language)
    return invitation


@transaction.atomic
def invitation_cancel(*, invitation: Invitation) -> Invitation:
    """Withdraw an open invitation: its link stops working at once."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation was already accepted; deactivate the member instead."))
    if invitation.is_open:
        before = {"expires_at": invitation.expires_at}
        invitation.expires_at = clock.now()
        invitation.save(update_fields=["expires_at", "updated_at"])
        audit.record(invitation, "invitation.canceled", before=before, after={"expires_at": invitation.expires_at})
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> Membership:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise Conflict(_("This invitation has expired or was already used. Ask for a new one."))
    if not _user_has_email(user, invitation.email):
        raise PermissionDenied(
            _("This invitation was sent to %(email)s. Log in with that address to accept it.")
            % {"email": invitation.email}
        )
    existing = Membership.objects.filter(workspace=invitation.workspace, user=user).first()
    before = {"role": existing.role, "is_active": existing.is_active} if existing else None
    membership, _created = Membership.objects.update_or_create(
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
    audit.record(membership, "membership.joined", before=before,
                 after={"role": membership.role, "is_active": True, "email": user.email})
    return membership


def _user_has_email(user, email: str) -> bool:
    from allauth.account.models import EmailAddress

    email = email.lower()
    if (user.email or "").lower() == email:
        return True
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


def _active_owners(workspace: Workspace) -> int:
    return Membership.objects.filter(workspace=workspace, role=Role.OWNER, is_active=True).count()


def _check_may_change(membership: Membership, by) -> None:
    """Only an owner may change an owner; nobody may leave the workspace without an owner."""
    actor = Membership.objects.filter(workspace=membership.workspace, user=by, is_active=True).first()
    if membership.role == Role.OWNER and (actor is None or actor.role != Role.OWNER):
        raise PermissionDenied(_("Only an owner can change another owner."))


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, by) -> Membership:
    if role not in Role.values:
        raise ValidationError(_("Unknown role %(role)r.") % {"role": role}, field="role")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _check_may_change(membership, by)
    actor = Membership.objects.filter(workspace=membership.workspace, user=by, is_active=True).first()
    if role == Role.OWNER and (actor is None or actor.role != Role.OWNER):
        raise PermissionDenied(_("Only an owner can make someone an owner."), field="role")
    if membership.role == role:
        return membership
    if membership.role == Role.OWNER and _active_owners(membership.workspace) <= 1:
        raise Conflict(_("A business needs at least one owner. Make someone else owner first."), field="role")
    before = {"role": membership.role}
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit.record(membership, "membership.role_changed", before=before, after={"role": role})
    return membership


@transaction.atomic
def membership_deactivate(*, membership: Membership, by) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _check_may_change(membership, by)
    if not membership.is_active:
        return membership
    if membership.role == Role.OWNER and _active_owners(membership.workspace) <= 1:
        raise Conflict(_("A business needs at least one owner. Make someone else owner first."))
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    audit.record(membership, "membership.deactivated", before={"is_active": True}, after={"is_active": False})
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
        raise ValidationError(_("Give the key a name so you know later what uses it."), field="name")
    if role not in dict(ApiKey.KEY_ROLES):
        raise ValidationError(_("Unknown access level %(role)r.") % {"role": role}, field="role")
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
