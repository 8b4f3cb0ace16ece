"""/healthz: is this instance able to do its work right now?"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from jasa.core import heartbeat


@never_cache
def healthz(request):
    checks: dict[str, str] = {}
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        checks["migrations"] = "ok" if not pending else f"pending: {len(pending)}"
    except Exception as exc:  # noqa: BLE001
        checks["migrations"] = f"error: {exc.__class__.__name__}"
    age = heartbeat.worker_age_seconds()
    if age is None:
        checks["queue"] = "no worker heartbeat"
    elif age > heartbeat.MAX_AGE_SECONDS:
        checks["queue"] = f"worker heartbeat {int(age)} s old"
    else:
        checks["queue"] = "ok"
    try:
        from django.core.cache import cache

        cache.set("jasa:healthz", 1, 10)
        checks["cache"] = "ok" if cache.get("jasa:healthz") == 1 else "error: cache lost a value"
    except Exception as exc:  # noqa: BLE001
        checks["cache"] = f"error: {exc.__class__.__name__}"
    failing = [name for name, value in checks.items() if value != "ok"]
    body = {**checks, "status": "ok" if not failing else "failing", "failing": failing}
    return JsonResponse(body, status=200 if not failing else 503)
