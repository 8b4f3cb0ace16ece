"""JASA_QUEUE_URL picks the backend; each one really carries a task to a real `jasa worker` process."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from django.conf import settings
from huey import RedisHuey, SqliteHuey

from jasa.core.pgqueue import PostgresHuey, PostgresStorage
from jasa.core.queue import huey_from_url
from tests.core.procs import child_env, database_url_for_children, run_python, started

ENQUEUE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jasa.settings")
import django
django.setup()
from jasa.core.tasks import ping
result = ping(sys.argv[1])
print(json.dumps({"result": result.get(blocking=True, timeout=60), "pid": os.getpid()}))
"""


def _round_trip(tmp_path, queue_url: str | None) -> None:
    env = child_env(JASA_DATA_DIR=str(tmp_path), DATABASE_URL=None, REDIS_URL=None, JASA_QUEUE_URL=queue_url,
                    LOG_LEVEL="WARNING")
    token = uuid.uuid4().hex
    worker = ["-m", "jasa.cli", "worker", "--no-periodic", "--workers", "1"]
    with started(worker, env, tmp_path / "worker.log") as proc:
        done = run_python(["-c", ENQUEUE, token], env, timeout=90)
        log = (tmp_path / "worker.log").read_text()
        assert done.returncode == 0, done.stderr + log
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        assert answer["result"]["token"] == token
        assert answer["result"]["pid"] == proc.pid != answer["pid"]  # the worker ran it, not the enqueuer


def _redis_url() -> str:
    url = settings.JASA_QUEUE_URL if settings.JASA_QUEUE_URL.startswith("redis") else None
    return url or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def test_urls_pick_the_backend(tmp_path):
    assert isinstance(huey_from_url(f"sqlite:///{tmp_path}/q.db"), SqliteHuey)
    assert isinstance(huey_from_url("redis://127.0.0.1:6379/3"), RedisHuey)
    pg = huey_from_url("postgres://nobody@127.0.0.1:1/none?name=other")  # no connection until first use
    assert isinstance(pg, PostgresHuey) and isinstance(pg.storage, PostgresStorage)
    assert pg.name == "other" and pg.storage.dsn == "postgres://nobody@127.0.0.1:1/none"
    with pytest.raises(ValueError):
        huey_from_url("amqp://127.0.0.1/")


def test_sqlite_queue_runs_in_a_worker_process(tmp_path):
    _round_trip(tmp_path, None)  # the embedded default: SQLite in JASA_DATA_DIR
    assert (tmp_path / "queue.sqlite3").exists()


@pytest.mark.postgres
def test_redis_queue_runs_in_a_worker_process(tmp_path):
    name = f"jasa-test-{uuid.uuid4().hex[:8]}"
    url = f"{_redis_url()}?name={name}"
    try:
        _round_trip(tmp_path, url)
    finally:
        huey_from_url(url).storage.flush_all()


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_postgres_queue_runs_in_a_worker_process(tmp_path):
    name = f"jasa-test-{uuid.uuid4().hex[:8]}"
    url = f"{database_url_for_children()}?name={name}"
    _round_trip(tmp_path, url)
    storage = huey_from_url(url).storage
    assert storage.queue_size() == 0  # consumed: the row was deleted by the SKIP LOCKED dequeue


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_postgres_storage_contract():
    """Every storage method huey's consumer and result handles use, on the real database."""
    import datetime as dt

    huey = huey_from_url(f"{database_url_for_children()}?name=contract-{uuid.uuid4().hex[:8]}")
    s = huey.storage
    s.enqueue(b"a")
    s.enqueue(b"b", priority=5)
    assert s.queue_size() == 2 and s.enqueued_items() == [b"b", b"a"]
    assert s.dequeue() == b"b" and s.dequeue() == b"a"
    s.blocking = False
    assert s.dequeue() is None
    now = dt.datetime.now(dt.UTC)
    s.add_to_schedule(b"later", now + dt.timedelta(hours=1))
    s.add_to_schedule(b"due", now - dt.timedelta(seconds=1))
    assert s.schedule_size() == 2 and s.scheduled_items() == [b"due", b"later"]
    assert s.read_schedule(now) == [b"due"] and s.schedule_size() == 1
    s.put_data("k", b"v")
    assert s.peek_data("k") == b"v" and s.has_data_for_key("k")
    assert s.put_if_empty("k", b"x") is False and s.put_if_empty("k2", b"y") is True
    assert s.result_store_size() == 2 and s.result_items() == {"k": b"v", "k2": b"y"}
    assert s.peek_many(["k", "k2", "none"]) == {"k": b"v", "k2": b"y"}
    assert s.pop_data("k") == b"v" and not s.has_data_for_key("k")
    s.delete_data("k2")
    assert not s.has_data_for_key("k2")
    assert s.incr("c") == 1 and s.incr("c", 2) == 3
    s.delete_counter("c")
    assert s.incr("c") == 1
    s.flush_all()
    assert s.queue_size() == s.schedule_size() == s.result_store_size() == 0
