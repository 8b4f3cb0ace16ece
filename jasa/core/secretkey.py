"""The development SECRET_KEY: generated once per data dir and shared by every process there."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def ensure_secret_key(data_dir: Path) -> str:
    """Read the data dir's key, creating it first if needed.

    Several processes may start at once on a fresh data dir (gunicorn workers and the queue
    worker): each writes a candidate to a private temp file and links it into place, which only
    one can do, so every process ends up reading the same key — never a half-written file.
    """
    path = data_dir / "secret_key"
    if not path.exists():
        tmp = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        tmp.write_text(secrets.token_urlsafe(50))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
