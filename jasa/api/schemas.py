"""What request bodies of the API share: ``In``, the base of input schemas, and ``Aware`` times.

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

