"""The webhook pump on PostgreSQL: the insert announces stored events, one pump hands them to the
queue, the web side pushes the task itself only while no pump is connected, and nothing is lost
when a notification is (jasa/payments/inbox.py, ADR 0008)."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from jasa.payments import inbox, services
from jasa.payments.gateways.sandbox import SandboxGateway
from jasa.payments.models import WebhookEvent
from jasa.sandbox.webhooks import signed_notification
from tests.core.procs import child_env, database_url_for_children, started

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="LISTEN/NOTIFY needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),  # the pump sees only committed rows
]


def _post(client, event_id: str | None = None):
    """A correctly signed sandbox notification for a payment jasa does not know (processing ignores it)."""
    gateway = SandboxGateway({})
    event_id = event_id or f"evt_{uuid.uuid4().hex}"
    headers, body = signed_notification(
        secret=gateway.secret_key, merchant_id=gateway.merchant_id, event_id=event_id,
        event_type="payment.updated", sent_at=int(time.time()),
        data={"reference": str(uuid.uuid4()), "status": "paid", "gross_amount": 150000})
    response = client.post("/webhooks/sandbox", data=body, content_type="application/json",
                           headers={k: v for k, v in headers.items() if k != "Content-Type"})
    assert response.status_code == 200, response.content
    return WebhookEvent.objects.get(gateway="sandbox", event_id=event_id)


def _wait_state(event: WebhookEvent, timeout: float = 15) -> str:
    end = time.time() + timeout
    while time.time() < end:
        event.refresh_from_db()
        if event.state != WebhookEvent.RECEIVED:
            return event.state
        time.sleep(0.05)
    return event.state


@pytest.fixture
def pushes(monkeypatch):
    """The queue pushes the web side makes itself (the fallback when no pump is connected)."""
    made: list[int] = []
    monkeypatch.setattr(services, "_enqueue_webhook", made.append)
    inbox.forget_pump_state()
    yield made
    inbox.forget_pump_state()


@pytest.fixture
def pump():
    """Start in-process pumps; each is stopped (and its connection closed) at the end."""
    running: list[tuple[threading.Event, threading.Event]] = []

    def start(**kwargs) -> threading.Event:
        active = threading.Event()
        stop = inbox.start_pump_thread(on_active=active.set, poll_seconds=0.1, retry_seconds=0.2, **kwargs)
        running.append((stop, active))
        return active

    yield start
    for stop, _ in running:
        stop.set()
    time.sleep(0.5)
    inbox.forget_pump_state()


def test_the_insert_announces_each_stored_event_once(client, pushes):
    with psycopg.connect(database_url_for_children(), autocommit=True) as listener:
        listener.execute(f"LISTEN {inbox.CHANNEL}")
        first = _post(client, "evt-once")
        again = _post(client, "evt-once")  # a duplicate: stored already, not announced again
        heard = [int(n.payload) for n in listener.notifies(timeout=1.0)]
    assert first.pk == again.pk
    assert heard == [first.pk]


def test_without_a_pump_the_web_side_pushes_the_task(client, pushes):
    assert inbox.pump_alive() is False
    event = _post(client)
    assert pushes == [event.pk]


def test_with_a_pump_the_pump_hands_the_event_to_the_queue(client, pushes, pump):
    assert pump().wait(10), "the pump did not become active"
    assert inbox.pump_alive() is True and inbox.describe() == "webhook pump connected"  # as /healthz says
    event = _post(client)
    # the queue is in immediate mode in tests: the pump's push runs the re-read at once
    assert _wait_state(event) == WebhookEvent.IGNORED  # no payment with that reference
    assert pushes == []  # the request made no queue push of its own


def test_a_starting_pump_catches_up_on_events_whose_push_was_lost(client, pushes, pump):
    lost = _post(client)  # no pump yet: the web side's push is recorded by the fixture, never sent
    assert pushes == [lost.pk] and _wait_state(lost, timeout=0.3) == WebhookEvent.RECEIVED
    assert pump().wait(10)
    assert _wait_state(lost) == WebhookEvent.IGNORED


def test_only_one_pump_is_active_and_a_standby_takes_over(client, pushes, pump):
    first = pump()
    assert first.wait(10)
    second = pump()
    assert not second.wait(1.0), "two pumps active at once would enqueue every event twice"
    # the active pump's database session ends (a crash, a deploy): the standby takes over
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND application_name = %s", [inbox.APP_NAME])
    assert second.wait(10), "the standby did not take over"
    inbox.forget_pump_state()
    event = _post(client)
    assert _wait_state(event) == WebhookEvent.IGNORED and pushes == []


def test_a_jasa_worker_runs_the_pump_and_processes_stored_events(client, pushes, tmp_path):
    """End to end across processes: the request stores; the worker's pump enqueues; its consumer
    re-reads. The request itself pushes nothing."""
    db = database_url_for_children()
    env = child_env(JASA_DATA_DIR=str(tmp_path), DATABASE_URL=db, JASA_QUEUE_URL=f"{db}?name=pump-e2e",
                    LOG_LEVEL="WARNING")
    with started(["-m", "jasa.cli", "worker", "--no-periodic", "--workers", "1"], env, tmp_path / "worker.log"):
        end = time.time() + 60
        while time.time() < end and not inbox.pump_alive():
            inbox.forget_pump_state()
            time.sleep(0.2)
        assert inbox.pump_alive(), (tmp_path / "worker.log").read_text()
        events = [_post(client) for _ in range(5)]
        assert [_wait_state(e, timeout=30) for e in events] == [WebhookEvent.IGNORED] * 5, \
            (tmp_path / "worker.log").read_text()
    assert pushes == []
