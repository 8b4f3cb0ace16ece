"""API authentication and the one permission check every router uses.

``api_auth`` goes into ``auth=`` of a router or operation: the browser's session (Ninja
checks CSRF on unsafe methods) or a workspace API key as ``Authorization: Bearer jasa_…``.
``require(request, workspace, capability)`` then says whether that caller may do it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from jasa.accounts.models import ApiKey, Membership, Workspace
from jasa.accounts.permissions import KEY_MAY_NOT, NO_SUCH_WORKSPACE, ROLE_MAY_NOT, can
from jasa.accounts.selectors import membership_for, workspace_by_slug
from jasa.core import audit
from jasa.core.errors import NotFound, PermissionDenied

session_auth = django_auth


class ApiKeyAuth(HttpBearer):
    """A workspace API key. The key becomes the audit actor for what the request changes."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        from jasa.accounts.services import apikey_authenticate
        from jasa.core.middleware import client_ip

        key = apikey_authenticate(token)
        if key is not None:
            audit.set_actor(audit.Actor(user=None, label=f"api-key:{key.prefix}", ip=client_ip(request)))
        return key


api_key_auth = ApiKeyAuth()
# Usable as `auth=api_auth`: Ninja tries each in turn.
api_auth: list[Any] = [session_auth, api_key_auth]


def require(request: HttpRequest, workspace: Workspace | None, capability: str) -> Membership | ApiKey:
    """The caller's membership (or API key) in ``workspace`` if it has ``capability``.

    A workspace the caller does not belong to is NotFound, so its existence is not revealed;
    a member without the capability gets PermissionDenied.
    """
    if workspace is None:
        raise NotFound(str(NO_SUCH_WORKSPACE))
    principal = getattr(request, "auth", None)
    if isinstance(principal, ApiKey):
        if principal.workspace_id != workspace.pk or not principal.is_active:
            raise NotFound(str(NO_SUCH_WORKSPACE))
        if capability not in principal.capabilities:
            raise PermissionDenied(str(KEY_MAY_NOT) % {"capability": capability})
        return principal
    membership = membership_for(getattr(request, "user", None), workspace)
    if membership is None:
        raise NotFound(str(NO_SUCH_WORKSPACE))
    if not can(membership, capability):
        raise PermissionDenied(
            str(ROLE_MAY_NOT) % {"role": membership.role, "capability": capability}
        )
    return membership


def require_slug(request: HttpRequest, slug: str, capability: str) -> tuple[Workspace, Membership | ApiKey]:
    """``require`` for a workspace named by its slug in the URL."""
    workspace = workspace_by_slug(slug)
    return workspace, require(request, workspace, capability)  # type: ignore[return-value]
