"""Gateway credentials at rest: Fernet with a key from JASA_ENCRYPTION_KEY, else derived from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    secret = getattr(settings, "JASA_ENCRYPTION_KEY", None) or settings.SECRET_KEY
    try:
        return Fernet(secret.encode() if isinstance(secret, str) else secret)
    except (ValueError, TypeError):
        # Any other string: derive a 32-byte key so operators may set a passphrase.
        digest = hashlib.sha256(b"jasa-credentials:" + secret.encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_json(values: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, str]:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ValueError(
            "gateway credentials cannot be decrypted: JASA_ENCRYPTION_KEY (or SECRET_KEY) changed; enter them again"
        )
