"""One process of the booking race: waits for the common start time, then tries to hold slots.

Run as ``python -m tests.bookings.race_worker '<json>'`` with DATABASE_URL pointing at a database that
holds the seeded offer (see test_race.py and bench/booking_race.py). Prints one JSON line:
{"ok": [booking ids...], "conflict": n, "errors": ["..."]}.
"""

from __future__ import annotations

import json
import os
import sys
import time


def seed(workspace_slug: str, n_slots: int) -> dict:
    """A workspace with one staff member working every day 00:00–24:00 and a 30-minute offer.

    Returns the offer id and ``n_slots`` consecutive slot starts (ISO) a few days ahead."""
    import datetime as dt

    from django.contrib.auth import get_user_model

    from jasa.accounts.models import Membership, StaffProfile
    from jasa.accounts.services import workspace_create
    from jasa.bookings.models_availability import WorkingHours
    from jasa.catalog.services import offer_create
    from jasa.core import clock

    owner = get_user_model().objects.create_user(email=f"owner@{workspace_slug}.test", password=None)
    ws = workspace_create(owner=owner, name="Race", slug=workspace_slug, time_zone="Asia/Jakarta")
    staff_user = get_user_model().objects.create_user(email=f"staff@{workspace_slug}.test", password=None)
    staff = Membership.objects.create(workspace=ws, user=staff_user, role="staff")
    StaffProfile.objects.create(workspace=ws, membership=staff, display_name="Staff", time_zone="UTC")
    WorkingHours.objects.bulk_create([
        WorkingHours(workspace=ws, membership=staff, weekday=d, start_time=dt.time(0), end_time=dt.time(0))
        for d in range(7)
    ])
    offer = offer_create(workspace=ws, staff=[staff], name_id="Race", duration_minutes=30, price_amount=100_000,
                         slot_interval_minutes=30, min_notice_minutes=0, hold_minutes=30)
    day = (clock.now() + dt.timedelta(days=3)).date()
    first = dt.datetime.combine(day, dt.time(1), tzinfo=dt.UTC)
    slots = [(first + dt.timedelta(minutes=30 * i)).isoformat() for i in range(n_slots)]
    return {"offer": str(offer.pk), "slots": slots}


def _barrier(spec: dict) -> None:
    """Start together: each worker marks itself ready, then waits until all are (at most a minute)."""
    from pathlib import Path

    ready = Path(spec["ready_dir"])
    (ready / str(spec["worker"])).touch()
    deadline = time.time() + 60
    while len(list(ready.iterdir())) < spec["workers"] and time.time() < deadline:
        time.sleep(0.01)


def attempt_all(spec: dict) -> dict:
    import datetime as dt

    from jasa.bookings.services import booking_hold
    from jasa.catalog.models import ConsultationOffer
    from jasa.core.errors import Conflict

    offer = ConsultationOffer.objects.select_related("workspace").get(pk=spec["offer"])
    out: dict = {"ok": [], "conflict": 0, "errors": []}
    _barrier(spec)
    for i, slot in enumerate(spec["attempts"]):
        try:
            booking = booking_hold(offer=offer, start=dt.datetime.fromisoformat(slot), client_name=f"Racer {i}",
                                   client_email=f"racer-{spec['worker']}-{i}@example.test",
                                   client_phone="+6281234567890")
            out["ok"].append([str(booking.pk), slot])
        except Conflict:
            out["conflict"] += 1
        except Exception as exc:  # noqa: BLE001 - every other outcome is a failure the test reports
            out["errors"].append(f"{type(exc).__name__}: {exc}")
    return out


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jasa.settings")
    import django

    django.setup()
    spec = json.loads(sys.argv[1])
    if spec.get("seed"):
        print(json.dumps(seed(spec["seed"], spec["n_slots"])))
        return
    print(json.dumps(attempt_all(spec)))


if __name__ == "__main__":
    main()
