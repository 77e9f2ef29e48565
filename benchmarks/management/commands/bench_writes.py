"""``manage.py bench_writes``: latency of the API's writes on the data set in place, and what the tallies add.

Creates ``--requests`` certifications, renews each (``PUT``) and deletes each,
through DRF's test client in this process (authentication, permissions,
validation, the service's transaction), and prints p50 and p99 per operation
and the share of the time spent in the maintained totals' statements. The
records it writes are soft-deleted at the end (the tallies count them as such).
"""

from __future__ import annotations

import json
import statistics
import time

from django.contrib.auth.models import Permission, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from certhub.ids import new_id
from certifications.models import Certification
from certifications.totals.models import CertificationTally

USERNAME = "bench-writes"
TALLY_TABLE = CertificationTally._meta.db_table
RENEWAL = {"expires_at": "2031-01-15T00:00:00Z", "status": "valid"}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "p50 / p99 of API create, renew and delete on the data set in the database, and the tallies' share."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=200, help="Records to create, renew and delete.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if not Certification.objects.exists():
            raise CommandError("The database holds no certifications; seed a data set first (bench_expiry).")
        user, _ = User.objects.get_or_create(username=USERNAME)
        codenames = ["add_certification", "change_certification", "delete_certification"]
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        timings: dict[str, list[float]] = {"create": [], "renew": [], "delete": []}
        tally_seconds = [0.0]

        def watch(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                if TALLY_TABLE in sql:
                    tally_seconds[0] += time.perf_counter() - started

        def timed(kind: str, call):
            started = time.perf_counter()
            response = call()
            timings[kind].append((time.perf_counter() - started) * 1000)
            if response.status_code not in (200, 201):
                raise CommandError(f"{kind} answered {response.status_code}: {response.content[:300]!r}")
            return response

        base = "/api/v1/certifications"
        try:
            with connection.execute_wrapper(watch):
                for _ in range(options["requests"]):
                    body = {
                        "mentor_id": new_id("mntr_", 12),
                        "certification_type": "peer_mentor_basic",
                        "issued_at": "2026-01-15T00:00:00Z",
                    }
                    created = timed("create", lambda body=body: client.post(base, body, format="json")).json()
                    path = f"{base}/{created['certification_id']}"
                    timed("renew", lambda path=path: client.put(path, RENEWAL, format="json"))
                    timed("delete", lambda path=path: client.delete(path))
        finally:
            user.delete()
        total_ms = sum(sum(values) for values in timings.values())
        figures = {
            "certs": Certification.objects.count(),
            "requests": options["requests"],
            **{
                kind: {"p50_ms": round(statistics.median(v), 2), "p99_ms": round(_percentile(v, 0.99), 2)}
                for kind, v in timings.items()
            },
            "tally_share": round(tally_seconds[0] * 1000 / total_ms, 4) if total_ms else None,
        }
        for kind in timings:
            p50, p99 = figures[kind]["p50_ms"], figures[kind]["p99_ms"]
            self.stdout.write(f"  {kind:<7} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms")
        self.stdout.write(f"  time in the tallies' statements: {100 * (figures['tally_share'] or 0):.2f}%")
        if options["json"]:
            self.stdout.write(json.dumps(figures))
