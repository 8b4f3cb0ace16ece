"""Choose the Huey backend from JASA_QUEUE_URL, so deployments change queues without code.

- ``sqlite:///path``   -> SqliteHuey (the embedded default)
- ``redis://host/db``  -> RedisHuey
- ``postgres://...``   -> PostgresHuey (jasa.core.pgqueue)
"""

from __future__ import annotations

from urllib.parse import urlparse

from huey import Huey, RedisHuey, SqliteHuey


def huey_from_url(url: str, *, immediate: bool = False, name: str = "jasa") -> Huey:
    scheme = urlparse(url).scheme
    common = {"name": name, "immediate": immediate, "utc": True, "results": True}
    if scheme == "sqlite":
        path = url.split("sqlite:///", 1)[1]
        return SqliteHuey(filename=path, **common)
    if scheme in {"redis", "rediss"}:
        return RedisHuey(url=url, **common)
    if scheme in {"postgres", "postgresql"}:
        from jasa.core.pgqueue import PostgresHuey

        return PostgresHuey(dsn=url, **common)
    raise ValueError(f"JASA_QUEUE_URL has an unknown scheme {scheme!r}; use sqlite://, redis:// or postgres://")
