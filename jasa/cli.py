"""The `jasa` command: serve, worker, demo, manage."""

from __future__ import annotations

import argparse
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
    cmd = [sys.executable, "-m", "jasa.cli", "worker"] + ([] if periodic else ["--no-periodic"])
    return subprocess.Popen(cmd)


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_django()
    _migrate()
    from jasa.accounts.models import Workspace

    if not args.no_demo and not Workspace.objects.exists():
        _load_demo()
    from django.core.management import call_command

    _step("collecting static files")
    call_command("collectstatic", interactive=False, verbosity=0)
    _step("starting the embedded worker (queue consumer and periodic sweep)")
    worker = _start_embedded_worker(periodic=True)
    bind = f"{args.host}:{args.port}"
    _step(f"jasa is running at http://{bind}/  (Ctrl-C stops it)")
    gunicorn = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "jasa.wsgi:application",
            "--bind", bind, "--workers", str(args.processes), "--access-logfile", "-",
            "--graceful-timeout", "5", "--timeout", "60",
        ]
    )

    def stop(*_):
        for proc in (gunicorn, worker):
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while gunicorn.poll() is None:
            if worker.poll() is not None:
                _step("the embedded worker stopped; restarting it")
                worker = _start_embedded_worker(periodic=True)
            time.sleep(1)
    finally:
        stop()
        for proc in (gunicorn, worker):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return gunicorn.returncode or 0


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings

    from jasa.core import heartbeat

    huey = settings.HUEY
    stop = threading.Event()

    def beat_forever():
        while not stop.is_set():
            try:
                heartbeat.beat()
            except Exception as exc:  # noqa: BLE001 - a failed beat shows in /healthz, not a crash
                print(f"heartbeat failed: {exc}", file=sys.stderr)
            stop.wait(30)

    threading.Thread(target=beat_forever, daemon=True, name="heartbeat").start()
    from django.utils.module_loading import autodiscover_modules
    from huey.consumer import Consumer

    import jasa.core.tasks  # noqa: F401  - registers the sweep

    autodiscover_modules("tasks")
    consumer = Consumer(
        huey,
        workers=args.workers,
        worker_type="thread",
        periodic=not args.no_periodic,
        check_worker_health=True,
    )
    print(f"==> worker consuming {type(huey.storage).__name__} "
          f"({'with' if not args.no_periodic else 'without'} the periodic sweep)", flush=True)
    try:
        consumer.run()
    finally:
        stop.set()
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
    worker.add_argument("--workers", type=int, default=4)
    worker.set_defaults(func=cmd_worker)

    demo = sub.add_parser("demo", help="load or refresh the demo workspace")
    demo.set_defaults(func=cmd_demo)

    manage = sub.add_parser("manage", help="Django management commands", add_help=False)
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)

    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
