"""No double booking under real concurrency: many processes try to hold the same slots at the same moment.

PostgreSQL: worker processes against the test database (the exclusion constraint and the per-staff row
lock decide). SQLite: worker processes against a file copy of the test database (IMMEDIATE transactions
serialize writers; the hold re-checks inside its transaction). Either way: exactly one hold per slot,
every other attempt a Conflict (409 in the API), and no other error.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from jasa.bookings.models import BLOCKING, Booking
from tests.bookings import race_worker

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 6
SLOTS = 4


def _env(database_url: str, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update({
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "jasa.settings",
        "JASA_DATA_DIR": str(tmp_path / "data"),
        "JASA_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    })
    env.pop("REDIS_URL", None)
    return env


def _race(env: dict, seeded: dict, tmp_path: Path) -> list[dict]:
    ready = tmp_path / "ready"
    ready.mkdir()
    procs = []
    for w in range(WORKERS):
        attempts = list(seeded["slots"])
        random.Random(w).shuffle(attempts)
        spec = {"offer": seeded["offer"], "attempts": attempts, "worker": w, "workers": WORKERS,
                "ready_dir": str(ready)}
        procs.append(subprocess.Popen([sys.executable, "-m", "tests.bookings.race_worker", json.dumps(spec)],
                                      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _check(results: list[dict], seeded: dict) -> list[str]:
    errors = [e for r in results for e in r["errors"]]
    assert not errors, errors
    won = [slot for r in results for _id, slot in r["ok"]]
    assert Counter(won) == Counter(seeded["slots"]), won  # exactly one winner per slot
    assert sum(r["conflict"] for r in results) == WORKERS * SLOTS - SLOTS
    return [booking_id for r in results for booking_id, _slot in r["ok"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_processes_racing_on_postgresql_get_one_hold_per_slot(tmp_path):
    seeded = race_worker.seed("race-pg", SLOTS)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = url.replace("@", f":{db['PASSWORD']}@", 1)
    ids = _check(_race(_env(url, tmp_path), seeded, tmp_path), seeded)
    assert Booking.objects.filter(pk__in=ids, status__in=BLOCKING).count() == SLOTS
    assert Booking.objects.filter(offer_id=seeded["offer"]).count() == SLOTS


@pytest.mark.django_db(transaction=True)
def test_processes_racing_on_sqlite_get_one_hold_per_slot(tmp_path):
    path = tmp_path / "race.sqlite3"
    env = _env(f"sqlite:///{path}", tmp_path)
    if connection.vendor == "sqlite":
        # a file copy of the migrated test database, seeded here: the workers open it as their database
        seeded = race_worker.seed("race-sqlite", SLOTS)
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
    else:  # the PostgreSQL pass of CI: build the SQLite database the slow way
        subprocess.run([sys.executable, "-m", "django", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
        out = subprocess.run([sys.executable, "-m", "tests.bookings.race_worker",
                              json.dumps({"seed": "race-sqlite", "n_slots": SLOTS})],
                             cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120)
        seeded = json.loads(out.stdout.strip().splitlines()[-1])
    _check(_race(env, seeded, tmp_path), seeded)
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT start_at, COUNT(*) FROM bookings_booking WHERE status IN (?, ?) GROUP BY start_at",
                          BLOCKING).fetchall()
    assert len(rows) == SLOTS and all(n == 1 for _start, n in rows)
    assert settings.IS_SQLITE or settings.IS_POSTGRES


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_itself_refuses_overlapping_holds(hold):
    """Bypassing the services: the exclusion constraint alone rejects an overlapping hold of the same staff."""
    import datetime as dt

    from django.db import IntegrityError, transaction

    booking = hold()

    def clone(shift_minutes: int, status: str = "awaiting_deposit") -> Booking:
        shift = dt.timedelta(minutes=shift_minutes)
        return Booking(workspace=booking.workspace, offer=booking.offer, staff=booking.staff, client=booking.client,
                       start_at=booking.start_at + shift, end_at=booking.end_at + shift,
                       block_start=booking.block_start + shift, block_end=booking.block_end + shift, status=status)

    with pytest.raises(IntegrityError), transaction.atomic():
        clone(30).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        clone(0, status="confirmed").save()
    clone(60).save()  # back to back is fine: ranges are [start, end)
    clone(0, status="cancelled").save()  # a cancelled or expired booking occupies nothing
    clone(0, status="expired").save()
