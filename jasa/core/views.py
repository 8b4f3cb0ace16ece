"""/healthz: is this instance able to do its work right now?

200 ``{"database": "ok", "migrations": "ok", "queue": "ok", "sweep": "ok", "cache": "ok", ...}``
only when every part is ok; otherwise 503 and ``failing`` names the parts that are not.
``queue`` is ok when the queue storage answers and a worker wrote a heartbeat in the last
two minutes; ``sweep`` when the worker that runs the periodic sweep did.
Apps may add parts that inform without failing (``INFO``, e.g. the payments app's ``webhooks``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from jasa.core import heartbeat

OK = "ok"
# Once a process has seen no pending migration it does not re-read the migration files
# (they only change with a new deployment, i.e. a new process).
_migrations_ok = False


def _error(exc: Exception) -> str:
    return f"error: {exc.__class__.__name__}"


def _database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return OK


def _migrations() -> str:
    global _migrations_ok
    if _migrations_ok:
        return OK
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        return f"pending: {len(pending)}"
    _migrations_ok = True
    return OK


def _fresh(age: float | None, what: str) -> str:
    if age is None:
        return f"no {what} heartbeat"
    if age > heartbeat.MAX_AGE_SECONDS:
        return f"{what} heartbeat {int(age)} s old"
    return OK


def _queue() -> str:
    settings.HUEY.pending_count()  # the queue storage answers
    return _fresh(heartbeat.worker_age_seconds(), "worker")


def _sweep() -> str:
    return _fresh(heartbeat.sweeper_age_seconds(), "periodic worker")


def _cache() -> str:
    cache.set("jasa:healthz", 1, 10)
    return OK if cache.get("jasa:healthz") == 1 else "error: the cache lost a value"


CHECKS: dict[str, Callable[[], str]] = {
    "database": _database,
    "migrations": _migrations,
    "cache": _cache,
    "queue": _queue,
    "sweep": _sweep,
}

# Reported, never failing: how a part is working right now (apps add theirs in AppConfig.ready()).
INFO: dict[str, Callable[[], str]] = {}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - a broken part is reported, never a 500
            checks[name] = _error(exc)
    failing = [name for name, value in checks.items() if value != OK]
    body = {**checks, "status": "ok" if not failing else "failing", "failing": failing}
    for name, describe in INFO.items():
        try:
            body[name] = describe()
        except Exception as exc:  # noqa: BLE001
            body[name] = _error(exc)
    return JsonResponse(body, status=200 if not failing else 503)
