"""/healthz and the worker heartbeat it depends on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from jasa.core import clock, heartbeat

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls_healthz")]


@pytest.fixture(autouse=True)
def _no_heartbeat():
    cache.delete_many([heartbeat.KEY, heartbeat.PERIODIC_KEY])
    yield
    cache.delete_many([heartbeat.KEY, heartbeat.PERIODIC_KEY])


def test_all_ok_with_a_fresh_heartbeat(client, frozen_clock):
    heartbeat.beat(periodic=True)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("database", "queue", "migrations", "cache", "sweep")} == dict.fromkeys(
        ("database", "queue", "migrations", "cache", "sweep"), "ok"
    )
    assert body["failing"] == []
    assert response["Cache-Control"].startswith("max-age=0")


def test_no_worker_is_503_naming_the_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["queue"] == "no worker heartbeat"
    assert set(body["failing"]) == {"queue", "sweep"}
    assert body["database"] == "ok"


def test_a_stale_heartbeat_is_503(client, frozen_clock):
    heartbeat.beat(periodic=True)
    clock.advance(dt.timedelta(seconds=119))
    assert client.get("/healthz").status_code == 200
    clock.advance(dt.timedelta(seconds=2))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["queue"] == "worker heartbeat 121 s old"


def test_workers_without_the_periodic_sweep_are_named(client, frozen_clock):
    heartbeat.beat(periodic=False)
    body = client.get("/healthz").json()
    assert body["queue"] == "ok"
    assert body["failing"] == ["sweep"] and body["sweep"] == "no periodic worker heartbeat"


def test_a_broken_cache_is_named_not_a_500(client, settings, frozen_clock):
    heartbeat.beat(periodic=True)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["cache"].startswith("error:")


def test_pending_migrations_are_named(client, monkeypatch, frozen_clock):
    from jasa.core import views

    heartbeat.beat(periodic=True)
    monkeypatch.setattr(views, "_migrations_ok", False)
    monkeypatch.setattr(views.MigrationExecutor, "migration_plan", lambda self, targets: [("m", False)])
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending: 1"


def test_heartbeat_thread_beats_again_survives_errors_and_stops(monkeypatch):
    # the thread's real cache writes are proven end to end by tests/test_cli.py (jasa serve -> /healthz ok)
    import threading
    import time

    beats: list[bool] = []
    enough = threading.Event()

    def fake_beat(*, periodic: bool) -> None:
        beats.append(periodic)
        if len(beats) == 2:
            raise ConnectionError("cache down for a moment")
        if len(beats) >= 4:
            enough.set()

    monkeypatch.setattr(heartbeat, "beat", fake_beat)
    stop = heartbeat.start(periodic=True, interval=0.01)
    assert enough.wait(5)
    stop.set()
    time.sleep(0.05)
    count = len(beats)
    time.sleep(0.05)
    assert len(beats) == count and all(beats)


def test_says_who_queues_stored_webhooks_without_failing_on_it(client, settings):
    from jasa.payments import inbox

    inbox.forget_pump_state()
    body = client.get("/healthz").json()
    expected = ("no webhook pump connected: each webhook request queues its re-read (start jasa worker)"
                if settings.IS_POSTGRES else "queued by each webhook request")
    assert body["webhooks"] == expected and "webhooks" not in body["failing"]
