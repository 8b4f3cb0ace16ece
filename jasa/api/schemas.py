"""What the API's routers share: ``In``, the base of input schemas, ``Aware`` times, and ``ErrorOut``.

OpenAPI names a schema by its class name, so a name is used once across all routers (else one
router's schema silently stands for the other's): shared shapes live here.

PostgreSQL refuses a NUL character (U+0000) in any text column or JSON value, so a string holding one
would reach the database and fail there as a 500. ``In`` refuses it up front as a 422 naming the field,
in every string of the body, also inside lists and free-form dicts (a booking's answers).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, field_validator


def has_nul(value: Any) -> bool:
    """Whether ``value`` (a string, or lists / dicts of them, keys included) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(v) for v in value)
    return False


class In(Schema):
    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # nested schemas are In too and have checked their own fields already
        if has_nul(value):
            raise ValueError(_("Remove the NUL character (\\u0000) from this text."))
        return value


def _aware(value: dt.datetime) -> dt.datetime:
    if value.utcoffset() is None:
        raise ValueError(_("Give the time with its UTC offset, e.g. 2026-12-07T09:00:00+07:00."))
    return value


# A time a caller sends: it must carry its UTC offset, or nobody knows which 09:00 is meant.
Aware = Annotated[dt.datetime, AfterValidator(_aware)]


class FieldError(Schema):
    field: str  # dotted path in the body ("lines.0.amount.amount"), a query parameter, or a header
    message: str


class ErrorOut(Schema):
    """Every error answer: ``detail`` for people, ``code`` for programs, ``errors`` naming the fields at fault."""

    detail: str
    code: str = "error"
    errors: list[FieldError] = []
