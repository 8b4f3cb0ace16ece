"""Across real processes on PostgreSQL: several processes ask for the same reminder at once, a real
`jasa worker` delivers through the real queue, and exactly one mail arrives."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings

from jasa.notifications.models import OutboxMessage
from tests.core.procs import ROOT, child_env, database_url_for_children, started

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="process races need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_same_reminder_from_three_processes_is_one_mail(tmp_path, smtp_server, workspace):
    db = database_url_for_children()
    env = child_env(
        JASA_DATA_DIR=str(tmp_path), DATABASE_URL=db, JASA_QUEUE_URL=f"{db}?name=t-{uuid.uuid4().hex[:8]}",
        EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(settings.EMAIL_PORT), LOG_LEVEL="WARNING",
    )
    key = f"booking:{uuid.uuid4()}:reminder:24h"
    worker = ["-m", "jasa.cli", "worker", "--no-periodic", "--workers", "2"]
    with started(worker, env, tmp_path / "worker.log"):
        start_at = str(time.time() + 6)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.notifications.notifier", "--workspace", str(workspace.pk),
                 "--to", "sari@example.test", "--key", key, "--start-at", start_at],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for _ in range(3)
        ]
        ids = set()
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            ids.add(out.strip().splitlines()[-1])
        [mail] = smtp_server.wait_for("sari@example.test", timeout=60)
        time.sleep(2)  # a second mail would have arrived by now
    assert len(ids) == 1  # every caller got the same outbox row
    assert len(smtp_server.to("sari@example.test")) == 1
    assert mail["Subject"] == f"Test message from {workspace.name}"
    message = OutboxMessage.objects.get(dedupe_key=key)
    assert message.status == OutboxMessage.SENT and message.attempts == 1
