"""The API benchmark: bare Django views to compare against, a keep-alive load generator, a gunicorn on loopback.

The bare views run the same ORM query as the DRF views (the same filters,
order, exact total from the same source -- the maintained totals, or a count
for a mentor -- and page slice, fetched as the same plain rows) and return the
same JSON, built by the same function, through ``JsonResponse``, with none of
DRF's machinery: no negotiation, authentication, permissions, throttles,
filter sets or serializers. They are
routed only by ``benchmarks.settings``.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from benchmarks.expiry import postgres_url
from certhub.api.fields import parse_timestamp
from certifications.api.serializers import certification_row, certification_rows, represent_row
from certifications.models import Certification, RenewalRequest
from certifications.renewals import representation
from certifications.renewals.queue import renewal_page
from certifications.totals.counts import CertificationCount

JSON_OPTIONS = {"separators": (",", ":"), "ensure_ascii": False}  # what DRF's JSONRenderer writes


def _queryset():
    return Certification.objects.alive().select_related("mentor", "certification_type")


def bare_list(request: HttpRequest) -> JsonResponse:
    """The list endpoint's query and JSON for the filters the benchmark uses (no validation)."""
    params = request.GET
    page, limit = int(params.get("page", 1)), int(params.get("limit", 20))
    qs = _queryset().order_by("-issued_at", "-certification_id")
    if "mentor_id" in params:
        qs = qs.filter(mentor__mentor_id=params["mentor_id"])
    if "status" in params:
        qs = qs.filter(status__in=params["status"].split(","))
    if "expires_before" in params:
        qs = qs.filter(expires_at__lt=parse_timestamp(params["expires_before"]))
    # The total as the API takes it: from the maintained totals unless a mentor is named.
    total = (
        qs.count()
        if "mentor_id" in params
        else CertificationCount(
            statuses=params["status"].split(",") if "status" in params else None,
            expires_before=parse_timestamp(params["expires_before"]) if "expires_before" in params else None,
        ).total()
    )
    offset = (page - 1) * limit
    rows = list(certification_rows(qs)[offset : offset + limit]) if offset < total else []
    body = {"data": [represent_row(row) for row in rows], "pagination": {"page": page, "limit": limit, "total": total}}
    return JsonResponse(body, json_dumps_params=JSON_OPTIONS)


def bare_detail(request: HttpRequest, certification_id: str) -> JsonResponse:
    """The get-one endpoint's query and JSON."""
    try:
        cert = _queryset().get(certification_id=certification_id)
    except Certification.DoesNotExist:
        return JsonResponse({"error": {"code": "not_found", "message": "Not found."}}, status=404)
    return JsonResponse(represent_row(certification_row(cert)), json_dumps_params=JSON_OPTIONS)


def bare_renewal_list(request: HttpRequest) -> JsonResponse:
    """The renewal queue's page for ``state`` as the API reads it (no validation, authentication or permissions)."""
    params = request.GET
    page, limit = int(params.get("page", 1)), int(params.get("limit", 20))
    qs = RenewalRequest.objects.all()
    if "state" in params:
        qs = qs.filter(state=params["state"])
    total, offset = qs.count(), (page - 1) * limit
    rows = renewal_page(qs, offset=offset, limit=limit) if offset < total else []
    body = {
        "data": [representation.represent(row) for row in rows],
        "pagination": {"page": page, "limit": limit, "total": total},
    }
    return JsonResponse(body, json_dumps_params=JSON_OPTIONS)


# --- The server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The configured database as a URL for the server processes (the same database as this process)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return postgres_url()


@dataclass
class Server:
    """gunicorn serving the project with the benchmark's settings on 127.0.0.1."""

    workers: int
    threads: int
    port: int = 0
    process: subprocess.Popen | None = None
    # The server's SECRET_KEY: a random one unless given (an API key's hash is keyed by it).
    secret_key: str = ""
    # ``benchmarks.settings_without_metrics`` leaves the request metrics out.
    settings_module: str = "benchmarks.settings"

    def start(self, *, timeout: float = 60) -> None:
        self.port = self.port or _free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "DATABASE_URL": database_url(),
            "DEBUG": "false",
            "SECRET_KEY": self.secret_key or os.urandom(24).hex(),
            "ALLOWED_HOSTS": "127.0.0.1",
            # Throttles stay in the stack; per-second rates so the load is never refused and
            # each throttle's history holds about a second of requests, as a real rate's would.
            "API_THROTTLE_ANON": "1000000/s",
            "API_THROTTLE_USER": "1000000/s",
            "LOG_LEVEL": "WARNING",
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited at start")
            try:
                status, _ = fetch(self.port, "/bench/bare/certifications?limit=1")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One GET on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- The load --------------------------------------------------------------------------------


def _client(task: tuple[int, list[str], float, int, int, dict[str, str], float, float]) -> tuple[list[float], int]:
    """One client: GET the paths in turn on one keep-alive connection until the deadline or the count.

    With ``interval`` 0 it sends the next request as soon as an answer is in (a closed loop). With an
    ``interval`` it sends on a fixed schedule, one request every ``interval`` seconds from ``phase``
    seconds on, whatever the answers take (an open loop); a request is timed from its scheduled start,
    so the wait behind a slow answer counts in its latency, as it would for a caller.
    """
    port, paths, seconds, max_requests, offset, headers, interval, phase = task
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    errors = 0
    begun = time.perf_counter()
    deadline = begun + seconds
    scheduled = begun + phase
    index = offset
    while len(latencies) + errors < max_requests:
        if interval:
            pause = scheduled - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            started = scheduled
            scheduled += interval
        else:
            started = time.perf_counter()
        if started >= deadline:
            break
        try:
            conn.request("GET", paths[index % len(paths)], headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        elapsed = time.perf_counter() - started
        if ok:
            latencies.append(elapsed)
        else:
            errors += 1
        index += 1
    conn.close()
    return latencies, errors


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float


def _percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(share * (len(sorted_values) - 1))))
    return sorted_values[index]


def load(pool, **spec) -> LoadResult:
    """``load_latencies`` summed up: requests, rate, p50 and p99."""
    started = time.perf_counter()
    latencies, errors = load_latencies(pool, **spec)
    return summarize(latencies, errors, time.perf_counter() - started)


def load_latencies(
    pool,
    *,
    port: int,
    paths: list[str],
    concurrency: int,
    seconds: float,
    max_requests: int,
    headers: dict[str, str] | None = None,
    rate: float = 0.0,
) -> tuple[list[float], int]:
    """``concurrency`` clients sending ``headers`` to ``paths`` for ``seconds`` (``max_requests`` each at most).

    ``rate`` 0: each client sends as fast as it is answered. A ``rate``: the clients send that many
    requests a second between them, on a fixed schedule, evenly interleaved (``_client``).
    Every successful request's latency in seconds (unsorted), and the number of failed requests.
    """
    interval = concurrency / rate if rate else 0.0
    tasks = [
        (port, paths, seconds, max_requests, i * 7919, headers or {}, interval, i * interval / concurrency)
        for i in range(concurrency)
    ]
    results = pool.map(_client, tasks)
    return [value for values, _ in results for value in values], sum(count for _, count in results)


def load_while(pool, running, *, slice_seconds: float, **spec) -> tuple[list[float], int]:
    """``load_latencies`` in slices of ``slice_seconds`` for as long as ``running()`` says so; latencies, errors."""
    latencies: list[float] = []
    errors = 0
    while running():
        more, failed = load_latencies(pool, **spec, seconds=slice_seconds)
        latencies += more
        errors += failed
    return latencies, errors


def summarize(latencies: list[float], errors: int, elapsed: float) -> LoadResult:
    """Requests, rate, p50 and p99 of latencies (in seconds) gathered over ``elapsed`` seconds."""
    latencies = sorted(latencies)
    return LoadResult(
        requests=len(latencies),
        errors=errors,
        seconds=elapsed,
        rps=len(latencies) / elapsed if elapsed else 0.0,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
    )


def client_pool(concurrency: int):
    """Client processes, forked before they are needed (no database connection is carried over).

    Each dies at once on SIGTERM (``Pool.terminate``) instead of running a handler it
    inherited from the command (``bench_drain``'s exits through Python): with it, a
    client once stayed blocked on the pool's queue lock and the command waited for ever.
    """
    connection.close()
    return multiprocessing.get_context("fork").Pool(
        concurrency, initializer=signal.signal, initargs=(signal.SIGTERM, signal.SIG_DFL)
    )


def same_json(port: int, drf_path: str, bare_path: str, headers: dict[str, str] | None = None) -> bool:
    """Whether the DRF endpoint (sent ``headers``) and the bare view answer the same JSON."""
    drf_status, drf_body = fetch(port, drf_path, headers)
    bare_status, bare_body = fetch(port, bare_path)
    return drf_status == bare_status == 200 and json.loads(drf_body) == json.loads(bare_body)
