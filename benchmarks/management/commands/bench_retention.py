"""``manage.py bench_retention``: the API's latency while retention deletes a million old events and deliveries.

Seeds ``--events`` old events, each with a delivered delivery and its
attempt (``benchmarks.retention``, PostgreSQL), serves the project under
gunicorn as ``bench_api`` does and loads the API's reads (``bench_api``'s
certification scenarios and the event feed) with ``--concurrency`` clients:
first ``--seconds`` without retention, then for as long as ``manage.py
apply_retention`` runs in its own process. Prints p50 and p99 of both
periods, the retention's duration, its batches and their size. With
``--json`` the last line is one JSON object.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from rest_framework.authtoken.models import Token

from benchmarks import api as bench
from benchmarks.management.commands.bench_api import Command as BenchApi
from benchmarks.retention import seed_old_events, seeded_counts
from certifications.models import Certification

BENCH_USER = "bench-retention"
FEED_PATHS = ["/api/v1/events?limit=100", "/api/v1/events?limit=20&type=mentor.paused"]


class Command(BaseCommand):
    help = "p50/p99 of the API while apply_retention deletes --events old events and deliveries, against without it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=1_000_000, help="Old events seeded (a delivery each).")
        parser.add_argument("--age-days", type=int, default=500, help="Age of the seeded events, in days.")
        parser.add_argument("--certs", type=int, default=100_000, help="Certifications for the API's reads.")
        parser.add_argument("--batch-size", type=int, default=None, help="apply_retention's (RETENTION_BATCH_SIZE).")
        parser.add_argument("--pause-ms", type=int, default=None, help="apply_retention's (RETENTION_BATCH_PAUSE_MS).")
        parser.add_argument(
            "--rest-factor", type=float, default=None, help="apply_retention's (RETENTION_BATCH_REST_FACTOR)."
        )
        parser.add_argument("--concurrency", type=int, default=4, help="Client processes (keep-alive each).")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes.")
        parser.add_argument("--seconds", type=float, default=20.0, help="Load time without retention.")
        parser.add_argument("--slice", type=float, default=2.0, help="Load slices while retention runs (seconds).")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_retention seeds with PostgreSQL's generate_series: set DATABASE_URL.")
        say = self.stdout.write if options["verbosity"] >= 1 else (lambda *_: None)
        if Certification.objects.count() != options["certs"]:
            call_command("bench_api", "--certs", str(options["certs"]), "--seconds", "0.1", "--concurrency", "1")
        started = time.perf_counter()
        seed_old_events(count=options["events"], age_days=options["age_days"])
        seeded = seeded_counts()
        say(f"seeded {seeded} in {time.perf_counter() - started:.1f}s")

        paths, headers = self._paths(), self._headers()
        concurrency, workers = options["concurrency"], options["workers"]
        server = bench.Server(workers=workers, threads=max(1, math.ceil(concurrency / workers)))
        pool = bench.client_pool(concurrency)
        load = {"port": 0, "paths": paths, "concurrency": concurrency, "max_requests": 10**7, "headers": headers}
        try:
            server.start()
            load["port"] = server.port
            bench.load(pool, **load, seconds=2.0)  # warm up
            baseline = bench.load(pool, **load, seconds=options["seconds"])
            say(self._line("without retention", baseline))
            during, report, elapsed = self._during_retention(pool, load, options)
            say(self._line("during retention", during))
        finally:
            pool.terminate()
            pool.join()
            server.stop()

        events = next(kind for kind in report["kinds"] if kind["kind"] == "events")
        deliveries = next(kind for kind in report["kinds"] if kind["kind"] == "webhook_deliveries")
        summary = {
            "events_seeded": seeded["events"],
            "deliveries_seeded": seeded["deliveries"],
            "left_after": seeded_counts(),
            "batch_size": report["batch_size"],
            "pause_ms": options["pause_ms"] or 0,
            "rest_factor": settings.RETENTION["BATCH_REST_FACTOR"]
            if options["rest_factor"] is None
            else options["rest_factor"],
            "retention_seconds": round(elapsed, 1),
            "events_deleted": events["rows"],
            "events_batches": events["batches"],
            "deliveries_deleted": deliveries["rows"],
            "deliveries_batches": deliveries["batches"],
            "concurrency": concurrency,
            "workers": workers,
            "without": self._figures(baseline),
            "during": self._figures(during),
            "p99_ratio": round(during.p99_ms / baseline.p99_ms, 2) if baseline.p99_ms else None,
            "loadavg": [round(value, 2) for value in os.getloadavg()],
        }
        say(
            f"retention: {summary['deliveries_deleted']:,} deliveries in {summary['deliveries_batches']} batches, "
            f"{summary['events_deleted']:,} events in {summary['events_batches']} batches of at most "
            f"{summary['batch_size']} ids, {summary['retention_seconds']}s"
        )
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        if baseline.errors or during.errors:
            raise CommandError(f"{baseline.errors + during.errors} requests failed")

    def _during_retention(self, pool, load: dict, options: dict) -> tuple[bench.LoadResult, dict, float]:
        """Load the API in slices for as long as ``apply_retention`` runs; its report and duration."""
        command = [sys.executable, "manage.py", "apply_retention", "--json"]
        if options["batch_size"]:
            command += ["--batch-size", str(options["batch_size"])]
        if options["pause_ms"] is not None:
            command += ["--pause-ms", str(options["pause_ms"])]
        if options["rest_factor"] is not None:
            command += ["--rest-factor", str(options["rest_factor"])]
        env = {**os.environ, "DATABASE_URL": bench.database_url(), "LOG_LEVEL": "WARNING"}
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, text=True)
        latencies, errors = bench.load_while(
            pool, lambda: process.poll() is None, **load, slice_seconds=options["slice"]
        )
        out, _ = process.communicate()
        elapsed = time.perf_counter() - started
        if process.returncode:
            raise CommandError(f"apply_retention exited with {process.returncode}")
        return bench.summarize(latencies, errors, elapsed), json.loads(out), elapsed

    def _paths(self) -> list[str]:
        scenarios = BenchApi()._scenarios(seed=1)
        paths = [path for name in ("list_default", "list_mentor_id", "get_one") for path in scenarios[name][0][:50]]
        return paths + FEED_PATHS * 10

    def _headers(self) -> dict[str, str]:
        user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
        user.user_permissions.add(Permission.objects.get(codename="view_event"))
        return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}

    @staticmethod
    def _figures(result: bench.LoadResult) -> dict:
        return {
            "requests": result.requests,
            "rps": round(result.rps, 1),
            "p50_ms": round(result.p50_ms, 2),
            "p99_ms": round(result.p99_ms, 2),
            "errors": result.errors,
        }

    @staticmethod
    def _line(name: str, result: bench.LoadResult) -> str:
        return (
            f"  {name:<18} {result.requests:>7} requests  {result.rps:8.1f} req/s  "
            f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  errors {result.errors}"
        )
