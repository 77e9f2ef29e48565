"""``manage.py bench_erasure``: how long erasing one mentor takes on a large data set (PostgreSQL).

1. Seeds ``--certs`` certifications with the demo generator (``certifications.demo``),
   unless the database already holds a data set (``--flush`` replaces it).
2. Adds history rows and sent notices at the data set's scale (``benchmarks.erasure``).
3. Erases ``--erase`` mentors (default 20), those holding the most records, one by one
   through ``mentor_erase`` (each its own transaction, with every consequence),
   and prints p50 and the maximum, with the statements per erasure.

The mentors it erases stay erased: run it on a benchmark database.
"""

from __future__ import annotations

import json
import statistics
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks import erasure
from certifications.demo.layout import SeedError, SeedSpec
from certifications.demo.loader import is_empty, seed
from certifications.history import Actor, Source
from certifications.models import Certification
from certifications.services import mentor_erase

ACTOR = Actor(source=Source.CLI)


class Command(BaseCommand):
    help = "Time the erasure of one mentor (p50, max) on a data set of --certs certifications (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--certs", type=int, default=1_000_000, help="Certifications to seed.")
        parser.add_argument("--erase", type=int, default=20, help="Mentors to erase, one by one.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--flush", action="store_true", help="Replace the data set in place.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_erasure measures against PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
        say = self.stdout.write if options["verbosity"] >= 1 else (lambda *_: None)
        if options["flush"] or is_empty():
            spec = SeedSpec(
                certs=options["certs"], due=max(1, options["certs"] // 100), seed=options["seed"], now=timezone.now()
            )
            started = time.perf_counter()
            try:
                seed(spec, show_progress=options["verbosity"] >= 1, replace=options["flush"])
            except SeedError as exc:
                raise CommandError(str(exc)) from None
            say(f"seeded {spec.certs:,} certifications in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        if erasure.fill():
            say(f"added history rows and notices in {time.perf_counter() - started:.1f}s")
        mentors = erasure.busiest_mentors(options["erase"])
        if not mentors:
            raise CommandError("No mentor left to erase: seed a data set first (--flush).")
        timings, statements = [], []
        for mentor in mentors:
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                mentor_erase(mentor=mentor, reason="bench_erasure", now=timezone.now(), by=ACTOR)
                timings.append((time.perf_counter() - started) * 1000)
            statements.append(len(queries))
        figures = {
            "certifications": Certification.objects.count(),
            "erased": len(timings),
            "p50_ms": round(statistics.median(timings), 1),
            "max_ms": round(max(timings), 1),
            "statements": max(statements),
        }
        say(
            f"erased {figures['erased']} mentors at {figures['certifications']:,} certifications: "
            f"p50 {figures['p50_ms']} ms, max {figures['max_ms']} ms, {figures['statements']} statements each"
        )
        if options["json"]:
            self.stdout.write(json.dumps(figures))
