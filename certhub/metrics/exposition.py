"""``GET /metrics``: who may scrape, and the text a scrape answers.

Open from loopback while ``METRICS_OPEN_ON_LOOPBACK`` is on (outside production by
default); otherwise a scraper sends ``Authorization: Bearer <METRICS_TOKEN>``. With no
token set, the page does not exist for anyone else (404); a wrong or missing token is a 401.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from certhub.metrics.gauges import DatabaseGauges

LOOPBACK = frozenset({"127.0.0.1", "::1"})


def _bearer_matches(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The answer to a scrape that is not allowed, or None when it is."""
    if settings.METRICS_OPEN_ON_LOOPBACK and request.META.get("REMOTE_ADDR") in LOOPBACK:
        return None
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponseNotFound("Not Found", content_type="text/plain")
    if _bearer_matches(request, token):
        return None
    response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def scrape() -> bytes:
    """The exposition: every process's counters (summed from the multiprocess directory) and the gauges."""
    registry = CollectorRegistry(auto_describe=False)
    multiprocess.MultiProcessCollector(registry, path=str(settings.METRICS_DIR))
    registry.register(DatabaseGauges())
    return generate_latest(registry)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format, for an allowed scraper."""
    refused = refusal(request)
    if refused is not None:
        return refused
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
