"""Booking race benchmark (issue 4, section 6).

Starts gunicorn (2 sync workers) on PostgreSQL with the real URL configuration, seeds an offer with
20 free slots, then fires 200 booking attempts (``POST /api/v1/bookings``) at those 20 slots at once
from several client processes. Checks: exactly 20 holds (one per slot, also in the database), every
other attempt a 409, no 5xx. Prints the throughput. Then measures the slots endpoint
(``GET /api/v1/offers/<id>/slots``) against a trivial JSON view (``/bench/ping``, mounted when
JASA_BENCH is set) on the same server.

    .venv/bin/python bench/booking_race.py [--attempts 200] [--slots 20] [--processes 4] [--database-url URL]

Needs PostgreSQL (default postgres://postgres@127.0.0.1:5432/jasa_bench_bookings, created if missing).
Saves bench/results/booking_race.json. One run takes < 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _server import ensure_database, server_env, wait_listening  # bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "booking_race.json"


def _env(args) -> dict[str, str]:
    return server_env(database_url=args.database_url, queue_url=args.queue_url,
                      redis_url=args.queue_url if args.cache == "redis" else "", data_dir=str(ROOT / ".jasa-bench"))


def _prepare(args, env) -> dict:
    """Create and migrate the database, then seed a fresh workspace whose one staff member has the slots."""
    ensure_database(args.database_url)
    subprocess.run([sys.executable, "-m", "django", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "-m", "django", "createcachetable"], cwd=ROOT, env=env, check=True)
    for key, value in env.items():
        os.environ[key] = value
    import django

    django.setup()
    from tests.bookings.race_worker import seed

    return seed(f"bench-{uuid.uuid4().hex[:8]}", args.slots)


def _request(method: str, path: str, port: int, body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _send(port: int, raw: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = await reader.read()
    writer.close()
    return int(data[9:12]) if data[:5] == b"HTTP/" else 0


def _attempt_batch(port: int, raws: list[bytes], start_at: float) -> list[int]:
    """One client process: wait for the common start, then send its share all at once."""
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)

    async def run() -> list[int]:
        return list(await asyncio.gather(*(_send(port, raw) for raw in raws)))

    return asyncio.run(run())


async def _drive(port: int, raw: bytes, seconds: float, concurrency: int) -> dict:
    statuses: Counter = Counter()
    sent = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal sent
        while time.perf_counter() < deadline:
            statuses[await _send(port, raw)] += 1
            sent += 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {"requests": sent, "seconds": round(elapsed, 2), "per_second": round(sent / elapsed, 1),
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4, help="client processes sending the attempts")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per endpoint for slots/ping")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=18734)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jasa_bench_bookings")
    parser.add_argument("--queue-url", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--cache", choices=["redis", "db"], default="redis",
                        help="Django's cache (slots are cached there): Redis at --queue-url, or the database cache")
    args = parser.parse_args()
    env = _env(args)
    load_before = [round(x, 2) for x in os.getloadavg()]
    Path(env["JASA_DATA_DIR"]).mkdir(exist_ok=True)
    seeded = _prepare(args, env)
    bodies = [
        json.dumps({"offer": seeded["offer"], "start": seeded["slots"][i % args.slots],
                    "client": {"name": f"Racer {i}", "email": f"racer{i}-{uuid.uuid4().hex[:6]}@example.test",
                               "phone": "+6281234567890"}, "answers": {}}).encode()
        for i in range(args.attempts)
    ]
    raws = [_request("POST", "/api/v1/bookings", args.port, body) for body in bodies]
    shares = [raws[p::args.processes] for p in range(args.processes)]
    day = seeded["slots"][0][:10]
    slots_raw = _request("GET", f"/api/v1/offers/{seeded['offer']}/slots?start={day}&end={day}&tz=Asia/Jakarta",
                         args.port)
    ping_raw = _request("GET", "/bench/ping", args.port)

    cmd = [sys.executable, "-m", "gunicorn", "jasa.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
           "--workers", str(args.workers), "--no-control-socket", "--log-level", "warning", "--backlog", "2048",
           "--timeout", "60"]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_listening(args.port, server)
        asyncio.run(_drive(args.port, ping_raw, 1.0, args.concurrency))  # warm both workers up
        start_at = time.time() + 1.5  # every client process is up before the gun
        with ProcessPoolExecutor(args.processes) as pool:
            futures = [pool.submit(_attempt_batch, args.port, share, start_at) for share in shares]
            codes = [code for f in futures for code in f.result()]
        race_elapsed = max(time.time() - start_at, 0.001)
        trivial = asyncio.run(_drive(args.port, ping_raw, args.seconds, args.concurrency))
        slots = asyncio.run(_drive(args.port, slots_raw, args.seconds, args.concurrency))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)

    from jasa.bookings.models import BLOCKING, Booking

    held = Counter(
        b.isoformat() for b in Booking.objects.filter(offer_id=seeded["offer"], status__in=BLOCKING)
        .values_list("start_at", flat=True)
    )
    statuses = Counter(codes)
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "server": {"gunicorn_workers": args.workers, "database": "postgresql", "cache": args.cache},
        "load_average_before": load_before,
        "race": {
            "attempts": args.attempts, "slots": args.slots, "client_processes": args.processes,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "holds_in_database": sum(held.values()), "slots_held": len(held),
            "max_holds_per_slot": max(held.values()) if held else 0,
            "seconds": round(race_elapsed, 2), "attempts_per_second": round(args.attempts / race_elapsed, 1),
        },
        "trivial_json": trivial,
        "slots_endpoint": slots,
        "slots_ratio_to_trivial": round(slots["per_second"] / trivial["per_second"], 3) if trivial["per_second"] else None,
    }
    five_xx = sum(v for k, v in statuses.items() if k >= 500 or k == 0)
    result["ok"] = (statuses.get(201, 0) == args.slots and statuses.get(409, 0) == args.attempts - args.slots
                    and five_xx == 0 and len(held) == args.slots and result["race"]["max_holds_per_slot"] == 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    race = result["race"]
    print(f"booking race      : {args.attempts} attempts on {args.slots} slots from {args.processes} processes "
          f"in {race['seconds']} s = {race['attempts_per_second']} attempts/s")
    print(f"  answers         : {race['statuses']}  (want 201 x {args.slots}, 409 x {args.attempts - args.slots})")
    print(f"  in the database : {race['holds_in_database']} holds on {race['slots_held']} slots, "
          f"at most {race['max_holds_per_slot']} per slot")
    print(f"trivial JSON view : {trivial['per_second']:>8.1f} req/s")
    print(f"slots endpoint    : {slots['per_second']:>8.1f} req/s  (ratio {result['slots_ratio_to_trivial']})")
    print(f"saved {RESULTS.relative_to(ROOT)}  ok={result['ok']}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
