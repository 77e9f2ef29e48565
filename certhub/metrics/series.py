"""The counters and the histogram that add up across processes (prometheus_client's multiprocess mode).

``route`` is the URL pattern's name (``certification-detail``, ``admin:index``),
never the raw path, and ``method`` is one of the HTTP methods Django serves (any
other is ``other``): a client cannot make a new series by inventing a URL or a method.
"""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

http_requests = Counter(
    "certhub_http_requests_total", "HTTP requests answered, by method, URL pattern and status.",
    ["method", "route", "status"], registry=None,
)  # fmt: skip
http_duration = Histogram(
    "certhub_http_request_duration_seconds", "Time to answer a request, by URL pattern.", ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=None,
)  # fmt: skip
celery_tasks = Counter(
    "certhub_celery_tasks_total", "Celery tasks run by the workers, by task name and outcome.",
    ["task", "outcome"], registry=None,
)  # fmt: skip


def route_of(request: HttpRequest) -> str:
    """The name of the URL pattern that answered (``unmatched`` when none did)."""
    match = getattr(request, "resolver_match", None)
    return (match.view_name or match.route) if match is not None else UNMATCHED


class RequestMetricsMiddleware:
    """Count every request and time it, labelled by its URL pattern."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in METHODS else "other"
        http_requests.labels(method, route, str(response.status_code)).inc()
        http_duration.labels(route).observe(time.perf_counter() - started)
        return response


# --- Celery (connected in CerthubConfig.ready) --------------------------------------------------


def task_succeeded(sender=None, **_) -> None:
    celery_tasks.labels(getattr(sender, "name", "unknown"), "succeeded").inc()


def task_failed(sender=None, **_) -> None:
    celery_tasks.labels(getattr(sender, "name", "unknown"), "failed").inc()


def task_retried(sender=None, **_) -> None:
    celery_tasks.labels(getattr(sender, "name", "unknown"), "retried").inc()
