"""Write to the audit log. Services call :func:`record` for every state change."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

from django.db import models

from jasa.core.models import AuditEntry


@dataclass
class Actor:
    user: Any = None
    label: str = "system"
    ip: str | None = None


_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("jasa_actor", default=None)


def set_actor(actor: Actor | None) -> contextvars.Token:
    return _current.set(actor)


def reset_actor(token: contextvars.Token) -> None:
    _current.reset(token)


def current_actor() -> Actor:
    return _current.get() or Actor()


def record(
    obj: models.Model,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    workspace: Any = None,
    actor: Actor | None = None,
) -> AuditEntry:
    who = actor or current_actor()
    if workspace is None:
        workspace = getattr(obj, "workspace", None)
        if workspace is None and obj.__class__.__name__ == "Workspace":
            workspace = obj
    user = who.user if getattr(who.user, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        workspace=workspace,
        actor=user,
        actor_label=who.label if user is None else (user.email or who.label),
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        action=action,
        before=_jsonable(before),
        after=_jsonable(after),
        ip=who.ip,
    )


def for_object(obj: models.Model):
    return AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, str | int | bool | type(None) | list | dict):
            out[k] = v
        elif hasattr(v, "to_json"):
            out[k] = v.to_json()
        else:
            out[k] = str(v)
    return out
