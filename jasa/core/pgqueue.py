"""Huey on PostgreSQL (psycopg 3): the distributed queue for deployments that have no Redis.

huey 3.5 ships a PostgreSQL storage that already does what jasa needs (dequeue with
``DELETE ... WHERE id = (SELECT id ... FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING data``,
LISTEN/NOTIFY wake-ups, schedule, result store and counters), so jasa reuses it rather than
keeping a copy. What jasa changes: the tables are created on first use, not when the
settings module builds the Huey object (``jasa manage ...`` must not connect to the queue
database), and concurrent first uses by several processes are serialised by an advisory
lock so two ``CREATE TABLE IF NOT EXISTS`` never race.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from huey import Huey
from huey.storage import PostgresStorage as _HueyPostgresStorage

# any constant: the advisory lock that guards the one-time table creation
_SCHEMA_LOCK_ID = 0x6A617361  # "jasa"


class PostgresStorage(_HueyPostgresStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["create_tables"] = False
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            conn = self._connect()
            try:
                with conn.transaction():
                    conn.execute("select pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_ID,))
                    for statement in self.ddl:
                        conn.execute(statement)
            finally:
                conn.close()
            self._schema_ready = True

    @contextlib.contextmanager
    def db(self, commit: bool = False, close: bool = False) -> Iterator[Any]:
        self._ensure_schema()
        with super().db(commit=commit, close=close) as cursor:
            yield cursor

    def initialize_schema(self) -> None:
        self._ensure_schema()


class PostgresHuey(Huey):
    storage_class = PostgresStorage
