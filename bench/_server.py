"""Shared by the HTTP benchmarks: wait until the gunicorn under test accepts connections."""

from __future__ import annotations

import socket
import subprocess
import time


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def server_env(*, database_url: str, queue_url: str, redis_url: str, data_dir: str) -> dict[str, str]:
    """The environment of the gunicorn under test: production-like (no debug), the bench-only
    trivial view mounted (JASA_BENCH), a fixed development secret."""
    import os

    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "JASA_QUEUE_URL": queue_url,
        "REDIS_URL": redis_url,
        "JASA_BENCH": "1",
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
        "JASA_DATA_DIR": data_dir,
        "SECRET_KEY": env.get("SECRET_KEY", "bench-secret-key-not-for-production-0123456789"),
        "DJANGO_SETTINGS_MODULE": "jasa.settings",
    })
    env.pop("JASA_TESTING", None)
    return env


def ensure_database(database_url: str) -> None:
    """Create the PostgreSQL database of ``database_url`` when it does not exist yet."""
    import psycopg

    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
