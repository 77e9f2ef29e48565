"""``manage.py bench_eligibility``: the eligibility batch's latency against its two queries alone.

Sends ``POST /api/v1/mentors/eligibility`` with ``--batch`` mentor ids (drawn with
a seeded generator from the mentors in the database) ``--requests`` times through
Django's test client, in this process: the whole view (authentication,
permissions, validation, the two queries, the answers, rendering), without a
network. Each request is paired with its *floor*: the same two SQL statements
(as the ORM compiles them for the same ids) run on a raw cursor and fetched
with ``fetchall`` (timestamps loaded as the answer's read loads them), nothing
else; the two alternate which goes first, so that neither always finds the
other's pages cached. Prints p50, p99 and the maximum
of each, the ratios, the median CPU time this process spent per request and per
floor (PostgreSQL's excluded; a loaded machine stretches it far less than the
wall-clock times), and the queries per request (which must not depend on the
batch size). The heap the process holds before the first request is frozen out of
the garbage collector's way first, as ``config.wsgi`` does in a server (not with
``--no-freeze``), and given back to it at the end.

The data set in place is used, or, with ``--certs``, one seeded first (with
``--mentors``; ``--flush`` replaces existing data), as ``seed_demo`` seeds it.
"""

from __future__ import annotations

import json
import random
import statistics
import time

from django.contrib.auth.models import Permission, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from certhub.heap import startup_heap_frozen
from certhub.sql import dialect
from certifications.demo.layout import SeedError, SeedSpec
from certifications.demo.loader import seed
from certifications.eligibility import mentors_query, records_query
from certifications.models import Certification, Mentor

USERNAME = "bench-eligibility"


def _percentiles(timings: list[float]) -> dict:
    ordered = sorted(timings)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def _floor_ms(mentor_ids: list[str]) -> tuple[float, float]:
    """The two statements alone, compiled beforehand, run and fetched on a raw cursor."""
    pks = [row[0] for row in mentors_query(mentor_ids)]  # what the second statement is compiled with
    statements = [
        mentors_query(mentor_ids).query.sql_with_params(),
        records_query(pks, now=timezone.now()).query.sql_with_params(),
    ]
    fetch_rows = dialect().fetch_rows  # a raw cursor, timestamps loaded as the answer's read loads them
    started, cpu = time.perf_counter(), time.process_time()
    for sql, params in statements:
        fetch_rows(sql, params)
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


class Command(BaseCommand):
    help = "Latency (p50, p99) and queries of the eligibility batch, against its two queries alone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="Mentor ids per request (at most 500).")
        parser.add_argument("--requests", type=int, default=100, help="Requests to time.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--certs", type=int, default=None, help="Seed this many records first (seed_demo's data).")
        parser.add_argument("--mentors", type=int, default=None, help="With --certs: mentors (default certs * 2 / 5).")
        parser.add_argument("--flush", action="store_true", help="With --certs: replace existing data.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")
        parser.add_argument("--no-freeze", action="store_true", help="Leave the start-up heap to the collector.")

    def handle(self, *args, **options) -> None:
        batch, requests = options["batch"], options["requests"]
        if options["certs"] is not None:
            spec = SeedSpec(
                certs=options["certs"], due=0, mentors=options["mentors"], seed=options["seed"], now=timezone.now()
            )
            try:
                seed(spec, replace=options["flush"])
            except SeedError as exc:
                raise CommandError(str(exc)) from None
        mentor_count = Mentor.objects.count()
        if mentor_count < batch:
            raise CommandError(f"The database holds {mentor_count} mentors; seed a data set first (--certs).")
        rng = random.Random(options["seed"])
        # Keys drawn between the lowest and the highest (a database's keys need not start at 1).
        bounds = Mentor.objects.aggregate(low=Min("id"), high=Max("id"))
        user, _ = User.objects.get_or_create(username=USERNAME)
        user.user_permissions.add(Permission.objects.get(codename="view_mentor"))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")

        def view_ms(ids: list[str]) -> tuple[float, float, int]:
            with CaptureQueriesContext(connection) as captured:
                started, cpu = time.perf_counter(), time.process_time()
                response = client.post("/api/v1/mentors/eligibility", {"mentor_ids": ids}, format="json")
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            if response.status_code != 200:
                raise CommandError(f"eligibility answered {response.status_code}: {response.content[:300]!r}")
            return elapsed * 1000, cpu * 1000, len(captured)

        try:
            # As config.wsgi does before any request.
            with startup_heap_frozen(freeze=not options["no_freeze"]) as frozen:
                timings, floors, cpus, floor_cpus, queries = [], [], [], [], set()
                for number in range(requests + 1):
                    pks = rng.sample(range(bounds["low"], bounds["high"] + 1), batch)
                    ids = list(Mentor.objects.filter(pk__in=pks).values_list("mentor_id", flat=True))
                    if number % 2:
                        floor, floor_cpu = _floor_ms(ids)
                        elapsed, cpu, count = view_ms(ids)
                    else:
                        elapsed, cpu, count = view_ms(ids)
                        floor, floor_cpu = _floor_ms(ids)
                    if number:  # the first request warms the caches up
                        timings.append(elapsed)
                        floors.append(floor)
                        cpus.append(cpu)
                        floor_cpus.append(floor_cpu)
                        queries.add(count)
        finally:
            user.delete()
        view, bare = _percentiles(timings), _percentiles(floors)
        figures = {
            "certs": Certification.objects.count(),
            "mentors": mentor_count,
            "batch": batch,
            "requests": requests,
            **view,
            "floor_p50_ms": bare["p50_ms"],
            "floor_p99_ms": bare["p99_ms"],
            "p50_ratio": round(view["p50_ms"] / bare["p50_ms"], 2),
            "p99_ratio": round(view["p99_ms"] / bare["p99_ms"], 2),
            # This process's CPU per request (PostgreSQL's excluded): what a busy machine disturbs least.
            "cpu_p50_ms": round(statistics.median(cpus), 1),
            "floor_cpu_p50_ms": round(statistics.median(floor_cpus), 1),
            "queries_per_request": sorted(queries),
            "frozen_objects": frozen,
        }
        self.stdout.write(
            f"eligibility batch of {batch} ({figures['certs']:,} certifications, {mentor_count:,} mentors, "
            f"{requests} requests): p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
            f"max {figures['max_ms']} ms; the two queries alone: p50 {bare['p50_ms']} ms, p99 {bare['p99_ms']} ms "
            f"(view / floor: p50 {figures['p50_ratio']}, p99 {figures['p99_ratio']}); "
            f"this process's CPU per request: p50 {figures['cpu_p50_ms']} ms (floor {figures['floor_cpu_p50_ms']} ms); "
            f"queries per request {figures['queries_per_request']}"
        )
        if options["json"]:
            self.stdout.write(json.dumps(figures))
