"""Move jasa's clock for a sandbox demo: `jasa manage time_travel --days 3` (every process sees it).

Refused unless JASA_TIME_TRAVEL=1 (never in production). Due reminders, renewals and hold
expiries then fire on the next sweep, as they would when that time really comes.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from jasa.core import clock


class Command(BaseCommand):
    help = "Move jasa's clock forward for a sandbox demo (needs JASA_TIME_TRAVEL=1)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=0)
        parser.add_argument("--hours", type=int, default=0)
        parser.add_argument("--minutes", type=int, default=0)
        parser.add_argument("--reset", action="store_true", help="back to real time")

    def handle(self, *args, days: int, hours: int, minutes: int, reset: bool, **options):
        from django.core.cache import cache

        delta = dt.timedelta(days=days, hours=hours, minutes=minutes)
        if delta < dt.timedelta(0):
            raise CommandError("Time only moves forward; use --reset to return to real time.")
        current = dt.timedelta(seconds=int(cache.get("jasa:clock:offset", 0)))
        try:
            clock.set_shared_offset(dt.timedelta(0) if reset else current + delta)
        except RuntimeError as exc:
            raise CommandError(f"{exc}. Start jasa with JASA_TIME_TRAVEL=1 (sandbox demos only).") from exc
        self.stdout.write(f"jasa's clock now reads {clock.now():%Y-%m-%d %H:%M} UTC "
                          f"({'real time' if reset else f'{(current + delta)} ahead'}).")
