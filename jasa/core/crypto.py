"""Secrets at rest (gateway credentials, calendar tokens): Fernet, one key for the instance.

The key is ``JASA_ENCRYPTION_KEY`` — a Fernet key, or any passphrase, which is hashed into one —
else derived from ``SECRET_KEY``. A deployment that rotates SECRET_KEY must set
JASA_ENCRYPTION_KEY first, or stored secrets can no longer be read.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    raw = getattr(settings, "JASA_ENCRYPTION_KEY", None)
    if raw:
        try:
            return Fernet(raw.encode() if isinstance(raw, str) else raw)
        except (ValueError, TypeError):
            material = raw.encode() if isinstance(raw, str) else raw
    else:
        material = f"jasa-encryption:{settings.SECRET_KEY}".encode()
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material).digest()))


def encrypt_json(value: dict[str, Any]) -> str:
    """Encrypt a small JSON object; an empty one is stored as ''."""
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode() if value else ""


def decrypt_json(token: str, *, what: str = "stored credentials") -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ValueError(
            f"{what} cannot be decrypted: JASA_ENCRYPTION_KEY (or SECRET_KEY) changed; enter them again"
        ) from None
