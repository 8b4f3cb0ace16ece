"""The `jasa` command: serve, worker, demo, manage."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import subprocess
import sys
import threading
import time


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jasa.settings")
    import django

    django.setup()


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _migrate() -> None:
    from django.core.management import call_command

    _step("applying database migrations")
    call_command("migrate", interactive=False, verbosity=1)
    call_command("createcachetable", verbosity=0)


def _load_demo(refresh: bool = False) -> None:
    from jasa.core.demo import demo_load

    _step("loading the demo workspace" if not refresh else "refreshing the demo workspace")
    logins = demo_load(refresh=refresh, progress=_step)
    if logins:
        print("\n   Demo logins (password for all: demo-password-123):")
        for role, email in logins:
            print(f"     {role:<8} {email}")
        print()


def _start_embedded_worker(periodic: bool = True) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "jasa.cli", "worker", "--workers", "2"] + ([] if periodic else ["--no-periodic"])
    return subprocess.Popen(cmd)


def _stop_all(procs: list[subprocess.Popen], timeout: float = 15) -> None:
    """SIGTERM every child, wait for them together, SIGKILL what is left."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve_defaults(args: argparse.Namespace) -> None:
    """What one machine needs when nothing says otherwise (set before Django starts; the children inherit
    it): links (sandbox webhooks, emails) to where this server listens, and emails kept as files rather
    than lost to an SMTP server that is not there."""
    if not os.environ.get("JASA_SITE_URL"):
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        os.environ["JASA_SITE_URL"] = f"http://{host}:{args.port}"
    if not os.environ.get("EMAIL_HOST") and not os.environ.get("EMAIL_BACKEND"):
        os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
        _step("no EMAIL_HOST set: emails are written as files to <data dir>/mail "
              "(set EMAIL_HOST to send them)")


def cmd_serve(args: argparse.Namespace) -> int:
    _serve_defaults(args)
    _setup_django()
    _migrate()
    from jasa.accounts.models import Workspace

    if not args.no_demo and not Workspace.objects.exists():
        _load_demo()
    from django.core.management import call_command
    from django.db import connections

    _step("collecting static files")
    call_command("collectstatic", interactive=False, verbosity=0)
    connections.close_all()  # the children open their own connections

    stopping = threading.Event()

    def on_signal(signum, _frame):
        stopping.set()

    # Ctrl-C reaches the whole process group; SIGTERM (systemd, docker) only this process:
    # either way we stop both children and wait for them.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    _step("starting the embedded worker (queue consumer and periodic sweep)")
    worker = _start_embedded_worker(periodic=True)
    bind = f"{args.host}:{args.port}"
    gunicorn = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "jasa.wsgi:application",
            "--bind", bind, "--workers", str(args.processes), "--access-logfile", "-",
            "--graceful-timeout", "5", "--timeout", "60",
            "--no-control-socket",  # gunicorn's default socket in $HOME would clash between instances
        ]
    )
    _step(f"jasa is running at http://{bind}/  (Ctrl-C stops it)")
    code = 0
    try:
        while not stopping.is_set():
            if gunicorn.poll() is not None:
                _step(f"the web server stopped (exit {gunicorn.returncode})")
                code = gunicorn.returncode or 1
                break
            if worker.poll() is not None:
                _step("the embedded worker stopped; restarting it")
                worker = _start_embedded_worker(periodic=True)
            stopping.wait(1)
    finally:
        _step("stopping")
        _stop_all([gunicorn, worker])
    return code


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings
    from django.utils.module_loading import autodiscover_modules
    from huey.consumer import Consumer

    from jasa.core import heartbeat

    autodiscover_modules("tasks")  # every app's queue tasks and job handlers
    import jasa.core.tasks  # noqa: F401  - the sweep, even if an app list changes

    for module in args.imports:  # plugins (and tests) that register tasks or job handlers elsewhere
        importlib.import_module(module)

    periodic = not args.no_periodic
    huey = settings.HUEY
    if huey.immediate:
        raise SystemExit("the queue is in immediate mode (tests); a worker needs a real queue")
    stop_beating = heartbeat.start(periodic=periodic)
    stop_pump = _start_webhook_pump() if not args.no_webhook_pump else None
    consumer = Consumer(huey, workers=args.workers, worker_type="thread", periodic=periodic,
                        check_worker_health=True)
    print(f"==> worker consuming {type(huey.storage).__name__} "
          f"({'with' if periodic else 'without'} the periodic sweep)", flush=True)
    try:
        consumer.run()  # handles SIGINT (finish running tasks) and SIGTERM (stop now) itself
    finally:
        stop_beating.set()
        if stop_pump is not None:
            stop_pump.set()
    return 0


def _start_webhook_pump():
    """On PostgreSQL every worker also runs the webhook pump (one is active, the rest stand by)."""
    from django.db import connection

    from jasa.payments import inbox

    if connection.vendor != "postgresql":
        return None
    print("==> webhook pump: listening for stored webhook events (jasa/payments/inbox.py)", flush=True)
    return inbox.start_pump_thread()


def cmd_webhook_pump(args: argparse.Namespace) -> int:
    """Only the pump, in the foreground (a deployment may run it as its own small process)."""
    _setup_django()
    from django.db import connection

    from jasa.payments import inbox

    if connection.vendor != "postgresql":
        raise SystemExit("the webhook pump needs PostgreSQL; on other databases the web process enqueues")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print("==> webhook pump: waiting to become the active pump", flush=True)
    inbox.run_pump(stop, on_active=lambda: print("==> webhook pump: active", flush=True))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    _migrate()
    _load_demo(refresh=True)
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jasa.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["jasa manage", *args.rest])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jasa", description="jasa: sell services and get paid.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, load demo data when empty, run web + embedded worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-demo", action="store_true", help="do not load the demo workspace")
    serve.add_argument("--processes", type=int, default=2, help="gunicorn worker processes")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run a queue consumer")
    worker.add_argument("--no-periodic", action="store_true", help="do not run the periodic sweep here")
    worker.add_argument("--workers", type=int, default=4, help="consumer threads")
    worker.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                        help="also import MODULE (registers its tasks and job handlers); repeatable")
    worker.add_argument("--no-webhook-pump", action="store_true",
                        help="do not run the webhook pump here (PostgreSQL only; see jasa webhook-pump)")
    worker.set_defaults(func=cmd_worker)

    pump = sub.add_parser("webhook-pump", help="only hand stored webhook events to the queue (PostgreSQL)")
    pump.set_defaults(func=cmd_webhook_pump)

    demo = sub.add_parser("demo", help="load or refresh the demo workspace")
    demo.set_defaults(func=cmd_demo)

    manage = sub.add_parser("manage", help="Django management commands", add_help=False)
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:  # Ctrl-C during migrate or demo loading: stop quietly
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
