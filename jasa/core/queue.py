"""Choose the Huey backend from JASA_QUEUE_URL, so deployments change queues without code.

- ``sqlite:///path``        -> SqliteHuey (the embedded default)
- ``redis://host:port/db``  -> RedisHuey
- ``postgres://...``        -> PostgresHuey (jasa.core.pgqueue)

A ``name=`` query parameter names the queue (default "jasa"), so several deployments or
test runs can share one Redis database or PostgreSQL table set without seeing each
other's tasks: ``redis://127.0.0.1:6379/5?name=jasa-staging``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlparse

from huey import Huey, RedisHuey, SqliteHuey


def _split_name(url: str, default: str) -> tuple[str, str]:
    # string surgery, not urlunparse: that turns sqlite:////abs/path into sqlite://abs/path
    base, sep, query = url.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    name = next((value for key, value in pairs if key == "name"), default)
    rest = urlencode([(key, value) for key, value in pairs if key != "name"])
    return base + (f"?{rest}" if rest else ""), name


def huey_from_url(url: str, *, immediate: bool = False, name: str = "jasa") -> Huey:
    url, name = _split_name(url, name)
    scheme = urlparse(url).scheme
    common = {"name": name, "immediate": immediate, "utc": True, "results": True}
    if scheme == "sqlite":
        path = urlparse(url).path
        if not path or path == "/":
            raise ValueError("JASA_QUEUE_URL sqlite:// needs a file: sqlite:////abs/path/queue.sqlite3")
        # sqlite:///rel.db -> "rel.db", sqlite:////abs/q.db -> "/abs/q.db" (as SQLAlchemy/dj-database-url read them)
        return SqliteHuey(filename=path[1:], **common)
    if scheme in {"redis", "rediss"}:
        return RedisHuey(url=url, **common)
    if scheme in {"postgres", "postgresql"}:
        from jasa.core.pgqueue import PostgresHuey

        return PostgresHuey(dsn=url, **common)
    raise ValueError(f"JASA_QUEUE_URL has an unknown scheme {scheme!r}; use sqlite://, redis:// or postgres://")
