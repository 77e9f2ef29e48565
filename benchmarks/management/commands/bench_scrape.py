"""``manage.py bench_scrape``: the cost of one ``/metrics`` scrape at a data set's size, and of request metrics.

Seeds the data set unless it is there (as ``bench_api``), and on PostgreSQL
``--deliveries`` webhook deliveries and ``--notifications`` notices unless as many
are there (``benchmarks.scrape``); checks once that the state gauges equal real
counts; then times ``--scrapes`` scrapes (the exposition: every process's counters and the gauges read from the
database) and reports their median and p99, the queries of one, and what a busy
machine does not inflate: the median CPU time of this process and (PostgreSQL) the
database's execution time of one scrape's statements; then times what
the request middleware adds to one request (a counter and a histogram observation).
With ``--json`` the last line is one JSON object.
"""

from __future__ import annotations

import json
import statistics
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import scrape as tables
from benchmarks.expiry import vacuum
from benchmarks.management.commands.bench_expiry import DEFAULT_NOW
from certhub.metrics.exposition import scrape
from certhub.metrics.series import http_duration, http_requests
from certifications.demo.layout import SeedError, SeedSpec
from certifications.demo.loader import seed
from certifications.management.commands.seed_demo import parse_now
from certifications.models import Certification
from events.models import WebhookDelivery
from notifications.models import Notification


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def database_ms(captured: list[dict]) -> float | None:
    """The database's own time for the statements of one scrape (PostgreSQL: ``EXPLAIN ANALYZE``'s execution times)."""
    if connection.vendor != "postgresql":
        return None
    total = 0.0
    with connection.cursor() as cursor:
        for query in captured:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
            total += cursor.fetchone()[0][0]["Execution Time"]
    return round(total, 3)


class Command(BaseCommand):
    help = "Median and p99 of /metrics scrapes at a data set's size, and the request metrics' cost per request."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--certs", type=int, default=1_000_000, help="Data set size (seeded unless it is there).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--now", default=DEFAULT_NOW)
        parser.add_argument(
            "--deliveries", type=int, default=None, help="Webhook deliveries (PostgreSQL; default: as many as --certs)."
        )
        parser.add_argument(
            "--notifications", type=int, default=None, help="Notifications (PostgreSQL; default: --certs / 5)."
        )
        parser.add_argument("--scrapes", type=int, default=100)
        parser.add_argument("--requests", type=int, default=100_000, help="Request observations to time.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def _seed_states(self, options: dict, say) -> None:
        """Deliveries and notifications in the numbers asked for (PostgreSQL), and the gauges checked against them."""
        certs, now = options["certs"], parse_now(options["now"])
        wanted = {
            "deliveries": (options["deliveries"] if options["deliveries"] is not None else certs, WebhookDelivery),
            "notifications": (
                options["notifications"] if options["notifications"] is not None else certs // 5,
                Notification,
            ),
        }
        for name, (count, model) in wanted.items():
            if model.objects.count() == count:
                continue
            if connection.vendor != "postgresql":
                raise CommandError(f"--{name} {count:,}: seeding them needs PostgreSQL")
            say(f"seeding {count:,} {name}")
            getattr(tables, f"{name}_seed")(count, now=now)
        scraped = tables.scraped_states(scrape().decode())
        if scraped != tables.real_counts():
            raise CommandError(f"the state gauges {scraped} differ from the rows {tables.real_counts()}")

    def handle(self, *args, **options) -> None:
        say = self.stdout.write if options["verbosity"] >= 1 else (lambda *_: None)
        certs = options["certs"]
        existing = Certification.objects.count()
        if existing != certs:
            spec = SeedSpec(certs=certs, due=max(1, certs // 100), seed=options["seed"], now=parse_now(options["now"]))
            try:
                seed(spec, show_progress=options["verbosity"] >= 1)
            except SeedError as exc:
                raise CommandError(f"{exc} (or pass the --certs it holds, {existing:,})") from None
        self._seed_states(options, say)
        if connection.vendor == "postgresql":
            vacuum()  # a running system's autovacuum keeps the visibility map the index-only counts need

        with CaptureQueriesContext(connection) as queries:
            scrape()  # warm: the first scrape of a process opens the files and compiles the queries
        timings, cpu = [], []
        for _ in range(options["scrapes"]):
            started, started_cpu = time.perf_counter(), time.process_time()
            scrape()
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)

        n = options["requests"]
        started = time.perf_counter()
        for _ in range(n):
            http_requests.labels("GET", "bench-scrape", "200").inc()
            http_duration.labels("bench-scrape").observe(0.01)
        per_request_us = (time.perf_counter() - started) / n * 1e6

        figures = {
            "certs": certs,
            "deliveries": WebhookDelivery.objects.count(),
            "notifications": Notification.objects.count(),
            "database": connection.vendor,
            "scrapes": len(timings),
            "scrape_median_ms": round(statistics.median(timings), 2),
            "scrape_p99_ms": round(percentile(timings, 0.99), 2),
            "queries_per_scrape": len(queries),
            # What a busy machine does not inflate: this process's CPU time, and the database's execution time.
            "scrape_cpu_median_ms": round(statistics.median(cpu), 2),
            "database_ms": database_ms(queries.captured_queries),
            "request_metrics_us": round(per_request_us, 2),
        }
        say(
            f"{certs:,} certifications, {figures['deliveries']:,} deliveries, "
            f"{figures['notifications']:,} notifications on {connection.vendor}: "
            f"scrape median {figures['scrape_median_ms']} ms, "
            f"p99 {figures['scrape_p99_ms']} ms ({figures['queries_per_scrape']} queries; CPU median "
            f"{figures['scrape_cpu_median_ms']} ms, database {figures['database_ms']} ms); "
            f"request metrics {figures['request_metrics_us']} us per request"
        )
        if options["json"]:
            self.stdout.write(json.dumps(figures))
