"""``manage.py bench_eligibility``: the eligibility batch's latency and query count on the data set in place.

Sends ``POST /api/v1/mentors/eligibility`` with ``--batch`` mentor ids (drawn with
a seeded generator from the mentors in the database) ``--requests`` times through
Django's test client, in this process: the whole view (authentication,
permissions, validation, the two queries, serialization), without a network.
Prints p50, p99 and the maximum, and the queries per request (which must not
depend on the batch size). Seed a data set first, e.g. with ``bench_expiry``.
"""

from __future__ import annotations

import json
import random
import statistics
import time

from django.contrib.auth.models import Permission, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from certifications.models import Certification, Mentor

USERNAME = "bench-eligibility"


class Command(BaseCommand):
    help = "Latency (p50, p99) and queries of the eligibility batch on the data set in the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="Mentor ids per request (at most 500).")
        parser.add_argument("--requests", type=int, default=100, help="Requests to time.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        batch, requests = options["batch"], options["requests"]
        mentor_count = Mentor.objects.count()
        if mentor_count < batch:
            raise CommandError(f"The database holds {mentor_count} mentors; seed a data set first (bench_expiry).")
        rng = random.Random(options["seed"])
        top = Mentor.objects.order_by("-id").values_list("id", flat=True).first()
        user, _ = User.objects.get_or_create(username=USERNAME)
        user.user_permissions.add(Permission.objects.get(codename="view_mentor"))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        try:
            timings, queries = [], set()
            for number in range(requests + 1):
                pks = rng.sample(range(1, top + 1), batch)
                ids = list(Mentor.objects.filter(pk__in=pks).values_list("mentor_id", flat=True))
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.post("/api/v1/mentors/eligibility", {"mentor_ids": ids}, format="json")
                    elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise CommandError(f"eligibility answered {response.status_code}: {response.content[:300]!r}")
                if number:  # the first request warms the caches up
                    timings.append(elapsed * 1000)
                    queries.add(len(captured))
        finally:
            user.delete()
        timings.sort()
        figures = {
            "certs": Certification.objects.count(),
            "mentors": mentor_count,
            "batch": batch,
            "requests": requests,
            "p50_ms": round(statistics.median(timings), 1),
            "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 1),
            "max_ms": round(timings[-1], 1),
            "queries_per_request": sorted(queries),
        }
        self.stdout.write(
            f"eligibility batch of {batch} ({figures['certs']:,} certifications, {mentor_count:,} mentors, "
            f"{requests} requests): p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
            f"max {figures['max_ms']} ms; queries per request {figures['queries_per_request']}"
        )
        if options["json"]:
            self.stdout.write(json.dumps(figures))
