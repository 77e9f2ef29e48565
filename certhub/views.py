"""Platform views: liveness (`/healthz`), readiness (`/readyz`), metrics, error handlers for non-DRF answers."""

from __future__ import annotations

from celery import current_app
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from certhub.api.errors import error_response
from certhub.metrics.exposition import metrics
from certhub.middleware import is_api_request

__all__ = ["healthz", "metrics", "not_found", "readyz", "server_error"]


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:
        return False, type(exc).__name__


def _broker_ok() -> tuple[bool, str]:
    # The project's Celery app (config.celery, loaded with the settings) is the current one.
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, "ok"
    except Exception as exc:
        return False, type(exc).__name__


def _broker_transport() -> str:
    from django.conf import settings

    return settings.CELERY_BROKER_URL.split("://", 1)[0]


def _cache_state() -> str:
    """Where this process counts throttles: "redis", or "per-process" (no Redis, or Redis unreachable)."""
    cache.get("healthz")  # a real call, so a Redis that just went away is noticed here
    if getattr(cache, "degraded", None) is None:
        return "per-process"
    return "per-process (Redis unreachable)" if cache.degraded else "redis"


def healthz(request: HttpRequest) -> JsonResponse:
    """Report database and broker health (503 when either is down) and where the cache is."""
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    healthy = db_ok and broker_ok
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {"database": db_detail, "broker": broker_detail},
        # Which Celery transport this process sends to: "filesystem" (embedded default) or "redis".
        "broker": _broker_transport(),
        "cache": _cache_state(),
    }
    return JsonResponse(body, status=200 if healthy else 503)


_migrations_applied = False  # once every migration is applied, it stays so for this process's code


def _migrations_ok() -> tuple[bool, str]:
    global _migrations_applied
    if _migrations_applied:
        return True, "ok"
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return False, type(exc).__name__
    if pending:
        return False, f"{len(pending)} not applied"
    _migrations_applied = True
    return True, "ok"


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers, every migration is applied, the broker answers; 503 naming what failed."""
    db_ok, db_detail = _database_ok()
    migrations_ok, migrations_detail = _migrations_ok() if db_ok else (False, "database unavailable")
    broker_ok, broker_detail = _broker_ok()
    checks = {"database": db_detail, "migrations": migrations_detail, "broker": broker_detail}
    failed = [
        name for name, ok in (("database", db_ok), ("migrations", migrations_ok), ("broker", broker_ok)) if not ok
    ]
    body = {"status": "unavailable" if failed else "ok", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 handler: the JSON envelope for API paths, Django's page elsewhere."""
    if is_api_request(request):
        return error_response(404)
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 handler: the JSON envelope for API paths, Django's page elsewhere."""
    if is_api_request(request):
        return error_response(500)
    return django_server_error(request)
