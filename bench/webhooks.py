"""Webhook ingestion benchmark (issue 3, section 6).

Starts gunicorn (2 worker processes) on PostgreSQL with the real URL configuration, then drives
``POST /webhooks/sandbox`` with correctly signed sandbox notifications (10 % of them duplicates of
earlier ones) from an asyncio client, and compares with a trivial JSON view (``/bench/ping``, only
mounted when JASA_BENCH is set) on the same server. The webhook pump (``jasa webhook-pump``, ADR 0008)
runs beside it and its CPU counts as the server's. Both endpoints are warmed up first. Afterwards it
checks that none was lost: every distinct event id is stored exactly once, every request got a 2xx,
and the pump queued the re-read of every stored event.

    .venv/bin/python bench/webhooks.py [--seconds 8] [--concurrency 16] [--database-url URL] [--no-pump]

Needs PostgreSQL (default postgres://postgres@127.0.0.1:5432/jasa_bench_webhooks, created if
missing) and Redis for the queue (default redis://127.0.0.1:6379/3; tasks are enqueued, not run).
Prints the figures and saves them to bench/results/webhooks.json. One run takes < 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _server import ensure_database, server_env, wait_listening  # bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "webhooks.json"


def _env(args) -> dict[str, str]:
    return server_env(database_url=args.database_url, queue_url=args.queue_url,
                      redis_url=args.queue_url, data_dir=str(Path(tempfile.gettempdir()) / "jasa-bench-webhooks"))


def _prepare_database(args, env) -> None:
    ensure_database(args.database_url)
    subprocess.run([sys.executable, "-m", "django", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    import psycopg

    # the bench's own database: start from an empty table, so no earlier run's dead rows get vacuumed
    # while measuring (the autovacuum worker's CPU would count as the database's)
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE payments_webhookevent")
        conn.execute("VACUUM ANALYZE payments_webhookevent")


def _signed_requests(env, total: int, host: str) -> tuple[list[bytes], list[str]]:
    """Returns the raw requests and, for each, the event id it carries."""
    # Raw HTTP requests, signed the way the sandbox gateway signs; 10 % repeat an earlier event.
    for key, value in env.items():
        os.environ[key] = value
    import django

    django.setup()
    from jasa.payments.gateways.sandbox import SandboxGateway
    from jasa.sandbox.webhooks import signed_notification

    gateway = SandboxGateway({})
    now = int(time.time())
    originals: list[tuple[bytes, str]] = []
    ids: list[str] = []
    out: list[bytes] = []
    rng = random.Random(7)
    for i in range(total):
        if i >= 100 and i % 10 == 0:
            raw, event_id = originals[rng.randrange(0, len(originals) - 50)]  # repeat an earlier event
            out.append(raw)
            ids.append(event_id)
            continue
        event_id = f"evt_{uuid.uuid4().hex}"
        headers, body = signed_notification(
            secret=gateway.secret_key, merchant_id=gateway.merchant_id, event_id=event_id,
            event_type="payment.updated", sent_at=now,
            data={"reference": str(uuid.uuid4()), "status": "paid", "gross_amount": 150000})
        head = f"POST /webhooks/sandbox HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Connection: close\r\n\r\n"
        originals.append((head.encode() + body, event_id))
        ids.append(event_id)
        out.append(head.encode() + body)
    return out, ids


async def _drive(port: int, requests: list[bytes], seconds: float, concurrency: int) -> dict:
    """Send requests in order from ``concurrency`` connections-at-a-time until the time is up."""
    statuses: dict[int, int] = {}
    sent = 0
    cursor = 0
    deadline = time.perf_counter() + seconds

    async def one(raw: bytes) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(raw)
        await writer.drain()
        data = await reader.read()
        writer.close()
        code = int(data[9:12]) if data[:5] == b"HTTP/" else 0
        statuses[code] = statuses.get(code, 0) + 1

    async def client() -> None:
        nonlocal cursor, sent
        while time.perf_counter() < deadline and cursor < len(requests):
            raw = requests[cursor]
            cursor += 1
            await one(raw)
            sent += 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {"requests": sent, "seconds": round(elapsed, 2), "per_second": round(sent / elapsed, 1),
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


WARM_UP = 200  # signed webhooks per server process before measuring (lazy imports, first queries)


def _empty_queue() -> None:
    from django.conf import settings

    settings.HUEY.flush()


def _wait_active(pump: subprocess.Popen, timeout: float = 30) -> None:
    end = time.time() + timeout
    assert pump.stdout is not None
    while time.time() < end:
        line = pump.stdout.readline()
        if "active" in line:
            return
        if not line and pump.poll() is not None:
            raise SystemExit(f"the webhook pump exited with {pump.returncode}")
    raise SystemExit("the webhook pump did not become active")


def _queued_events() -> int:
    """Events in the queued re-read tasks (the pump queues a few per task; the request, one)."""
    from django.conf import settings

    return sum(len(task.args[0]) if isinstance(task.args[0], list) else 1 for task in settings.HUEY.pending())


def _queued_after_pump(expected: int, timeout: float = 20) -> int:
    """Events queued once the pump has handed over every stored event (or the timeout)."""
    end = time.time() + timeout
    count = _queued_events()
    while count < expected and time.time() < end:
        time.sleep(0.5)
        count = _queued_events()
    return count


def _processes_cpu_seconds(wanted) -> float:
    """User+system CPU seconds (from /proc) of the processes for which ``wanted(pid, ppid, cmdline)``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if wanted(int(entry), int(fields[1]), Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")):
                total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
    return total


def _cpu_seconds(root_pids: list[int]) -> float:
    """The gunicorn master and its workers (and the pump): the server's own cost per request, which
    the machine's load does not change much."""
    return _processes_cpu_seconds(lambda pid, ppid, _: pid in root_pids or ppid in root_pids)


def _database_cpu_seconds(database: str) -> float:
    """The PostgreSQL backends serving ``database`` (their title names it)."""
    return _processes_cpu_seconds(lambda _pid, _ppid, cmdline: f" {database} ".encode() in cmdline)


def _measured(port: int, requests: list[bytes], seconds: float, concurrency: int, server_pids: list[int],
              database: str) -> dict:
    pump_pids = server_pids[1:]
    before, db_before = _cpu_seconds(server_pids), _database_cpu_seconds(database)
    pump_before = _cpu_seconds(pump_pids) if pump_pids else 0.0
    result = asyncio.run(_drive(port, requests, seconds, concurrency))
    result["cpu"] = _cpu_seconds(server_pids) - before  # gunicorn and the pump
    result["pump_cpu"] = (_cpu_seconds(pump_pids) - pump_before) if pump_pids else 0.0
    result["db_cpu"] = _database_cpu_seconds(database) - db_before
    return result


def _combined(rounds: list[dict]) -> dict:
    """One endpoint's figures over all rounds: totals, not an average of rates."""
    sent = sum(r["requests"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    statuses: dict[str, int] = {}
    for r in rounds:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    per = 1000 / max(sent, 1)
    return {"requests": sent, "seconds": round(seconds, 2), "per_second": round(sent / seconds, 1),
            "statuses": statuses, "per_round": [r["per_second"] for r in rounds],
            "server_cpu_ms_per_request": round(sum(r["cpu"] for r in rounds) * per, 3),
            "pump_cpu_ms_per_request": round(sum(r["pump_cpu"] for r in rounds) * per, 3),
            "database_cpu_ms_per_request": round(sum(r["db_cpu"] for r in rounds) * per, 3)}


def _alternating(args, ping: bytes, requests: list[bytes], pids: list[int], database: str) -> tuple[dict, dict]:
    """Measure the two endpoints in alternating rounds, so that a burst of other work on the machine
    falls on both rather than on one of them."""
    trivial_rounds, hook_rounds = [], []
    cursor = 0
    each = args.seconds / args.rounds
    for _ in range(args.rounds):
        trivial_rounds.append(_measured(args.port, [ping] * 10**6, each, args.concurrency, pids, database))
        hook_rounds.append(_measured(args.port, requests[cursor:], each, args.concurrency, pids, database))
        cursor += hook_rounds[-1]["requests"]
    return _combined(trivial_rounds), _combined(hook_rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per endpoint")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds over which --seconds is split")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (1 = sync workers)")
    parser.add_argument("--port", type=int, default=18733)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jasa_bench_webhooks")
    parser.add_argument("--no-pump", action="store_true",
                        help="no webhook pump: each webhook request pushes its queue task itself (the fallback)")
    parser.add_argument("--queue-url", default="redis://127.0.0.1:6379/3")
    args = parser.parse_args()
    env = _env(args)
    Path(env["JASA_DATA_DIR"]).mkdir(exist_ok=True)
    _prepare_database(args, env)
    requests, ids = _signed_requests(env, total=int(args.seconds * 3000) + 2000, host=f"127.0.0.1:{args.port}")
    ping = f"GET /bench/ping HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\nConnection: close\r\n\r\n".encode()

    cmd = [sys.executable, "-m", "gunicorn", "jasa.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
           "--workers", str(args.workers), "--no-control-socket", "--log-level", "warning",
           "--backlog", "2048"]
    if args.threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(args.threads)]
    _empty_queue()
    # The webhook pump (jasa/payments/inbox.py) hands each stored event to the queue; it is part of
    # ingestion, so it runs beside the server and its CPU counts as the server's.
    pump = None if args.no_pump else subprocess.Popen(
        [sys.executable, "-m", "jasa.cli", "webhook-pump"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    pids = [server.pid] + ([pump.pid] if pump else [])
    database = args.database_url.rsplit("/", 1)[1]
    try:
        if pump is not None:
            _wait_active(pump)
        wait_listening(args.port, server)
        warm = WARM_UP * (args.workers + 1)
        asyncio.run(_drive(args.port, [ping] * 400, 1.0, args.concurrency))  # warm both workers up,
        asyncio.run(_drive(args.port, requests[:warm], 5.0, args.concurrency))  # on both endpoints
        trivial, hooks = _alternating(args, ping, requests[warm:], pids, database)
        enqueued = _queued_after_pump(len(set(ids[: warm + hooks["requests"]])))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        if pump is not None:
            pump.terminate()
            pump.wait(timeout=20)

    from jasa.payments.models import WebhookEvent

    sent_unique = set(ids[: warm + hooks["requests"]])  # requests go out in list order
    stored = set(WebhookEvent.objects.filter(gateway="sandbox").values_list("event_id", flat=True))
    non_2xx = sum(v for k, v in hooks["statuses"].items() if not k.startswith("2"))
    lost = len(sent_unique - stored)
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
        "server": {"gunicorn_workers": args.workers, "threads": args.threads, "database": "postgresql",
                   "queue": args.queue_url.split("://")[0]},
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "trivial_json": trivial,
        "webhooks": {**hooks, "unique_events": len(sent_unique), "duplicates_sent": warm + hooks["requests"] - len(sent_unique),
                     "stored": len(stored), "lost": lost, "non_2xx": non_2xx,
                     "warm_up_requests": warm, "enqueued_by_pump": enqueued},
        "ratio_to_trivial": round(hooks["per_second"] / trivial["per_second"], 3) if trivial["per_second"] else None,
        "targets": {"per_second_at_least": 500, "ratio_at_least": 0.5},
    }
    result["ok"] = (lost == 0 and non_2xx == 0 and len(stored) == len(sent_unique) == enqueued
                    and hooks["per_second"] >= 500 and (result["ratio_to_trivial"] or 0) >= 0.5)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"trivial JSON view : {trivial['per_second']:>8.1f} req/s  ({trivial['requests']} in {trivial['seconds']} s)")
    print(f"verified webhooks : {hooks['per_second']:>8.1f} req/s  ({hooks['requests']} in {hooks['seconds']} s, "
          f"{result['webhooks']['duplicates_sent']} duplicates)")
    print(f"ratio             : {result['ratio_to_trivial']}  (target >= 0.5, and >= 500/s); per round "
          + ", ".join(f"{h / t:.2f}" for h, t in zip(hooks["per_round"], trivial["per_round"], strict=True)))
    print(f"server CPU per request: trivial {trivial['server_cpu_ms_per_request']} ms, "
          f"webhook {hooks['server_cpu_ms_per_request']} ms (gunicorn and pump processes); "
          f"of which the pump {hooks['pump_cpu_ms_per_request']} ms; "
          f"PostgreSQL {hooks['database_cpu_ms_per_request']} ms per webhook")
    print(f"stored {len(stored)} of {len(sent_unique)} distinct events (incl. {warm} warm-up requests); "
          f"lost {lost}; non-2xx {non_2xx}; handed to the queue by the pump {enqueued}")
    print(f"load average {result['machine']['load_average_1m_at_end']} on {os.cpu_count()} CPUs; "
          f"saved {RESULTS.relative_to(ROOT)}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
