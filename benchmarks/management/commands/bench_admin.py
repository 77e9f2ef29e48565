"""``manage.py bench_admin``: the median time of each main admin page on the data set in place.

Each page is fetched ``--repeat`` times (after one warm-up fetch) through Django's
test client in this process, as a superuser: the whole view (session,
permissions, filters, the count, the page, the template), without a network.
Prints each page's median, its queries, the median time spent in them (SQL, which
depends less on a busy machine than the rest) and whether it met ``--goal-ms``; with
``--json`` the last line is one JSON object. Seed a data set first (``bench_expiry``).
"""

from __future__ import annotations

import json
import statistics
import time

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from certifications.models import Certification, CertificationType, Mentor

USERNAME = "bench-admin"
ADMIN = "/admin/certifications"


def pages() -> dict[str, str]:
    """The pages to time, named; ids and names come from the data set."""
    basic = CertificationType.objects.get(code="peer_mentor_basic").pk
    # The 501st of each (or the last, in a small data set): neither the first rows nor a random one.
    cert_id = list(Certification.objects.order_by("pk").values_list("certification_id", flat=True)[:501])[-1]
    mentor = list(Mentor.objects.exclude(name="").order_by("pk").values_list("name", flat=True)[:501])[-1]
    certs = f"{ADMIN}/certification/"
    return {
        "index": "/admin/",
        "certs": certs,
        "certs_status": f"{certs}?status__exact=expired",
        "certs_type": f"{certs}?certification_type__id__exact={basic}",
        "certs_lifecycle_active": f"{certs}?lifecycle=active",
        "certs_lifecycle_lapsed": f"{certs}?lifecycle=lapsed",
        "certs_lifecycle_superseded": f"{certs}?lifecycle=superseded",
        "certs_lifecycle_revoked": f"{certs}?lifecycle=revoked",
        "certs_lifecycle_grace": f"{certs}?lifecycle=grace",
        "certs_lifecycle_renewal_due": f"{certs}?lifecycle=renewal_due",
        "certs_expiring_30": f"{certs}?expiring=30",
        "certs_deleted": f"{certs}?deleted=yes",
        "certs_drilldown_month": f"{certs}?expires_at__year=2026&expires_at__month=6",
        "certs_search_id": f"{certs}?q={cert_id}",
        "certs_search_id_prefix": f"{certs}?q={cert_id[:7]}",
        "certs_search_name": f"{certs}?q={mentor.split()[-1]}",
        "mentors": f"{ADMIN}/mentor/",
        "mentors_paused": f"{ADMIN}/mentor/?status__exact=paused",
        "mentors_search_name": f"{ADMIN}/mentor/?q={mentor.split()[-1]}",
        "log": f"{ADMIN}/autopauselog/",
        "runs": f"{ADMIN}/expiryjobrun/",
    }


class Command(BaseCommand):
    help = "Median time of each main admin page on the data set in the database, as a superuser."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=5, help="Timed fetches per page (after one warm-up).")
        parser.add_argument("--goal-ms", type=float, default=250.0, help="The median each page should meet.")
        parser.add_argument("--only", nargs="*", default=None, help="Time only these pages (by name).")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if not Certification.objects.exists():
            raise CommandError("The database holds no certifications; seed a data set first (bench_expiry).")
        user, _ = User.objects.get_or_create(username=USERNAME, defaults={"is_staff": True, "is_superuser": True})
        client = Client()
        client.force_login(user)
        named = pages()
        if options["only"]:
            named = {name: path for name, path in named.items() if name in options["only"]}
        results: dict[str, dict] = {}
        try:
            with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
                for name, path in named.items():
                    results[name] = self._time(client, path, repeat=options["repeat"])
                    met = "met" if results[name]["median_ms"] <= options["goal_ms"] else "NOT met"
                    self.stdout.write(
                        f"  {name:<26} median {results[name]['median_ms']:8.1f} ms  "
                        f"(min {results[name]['min_ms']:.1f}, max {results[name]['max_ms']:.1f}; "
                        f"{results[name]['queries']} queries, {results[name]['sql_median_ms']:.1f} ms in SQL)  {met}"
                    )
        finally:
            user.delete()
        summary = {
            "certs": Certification.objects.count(),
            "mentors": Mentor.objects.count(),
            "repeat": options["repeat"],
            "goal_ms": options["goal_ms"],
            "vendor": connection.vendor,
            "pages": results,
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary))

    @staticmethod
    def _time(client: Client, path: str, *, repeat: int) -> dict:
        timings: list[float] = []
        sql_timings: list[float] = []
        queries = 0
        for number in range(repeat + 1):
            in_sql = [0.0]

            def watch(execute, sql, params, many, context, in_sql=in_sql):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    in_sql[0] += time.perf_counter() - started

            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(watch):
                started = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise CommandError(f"{path} answered {response.status_code}")
            if number:  # the first fetch warms the caches up
                timings.append(elapsed * 1000)
                sql_timings.append(in_sql[0] * 1000)
                queries = len(captured)
        return {
            "path": path,
            "median_ms": round(statistics.median(timings), 1),
            "min_ms": round(min(timings), 1),
            "max_ms": round(max(timings), 1),
            "sql_median_ms": round(statistics.median(sql_timings), 1),
            "queries": queries,
        }
