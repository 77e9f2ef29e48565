"""``manage.py bench_api``: the list and get-one endpoints under gunicorn against bare Django views.

Serves the project on 127.0.0.1 with ``benchmarks.settings`` (the
only settings that route the bare views), checks that each DRF endpoint and
its bare twin answer the same JSON, then loads each for ``--seconds`` with
``--concurrency`` keep-alive clients, in ``--slices`` slices taken in turn with
the other contenders (A B, B A, ...: a drift during a scenario falls on both
sides alike). With ``--json`` the last line is one JSON object.

``--auth`` sends the DRF side's requests with credentials: ``token`` a DRF
token, ``key`` an API key of scope ``certifications:read`` (made by
``create_api_key``), both of one user without permissions (the reads are
public, so the answers match the bare views'); ``none`` (the default) sends
none. Runs with ``token`` and ``key`` give the authentication's cost per request;
``--auth token,key`` measures each in turn in one run, on the same data and
server, scenario by scenario (the JSON's ``by_auth`` carries each one's figures).

``--metrics`` says whether the DRF side counts and times its requests
(``certhub_http_requests_total`` and the duration histogram): ``on`` (the product,
the default), ``off`` (``benchmarks.settings_without_metrics``), or ``both``: a second
server without them, loaded right after the first in every scenario (with the first
``--auth`` mode), so one run gives what the request metrics add to p50 and p99.
"""

from __future__ import annotations

import io
import json
import math
import random
import time
from argparse import ArgumentTypeError
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from rest_framework.authtoken.models import Token

from benchmarks import api as bench
from benchmarks.expiry import vacuum
from benchmarks.management.commands.bench_expiry import DEFAULT_NOW
from certifications.demo.layout import SeedError, SeedSpec
from certifications.demo.loader import seed
from certifications.management.commands.seed_demo import parse_now
from certifications.models import Certification, Mentor

DRF_BASE = "/api/v1/certifications"
BARE_BASE = "/bench/bare/certifications"
EXPIRED_BEFORE = "2026-01-01T00:00:00Z"
AUTH_CHOICES = ("none", "token", "key")
METRICS_CHOICES = ("on", "off", "both")
WITHOUT_METRICS = "benchmarks.settings_without_metrics"
BENCH_USER = "bench-api"


def credentials(auth: str) -> dict[str, str]:
    """The ``Authorization`` header of ``--auth``: a DRF token or an API key of a user made for the benchmark."""
    if auth == "none":
        return {}
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    if auth == "token":
        return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}
    out = io.StringIO()
    call_command(
        "create_api_key",
        BENCH_USER,
        "--name",
        "bench_api",
        "--scopes",
        "certifications:read",
        "--days",
        "1",
        stdout=out,
        stderr=io.StringIO(),
    )
    return {"Authorization": f"Bearer {out.getvalue().strip()}"}


def auth_modes(value: str) -> tuple[str, ...]:
    """``--auth``'s modes, in the order given: each one of ``AUTH_CHOICES``, none twice."""
    modes = tuple(mode.strip() for mode in value.split(","))
    if not modes or any(mode not in AUTH_CHOICES for mode in modes) or len(set(modes)) < len(modes):
        raise ArgumentTypeError(f"expected one or more of {', '.join(AUTH_CHOICES)}, comma-separated: {value!r}")
    return modes


def _figures(drf: bench.LoadResult, bare: bench.LoadResult) -> dict:
    """One contender's figures against the bare views' in the same scenario."""
    return {
        "drf_rps": round(drf.rps, 1),
        "ratio": round(drf.rps / bare.rps, 3) if bare.rps else None,
        "p50_ms": round(drf.p50_ms, 2),
        "p99_ms": round(drf.p99_ms, 2),
        "p50_ratio": round(drf.p50_ms / bare.p50_ms, 3) if bare.p50_ms else None,
        "drf_requests": drf.requests,
    }


class Command(BaseCommand):
    help = "Requests per second, p50 and p99 of the certification API against bare Django views on the same queries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--certs", type=int, default=100_000, help="Data set size (seeded unless it is there).")
        parser.add_argument("--due", type=int, default=None, help="Due records when seeding (default 1%%).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--now", default=DEFAULT_NOW)
        parser.add_argument("--concurrency", type=int, default=4, help="Client processes (keep-alive each).")
        parser.add_argument("--seconds", type=float, default=5.0, help="Load time per scenario and contender.")
        parser.add_argument("--max-requests", type=int, default=200_000, help="Upper bound per client and run.")
        parser.add_argument(
            "--slices", type=int, default=4, help="Slices each contender's time is taken in, in turn with the others."
        )
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes.")
        parser.add_argument("--flush", action="store_true", help="Replace existing data with a fresh data set.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")
        parser.add_argument(
            "--auth",
            type=auth_modes,
            default=("none",),
            help="Credentials of the DRF side: none, a DRF token or an API key; several, comma-separated "
            "(token,key), are measured in turn in the same run.",
        )
        parser.add_argument(
            "--metrics",
            choices=METRICS_CHOICES,
            default="on",
            help="Request metrics on the DRF side: on, off, or both (a second server without them, in one run).",
        )

    @staticmethod
    def _interleaved(pool, contenders: list[tuple], concurrency: int, seconds: float, options: dict) -> dict:
        """Each contender loaded for ``seconds`` in all, in ``--slices`` slices taken in turn (the order reversed
        every other round: A B, B A, ...), so a drift of the machine or the database during the scenario (a cache
        warming, autovacuum, another process) falls on every contender alike; the latencies of its slices pooled."""
        slices = options["slices"]
        gathered: dict[str, tuple[list[float], int, float]] = {}
        for contender, target, paths, sent in contenders:
            common = {"port": target.port, "paths": paths, "concurrency": concurrency, "headers": sent}
            bench.load(pool, **common, seconds=min(1.0, seconds), max_requests=200)  # warm up
            gathered[contender] = ([], 0, 0.0)
        for round_ in range(slices):
            for contender, target, paths, sent in contenders if round_ % 2 == 0 else contenders[::-1]:
                common = {"port": target.port, "paths": paths, "concurrency": concurrency, "headers": sent}
                started = time.perf_counter()
                latencies, errors = bench.load_latencies(
                    pool, **common, seconds=seconds / slices, max_requests=options["max_requests"]
                )
                pooled, failed, elapsed = gathered[contender]
                gathered[contender] = (pooled + latencies, failed + errors, elapsed + time.perf_counter() - started)
        return {contender: bench.summarize(*figures) for contender, figures in gathered.items()}

    def handle(self, *args, **options) -> None:
        certs, verbose = options["certs"], options["verbosity"] >= 1
        say = self.stdout.write if verbose else (lambda *_: None)
        concurrency, seconds = options["concurrency"], options["seconds"]
        if concurrency < 1 or not 0 < seconds <= 600:
            raise CommandError("--concurrency must be at least 1 and --seconds between 0 and 600.")
        if not 1 <= options["slices"] <= 100:
            raise CommandError("--slices must be between 1 and 100.")

        existing = Certification.objects.count()
        if existing == certs and not options["flush"]:
            say(f"using the {existing:,} certifications already in the database")
        else:
            spec = SeedSpec(
                certs=certs,
                due=options["due"] if options["due"] is not None else max(1, certs // 100),
                seed=options["seed"],
                now=parse_now(options["now"]),
            )
            try:
                seed(spec, show_progress=verbose, replace=options["flush"])
            except SeedError as exc:
                raise CommandError(f"{exc} (or pass the --certs it holds, {existing:,}, to reuse it)") from None

        if connection.vendor == "postgresql":
            # A fresh load has no visibility map yet, so the totals could not be index-only
            # scans; autovacuum keeps it on a running system, this does it now.
            vacuum()
        scenarios = self._scenarios(options["seed"])
        modes = options["auth"]
        headers = {mode: credentials(mode) for mode in modes}
        workers = options["workers"]
        # The server keeps this process's SECRET_KEY: an API key's stored hash is keyed by it.
        threads = max(1, math.ceil(concurrency / workers))
        metrics = options["metrics"]
        server = bench.Server(
            workers=workers,
            threads=threads,
            secret_key=settings.SECRET_KEY,
            settings_module=WITHOUT_METRICS if metrics == "off" else "benchmarks.settings",
        )
        # With --metrics both: the same server without the request metrics, loaded right after.
        plain = None
        if metrics == "both":
            plain = bench.Server(
                workers=workers, threads=threads, secret_key=settings.SECRET_KEY, settings_module=WITHOUT_METRICS
            )
        pool = bench.client_pool(concurrency)
        results: dict[str, dict] = {}
        try:
            server.start()
            if plain is not None:
                plain.start()
            say(
                f"gunicorn on 127.0.0.1:{server.port} ({workers} workers x {server.threads} threads), "
                f"{concurrency} clients, {seconds:g}s per run, DRF side authenticated by: {', '.join(modes)}"
            )
            for name, (drf_paths, bare_paths) in scenarios.items():
                for mode in modes:
                    for drf_path, bare_path in list(zip(drf_paths, bare_paths, strict=True))[:3]:
                        if not bench.same_json(server.port, drf_path, bare_path, headers[mode]):
                            raise CommandError(f"{name}: {drf_path} and {bare_path} answer different JSON ({mode})")
                contenders = [(mode, server, drf_paths, headers[mode]) for mode in modes]
                if plain is not None:
                    contenders.append(("drf_no_metrics", plain, drf_paths, headers[modes[0]]))
                contenders.append(("bare", server, bare_paths, {}))
                figures = self._interleaved(pool, contenders, concurrency, seconds, options)
                bare = figures["bare"]
                by_auth = {mode: _figures(figures[mode], bare) for mode in modes}
                results[name] = {
                    **by_auth[modes[0]],
                    "bare_rps": round(bare.rps, 1),
                    "bare_p50_ms": round(bare.p50_ms, 2),
                    "bare_p99_ms": round(bare.p99_ms, 2),
                    "bare_requests": bare.requests,
                    "errors": sum(figures[contender].errors for contender in figures),
                }
                if len(modes) > 1:
                    results[name]["by_auth"] = by_auth
                if plain is not None:
                    drf, off = figures[modes[0]], figures["drf_no_metrics"]
                    results[name] |= {
                        "no_metrics_p50_ms": round(off.p50_ms, 2),
                        "no_metrics_p99_ms": round(off.p99_ms, 2),
                        "metrics_p50_ms": round(drf.p50_ms - off.p50_ms, 3),
                        "metrics_p99_ms": round(drf.p99_ms - off.p99_ms, 3),
                    }
                for mode in modes:
                    say(self._line(f"{name} ({mode})" if len(modes) > 1 else name, {**results[name], **by_auth[mode]}))
        finally:
            pool.terminate()
            pool.join()
            server.stop()
            if plain is not None:
                plain.stop()

        summary = {
            "certs": Certification.objects.count(),
            "concurrency": concurrency,
            "seconds": seconds,
            "workers": workers,
            "threads": server.threads,
            "auth": ",".join(modes),
            "metrics": metrics,
            "vendor": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "throttle_cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
            "scenarios": results,
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        errors = sum(r["errors"] for r in results.values())
        if errors:
            raise CommandError(f"{errors} requests failed")

    def _scenarios(self, seed: int) -> dict[str, tuple[list[str], list[str]]]:
        """Paths per scenario, DRF and bare side by side; mentors and records are a fixed random sample."""
        rng = random.Random(seed)
        mentor_ids = list(
            Mentor.objects.filter(certifications__deleted_at__isnull=True)
            .values_list("mentor_id", flat=True)
            .distinct()[:5000]
        )
        cert_ids = list(Certification.objects.alive().values_list("certification_id", flat=True)[:5000])
        if not mentor_ids or not cert_ids:
            raise CommandError("The database holds no certifications to read.")
        mentors = rng.sample(mentor_ids, min(500, len(mentor_ids)))
        records = rng.sample(cert_ids, min(500, len(cert_ids)))
        expired = "?" + urlencode({"status": "expired", "expires_before": EXPIRED_BEFORE})
        return {
            "list_default": ([DRF_BASE], [BARE_BASE]),
            "list_mentor_id": (
                [f"{DRF_BASE}?mentor_id={m}" for m in mentors],
                [f"{BARE_BASE}?mentor_id={m}" for m in mentors],
            ),
            "list_expired_before": ([DRF_BASE + expired], [BARE_BASE + expired]),
            "get_one": ([f"{DRF_BASE}/{c}" for c in records], [f"{BARE_BASE}/{c}" for c in records]),
        }

    @staticmethod
    def _line(name: str, r: dict) -> str:
        line = (
            f"  {name:<20} DRF {r['drf_rps']:8.1f} req/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms | "
            f"bare {r['bare_rps']:8.1f} req/s  p50 {r['bare_p50_ms']:7.2f} ms  p99 {r['bare_p99_ms']:7.2f} ms | "
            f"ratio {r['ratio']} (p50 x{r['p50_ratio']})"
        )
        if "metrics_p50_ms" in r:
            line += (
                f" | without metrics p50 {r['no_metrics_p50_ms']:7.2f} ms  p99 {r['no_metrics_p99_ms']:7.2f} ms"
                f" (metrics add {r['metrics_p50_ms']:+.3f} / {r['metrics_p99_ms']:+.3f} ms)"
            )
        return line
