"""Encryption of calendar credentials at rest (Fernet).

The key is ``settings.JASA_ENCRYPTION_KEY`` (a Fernet key, or any passphrase, which is hashed
into one); without it the key is derived from ``SECRET_KEY`` — so a deployment that rotates
SECRET_KEY must set JASA_ENCRYPTION_KEY first.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    raw = getattr(settings, "JASA_ENCRYPTION_KEY", None)
    if raw:
        try:
            return Fernet(raw)
        except (ValueError, TypeError):
            pass
    material = (raw or f"jasa-calendars:{settings.SECRET_KEY}").encode()
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material).digest()))


def encrypt_json(value: dict) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode() if value else ""


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise RuntimeError("calendar credentials cannot be decrypted: was the encryption key changed?") from exc
