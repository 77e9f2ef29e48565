"""``manage.py bench_renewals``: the renewal queue's list pages and one-by-one approvals, on the data set in place.

1. Files ``--pending`` pending requests (default 10,000) for distinct mentors
   holding a live record, set-based (one stored PDF shared by every row: the
   benchmark times the queue, not the storage).
2. Pages through ``GET /api/v1/renewal-requests?state=pending`` at ``--limit``
   per page (default 100), oldest first, and times each page.
3. Approves the oldest ``--approvals`` of them (default 1,000) one by one through
   ``POST /api/v1/renewal-requests/{id}/approve``: each a real renewal with
   every consequence (record, history, auto-resume, events, notices, totals).

All through Django's test client in this process (the whole view, without a
network). Prints p50, p99 and the maximum of each, and the queries per
request. The approvals' records stay (they are renewals like any other); the
requests still pending and the benchmark's user are removed. Seed a data set
first, e.g. ``manage.py bench_expiry --certs 1000000 --keep`` on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time

from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from certhub.ids import fresh_ids
from certifications.models import Certification, RenewalRequest, RenewalState, SubmittedVia
from certifications.renewals.evidence import evidence_storage
from certifications.services.renewals import ID_PREFIX, new_renewal_request_id

USERNAME = "bench-renewals"
BASE = "/api/v1/renewal-requests"
PERMISSIONS = ("view_renewalrequest", "review_renewalrequest")
PDF = b"%PDF-1.4\n% bench_renewals\n%%EOF\n"


def _percentiles(timings: list[float]) -> dict:
    timings = sorted(timings)
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 1),
        "max_ms": round(timings[-1], 1),
    }


class Command(BaseCommand):
    help = "Latency (p50, p99) of the renewal queue's pages and of one-by-one approvals on the data set in place."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pending", type=int, default=10_000, help="Pending requests to file.")
        parser.add_argument("--approvals", type=int, default=1_000, help="Requests to approve one by one.")
        parser.add_argument("--limit", type=int, default=100, help="Requests per list page (at most 100).")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        pending, approvals, limit = options["pending"], options["approvals"], options["limit"]
        if approvals > pending:
            raise CommandError("--approvals cannot exceed --pending.")
        now = timezone.now()
        filed = self._file(pending, now=now)
        user, _ = User.objects.get_or_create(username=USERNAME)
        user.user_permissions.add(*Permission.objects.filter(codename__in=PERMISSIONS))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        try:
            pages, page_queries = self._list(client, pending=pending, limit=limit)
            approved, approve_queries = self._approve(client, filed[:approvals])
        finally:
            RenewalRequest.objects.filter(pk__in=[pk for pk, _ in filed], state=RenewalState.PENDING).delete()
            user.delete()
        figures = {
            "certs": Certification.objects.count(),
            "pending": pending,
            "approvals": approvals,
            "limit": limit,
            "list": {**_percentiles(pages), "pages": len(pages), "queries_per_page": sorted(page_queries)},
            "approve": {**_percentiles(approved), "queries_per_approval": sorted(approve_queries)},
        }
        self.stdout.write(
            f"renewal queue at {figures['certs']:,} certifications: {len(pages)} pages of {limit} pending "
            f"(of {pending:,}): p50 {figures['list']['p50_ms']} ms, p99 {figures['list']['p99_ms']} ms, max "
            f"{figures['list']['max_ms']} ms, queries {figures['list']['queries_per_page']}; {approvals:,} approvals "
            f"one by one: p50 {figures['approve']['p50_ms']} ms, p99 {figures['approve']['p99_ms']} ms, max "
            f"{figures['approve']['max_ms']} ms, queries {figures['approve']['queries_per_approval']}"
        )
        if options["json"]:
            self.stdout.write(json.dumps(figures))

    def _file(self, count: int, *, now: dt.datetime) -> list[tuple[int, str]]:
        """``count`` pending requests for distinct mentors holding a live record, oldest first; their (pk, id)."""
        busy = set(
            RenewalRequest.objects.filter(state=RenewalState.PENDING).values_list("mentor_id", "certification_type_id")
        )
        pairs, seen = [], set()
        records = Certification.objects.alive().order_by("-pk").values_list("mentor_id", "certification_type_id")
        for mentor_pk, type_pk in records.iterator(chunk_size=5_000):
            if mentor_pk in seen or (mentor_pk, type_pk) in busy:
                continue
            seen.add(mentor_pk)
            pairs.append((mentor_pk, type_pk))
            if len(pairs) == count:
                break
        if len(pairs) < count:
            raise CommandError(f"Only {len(pairs)} mentors hold a live record; seed a data set first (bench_expiry).")
        name = evidence_storage().save(f"bench/{now:%Y%m%d%H%M%S}.pdf", ContentFile(PDF))
        ids = fresh_ids(
            RenewalRequest, field="renewal_request_id", prefix=ID_PREFIX, count=count, generate=new_renewal_request_id
        )
        rows = [
            RenewalRequest(
                renewal_request_id=request_id,
                mentor_id=mentor_pk,
                certification_type_id=type_pk,
                issued_at=now - dt.timedelta(days=1, seconds=index),
                evidence=name,
                evidence_content_type="application/pdf",
                evidence_size=len(PDF),
                submitted_via=SubmittedVia.API,
                created_at=now - dt.timedelta(seconds=count - index),
            )
            for index, (request_id, (mentor_pk, type_pk)) in enumerate(zip(ids, pairs, strict=True))
        ]
        created = RenewalRequest.objects.bulk_create(rows, batch_size=2_000)
        return (
            [(row.pk, row.renewal_request_id) for row in created]
            if created[0].pk
            else list(
                RenewalRequest.objects.filter(renewal_request_id__in=ids)
                .order_by("created_at")
                .values_list("pk", "renewal_request_id")
            )
        )

    def _list(self, client: APIClient, *, pending: int, limit: int) -> tuple[list[float], set[int]]:
        timings, queries = [], set()
        for page in range(1, -(-pending // limit) + 1):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(BASE, {"state": "pending", "limit": limit, "page": page})
                elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise CommandError(f"the list answered {response.status_code}: {response.content[:300]!r}")
            timings.append(elapsed * 1000)
            queries.add(len(captured))
        return timings, queries

    def _approve(self, client: APIClient, filed: list[tuple[int, str]]) -> tuple[list[float], set[int]]:
        timings, queries = [], set()
        for _, request_id in filed:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.post(f"{BASE}/{request_id}/approve", format="json")
                elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise CommandError(f"approve answered {response.status_code}: {response.content[:300]!r}")
            timings.append(elapsed * 1000)
            queries.add(len(captured))
        return timings, queries
