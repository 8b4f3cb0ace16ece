"""Background sync: one job per connection and sync slot; each run schedules the next."""

from __future__ import annotations

import datetime as dt

from jasa.calendars import services
from jasa.core import jobs


@jobs.handler(services.SYNC_JOB)
def _sync(job) -> None:
    # Idempotent: a second run only fetches again and replaces the cache with the same rows.
    conn = services.connection_sync(job.payload["connection"])
    if conn is not None and conn.is_active:
        services.connection_sync_soon(conn, delay=dt.timedelta(minutes=max(1, conn.sync_every_minutes)))
