"""A sweeping process for the race tests: ``python -m tests.core.sweeper [options]``.

Waits until ``--start-at`` (so several start sweeping at the same instant), then sweeps
until nothing was due for ``--idle`` seconds. ``--direct`` runs each claimed job in this
process, twice (a duplicate queue message); otherwise it enqueues ``run_job`` twice on the
real queue for the workers. ``--advance`` moves jasa's clock first (a later sweep). Prints how
many jobs it claimed as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start-at", type=float, default=0)
    parser.add_argument("--idle", type=float, default=2)
    parser.add_argument("--limit", type=int, default=3)
    parser.add_argument("--advance", type=float, default=0)
    parser.add_argument("--direct", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jasa.settings")
    import django

    django.setup()
    import tests.core.jobhandlers  # noqa: F401 - registers test.record
    from jasa.core import clock, jobs

    if args.advance:
        clock.advance(dt.timedelta(seconds=args.advance))
    time.sleep(max(0.0, args.start_at - time.time()))

    def run_twice(job_id: int) -> None:
        jobs.run(job_id)
        jobs.run(job_id)

    from jasa.core.tasks import run_job

    def enqueue_twice(job_id: int) -> None:
        run_job(job_id)
        run_job(job_id)

    enqueue = run_twice if args.direct else enqueue_twice
    claimed, idle_since = 0, time.monotonic()
    while time.monotonic() - idle_since < args.idle:
        n = jobs.sweep(enqueue=enqueue, limit=args.limit)
        if n:
            claimed += n
            idle_since = time.monotonic()
        else:
            time.sleep(0.05)
    print(json.dumps({"claimed": claimed, "pid": os.getpid()}))


if __name__ == "__main__":
    main()
