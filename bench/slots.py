"""Slot computation benchmark (issue 4, section 6).

One staff member with three calendars holding 5,000 busy intervals over a 90-day window (a
share of them weekly recurring events expanded from RRULEs), weekday hours 09:00-12:00 and
13:00-18:00 Asia/Jakarta, 60-minute sessions with 15-minute buffers, 30-minute slots, a few
bookings with daily/weekly limits. Measures the median in-process ``compute_slots`` time
(target: at most 20 ms) with the calendar busy times in the form the cache delivers them
(epoch seconds), and for comparison with all 5,000 as Interval objects; saves the figures to
bench/results/slots.json.

HTTP part (the slots endpoint under gunicorn on PostgreSQL vs a trivial JSON view): run with
``--endpoint URL --baseline URL`` against a running server; the script then also measures
requests per second of both with concurrent keep-alive clients and records the ratio
(target: endpoint >= 0.5 x baseline). The bookings module owns the endpoint and the seeding.

    .venv/bin/python bench/slots.py [--runs 50] [--endpoint URL --baseline URL --seconds 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import icalendar  # noqa: E402
import recurring_ical_events  # noqa: E402

from jasa.bookings.slots import Interval, OfferRules, StaffRules, compute_slots  # noqa: E402

TZ = ZoneInfo("Asia/Jakarta")
UTC = dt.UTC
TOTAL_BUSY = 5000
DAYS = 90


def recurring_calendar(start: dt.datetime, rng: random.Random, events: int) -> bytes:
    """An ICS calendar of weekly recurring meetings (TZID Asia/Jakarta), as a CalDAV server would hold it."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//jasa bench//")
    cal.add("version", "2.0")
    for i in range(events):
        ev = icalendar.Event()
        day = start + dt.timedelta(days=rng.randrange(7))
        begin = day.replace(hour=rng.randrange(0, 24), minute=rng.choice([0, 15, 30, 45]))
        ev.add("uid", f"weekly-{i}@bench")
        ev.add("dtstart", begin)
        ev.add("dtend", begin + dt.timedelta(minutes=rng.choice([15, 30, 45, 60])))
        ev.add("rrule", {"freq": "weekly"})
        ev.add("summary", f"Weekly {i}")
        cal.add_component(ev)
    return cal.to_ical()


def build_busy(window_start: dt.datetime, window_end: dt.datetime, seed: int = 4) -> tuple[list[Interval], dict]:
    rng = random.Random(seed)
    busy: list[Interval] = []
    # Calendar 1: weekly recurring events, expanded over the window (~1,500 occurrences).
    data = recurring_calendar(window_start.astimezone(TZ), rng, events=118)
    cal = icalendar.Calendar.from_ical(data)
    for ev in recurring_ical_events.of(cal).between(window_start, window_end):
        busy.append(Interval(ev["DTSTART"].dt.astimezone(UTC), ev["DTEND"].dt.astimezone(UTC)))
    recurring = len(busy)
    # Calendars 2 and 3: one-off events spread over the window (meetings, travel, focus blocks).
    span = int((window_end - window_start).total_seconds() // 60)
    while len(busy) < TOTAL_BUSY - 40:
        start = window_start + dt.timedelta(minutes=rng.randrange(span) // 15 * 15)
        busy.append(Interval(start, start + dt.timedelta(minutes=rng.choice([5, 10, 15, 30]))))
    # 40 jasa bookings (they count toward the limits), widened by their 15-minute buffers.
    pad = dt.timedelta(minutes=15)
    for _ in range(40):
        start = window_start + dt.timedelta(days=rng.randrange(DAYS), hours=rng.randrange(9, 17) - 7)
        busy.append(Interval.for_booking(start, start + dt.timedelta(hours=1), pad, pad))
    return busy, {"recurring_occurrences": recurring, "one_off": len(busy) - recurring - 40, "bookings": 40}


def _median_ms(fn, runs: int) -> tuple[float, float, float, list]:
    timings, result = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    return (round(statistics.median(timings), 3), round(timings[max(0, int(len(timings) * 0.95) - 1)], 3),
            round(timings[0], 3), result)


def measure_compute(runs: int) -> dict:
    now = dt.datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    window_start, window_end = now, now + dt.timedelta(days=DAYS)
    busy, mix = build_busy(window_start - dt.timedelta(days=1), window_end + dt.timedelta(days=1))
    staff = StaffRules("staff-1", TZ, weekly={d: [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))]
                                             for d in range(5)})
    rules = OfferRules(duration_minutes=60, buffer_before_minutes=15, buffer_after_minutes=15,
                       min_notice_minutes=120, horizon_days=DAYS, interval_minutes=30, daily_limit=6, weekly_limit=25)
    # As in production: the calendar cache arrives as epoch seconds, bookings and holds as Interval objects.
    bookings = [iv for iv in busy if iv.booking_start is not None]
    cached = [(int(iv.start.timestamp()), int(iv.end.timestamp())) for iv in busy if iv.booking_start is None]

    def production():
        return compute_slots([staff], rules, {"staff-1": bookings}, window_start, window_end, now,
                             busy_seconds={"staff-1": cached})

    def all_intervals():
        return compute_slots([staff], rules, {"staff-1": busy}, window_start, window_end, now)

    median, p95, fastest, slots = _median_ms(production, runs)
    median_iv, p95_iv, _fastest, slots_iv = _median_ms(all_intervals, runs)
    assert slots == slots_iv, "both input forms must give the same slots"
    free = compute_slots([staff], rules, {}, window_start, window_end, now)
    return {
        "busy_intervals": len(busy), "busy_mix": mix, "window_days": DAYS, "slot_interval_minutes": 30,
        "runs": runs, "median_ms": median, "p95_ms": p95, "min_ms": fastest,
        "all_as_interval_objects": {"median_ms": median_iv, "p95_ms": p95_iv},
        "slots_found": len(slots), "slots_without_busy_time": len(free), "target_median_ms": 20,
        "meets_target": median <= 20,
    }


def measure_http(url: str, seconds: float, clients: int = 8) -> dict:
    """Requests per second of ``url`` with ``clients`` threads, each on a keep-alive session."""
    import threading

    import requests

    counts = [0] * clients
    errors = [0] * clients
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        with requests.Session() as session:
            while time.perf_counter() < stop:
                response = session.get(url, timeout=30)
                counts[i] += 1
                errors[i] += response.status_code >= 500

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"url": url, "requests": sum(counts), "errors_5xx": sum(errors), "rps": round(sum(counts) / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--endpoint", help="slots endpoint URL on a running server (optional)")
    parser.add_argument("--baseline", help="trivial JSON view URL on the same server (optional)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "slots.json"))
    args = parser.parse_args()
    result = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "processor": platform.processor() or platform.machine()},
              "compute_slots": measure_compute(args.runs)}
    if args.endpoint and args.baseline:
        endpoint, baseline = measure_http(args.endpoint, args.seconds), measure_http(args.baseline, args.seconds)
        result["http"] = {"endpoint": endpoint, "baseline": baseline,
                          "ratio": round(endpoint["rps"] / baseline["rps"], 3) if baseline["rps"] else None,
                          "target_ratio": 0.5}
    c = result["compute_slots"]
    print(f"compute_slots: {c['busy_intervals']} busy intervals ({c['busy_mix']}), {DAYS} days, 30-min slots: "
          f"median {c['median_ms']} ms, p95 {c['p95_ms']} ms over {c['runs']} runs; {c['slots_found']} slots "
          f"(target <= 20 ms: {'met' if c['meets_target'] else 'NOT met'}); all 5,000 as Interval objects: "
          f"median {c['all_as_interval_objects']['median_ms']} ms")
    if "http" in result:
        h = result["http"]
        print(f"http: endpoint {h['endpoint']['rps']} req/s vs baseline {h['baseline']['rps']} req/s "
              f"(ratio {h['ratio']}, target >= 0.5)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
