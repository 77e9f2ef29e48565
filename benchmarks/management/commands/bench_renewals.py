"""``manage.py bench_renewals``: the renewal queue's list pages and one-by-one approvals, under gunicorn.

1. Seeds ``--certs`` certifications with ``seed_demo``'s generator (COPY on
   PostgreSQL) unless the database holds exactly that many (``--flush``
   replaces a different set); without ``--certs`` the data in place is used.
2. Files ``--pending`` pending requests (default 10,000) for distinct mentors
   holding a live record, oldest first, set-based, each with its own small PDF
   stored through the evidence storage.
3. Counts the statements of one list page (the first and the last) and of
   ``--probes`` approvals in this process, through Django's test client.
4. Serves the project with gunicorn on 127.0.0.1 (``benchmarks.settings``, as
   ``bench_api``) and, from one keep-alive client, reads every page of
   ``GET /api/v1/renewal-requests?state=pending`` at ``--limit`` (the API's
   default, 20) alternately with the same page of a bare Django view that runs
   the same queries and returns the same JSON (their ratio is the framework's
   share); then approves the oldest ``--approvals`` (default 1,000) one by one
   through ``POST /api/v1/renewal-requests/{id}/approve``, each a real renewal
   with every consequence (record, history, auto-resume, events and their
   deliveries, notices, totals).

Prints p50, p99 and the maximum of each, and the CPU time per request that the
serving processes spent (gunicorn's worker and its PostgreSQL backend, read from
``/proc`` around each request): on a machine shared with other work the wall
time includes the wait for a core, the CPU time does not. The approvals'
records stay (they are renewals like any other); the requests still pending,
their files and the benchmark's user are removed. ``--in-process`` times through
Django's test client instead of the server (no network, no gunicorn: small runs
and SQLite; the CPU time is then this whole process's and its backend's).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import statistics
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from benchmarks import api as bench
from benchmarks.expiry import vacuum
from benchmarks.management.commands.bench_expiry import DEFAULT_NOW
from certhub.api.pagination import DEFAULT_LIMIT
from certhub.ids import fresh_ids
from certifications.demo.layout import SeedError, SeedSpec
from certifications.demo.loader import seed
from certifications.management.commands.seed_demo import parse_now
from certifications.models import Certification, RenewalRequest, RenewalState, SubmittedVia
from certifications.renewals.evidence import evidence_storage
from certifications.services.renewals import ID_PREFIX, new_renewal_request_id

USERNAME = "bench-renewals"
BASE = "/api/v1/renewal-requests"
BARE = "/bench/bare/renewal-requests"
PERMISSIONS = ("view_renewalrequest", "review_renewalrequest")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _pdf(index: int) -> bytes:
    """A small PDF of its own for each request (a few hundred bytes)."""
    return b"%PDF-1.4\n% bench_renewals " + str(index).encode() + b"\n" + b"0" * 300 + b"\n%%EOF\n"


def _percentiles(timings: list[float]) -> dict:
    timings = sorted(timings)
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 1),
        "max_ms": round(timings[-1], 1),
    }


def _cpu_ticks(pids: list[int]) -> dict[int, int]:
    """The CPU time (user and system, in clock ticks) each of ``pids`` has used so far, from ``/proc``."""
    ticks = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone, or not on this machine
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks


def _cpu_spent(before: dict[int, int], after: dict[int, int]) -> float:
    """Seconds of CPU between two readings; a process that appeared in between counts from its start."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _database_backends(*, own: bool) -> list[int]:
    """The PostgreSQL backends serving the requests: this process's own, or every other one on this database."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        if own:
            cursor.execute("SELECT pg_backend_pid()")
        else:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            )
        return [row[0] for row in cursor.fetchall()]


class _Clock:
    """Each request's wall time by kind, and the CPU time the application and the database spent on them.

    The CPU time is read from ``/proc`` around each request (whole clock ticks,
    so a sum over many requests, not one request's): on a machine shared with
    other work the wall time includes waiting for a core, the CPU time does not.
    The database's backends are listed afresh each time: a server's connection
    is replaced after ``CONN_MAX_AGE``.
    """

    def __init__(self, app: list[int], *, own_backend: bool) -> None:
        self.app, self.own_backend = app, own_backend
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def _read(self) -> tuple[dict[int, int], dict[int, int]]:
        return _cpu_ticks(self.app), _cpu_ticks(_database_backends(own=self.own_backend))

    def request(self, kind: str, client, method: str, path: str, **options) -> tuple[int, bytes]:
        """``client.request(method, path)``, timed as a request of ``kind``."""
        app, database = self._read()
        started = time.perf_counter()
        result = client.request(method, path, **options)
        self.wall.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        app_after, database_after = self._read()
        spent = self.cpu.setdefault(kind, [0.0, 0.0])
        spent[0] += _cpu_spent(app, app_after)
        spent[1] += _cpu_spent(database, database_after)
        return result

    def figures(self, kind: str) -> dict:
        count = len(self.wall[kind])
        app, database = self.cpu[kind]
        return {
            **_percentiles(self.wall[kind]),
            "cpu_app_ms": round(app * 1000 / count, 1),
            "cpu_db_ms": round(database * 1000 / count, 1),
        }


class _ServerClient:
    """One keep-alive connection to the gunicorn under test, sending the benchmark user's token."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Token {token}"}

    def request(self, method: str, path: str, *, auth: bool = True) -> tuple[int, bytes]:
        headers = {**self.headers} if auth else {}
        if method == "POST":
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=b"{}" if method == "POST" else None, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


class _TestClient:
    """The same requests through Django's test client in this process."""

    def __init__(self, token: str) -> None:
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def request(self, method: str, path: str, *, auth: bool = True) -> tuple[int, bytes]:
        response = self.client.post(path, {}, format="json") if method == "POST" else self.client.get(path)
        return response.status_code, response.content


class Command(BaseCommand):
    help = "Latency (p50, p99) of the renewal queue's pages and of one-by-one approvals, served by gunicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--certs", type=int, default=None, help="Data set size (default: the data in place).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--now", default=DEFAULT_NOW)
        parser.add_argument("--flush", action="store_true", help="Replace a data set of another size.")
        parser.add_argument("--pending", type=int, default=10_000, help="Pending requests to file.")
        parser.add_argument("--approvals", type=int, default=1_000, help="Requests to approve one by one.")
        parser.add_argument("--probes", type=int, default=3, help="Approvals whose statements are counted.")
        parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="Requests per list page (at most 100).")
        parser.add_argument("--in-process", action="store_true", help="Django's test client instead of gunicorn.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        pending, approvals, limit, probes = (
            options["pending"],
            options["approvals"],
            options["limit"],
            options["probes"],
        )
        if approvals + probes > pending:
            raise CommandError("--approvals plus --probes cannot exceed --pending.")
        say = self.stdout.write if options["verbosity"] >= 1 else (lambda *_: None)
        self._dataset(options, say)
        now = timezone.now()
        filed = self._file(pending, now=now)
        say(f"filed {pending:,} pending requests on {Certification.objects.count():,} certifications")
        user, _ = User.objects.get_or_create(username=USERNAME)
        user.user_permissions.add(*Permission.objects.filter(codename__in=PERMISSIONS))
        token = Token.objects.get_or_create(user=user)[0].key
        try:
            queries, clock = self._run(token, filed, options, say)
        finally:
            self._clean(filed)
            user.delete()
        figures = {
            "certs": Certification.objects.count(),
            "vendor": connection.vendor,
            "served_by": "test client" if options["in_process"] else "gunicorn",
            "pending": pending,
            "approvals": approvals,
            "limit": limit,
            "list": {**clock.figures("list"), "pages": len(clock.wall["list"]), "queries_per_page": queries["list"]},
            "bare_list": clock.figures("bare"),
            "approve": {**clock.figures("approve"), "queries_per_approval": queries["approve"]},
        }
        figures["list"]["ratio_to_bare_p50"] = round(figures["list"]["p50_ms"] / figures["bare_list"]["p50_ms"], 2)
        lst, bare, app = figures["list"], figures["bare_list"], figures["approve"]
        say(
            f"renewal queue at {figures['certs']:,} certifications ({figures['served_by']}), "
            f"{lst['pages']} pages of {limit} pending (of {pending:,}): {self._line(lst)}, "
            f"queries {lst['queries_per_page']}; bare view: {self._line(bare)} (p50 ratio {lst['ratio_to_bare_p50']})"
        )
        say(f"{approvals:,} approvals one by one: {self._line(app)}, queries {app['queries_per_approval']}")
        if options["json"]:
            self.stdout.write(json.dumps(figures))

    @staticmethod
    def _line(f: dict) -> str:
        return (
            f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms, CPU per request "
            f"{f['cpu_app_ms']} ms application + {f['cpu_db_ms']} ms database"
        )

    def _run(self, token: str, filed: list[tuple[int, str]], options: dict, say) -> tuple:
        """The statements counted in this process, then the pages and approvals timed (gunicorn or in-process)."""
        pending, approvals, limit, probes = (
            options["pending"],
            options["approvals"],
            options["limit"],
            options["probes"],
        )
        with ExitStack() as stack:
            stack.enter_context(override_settings(ROOT_URLCONF="benchmarks.urls"))  # the bare view, in-process
            queries = self._count(_TestClient(token), filed[len(filed) - probes :], pending=pending, limit=limit)
            if options["in_process"]:
                client = _TestClient(token)
                app = [os.getpid()]
            else:
                server = bench.Server(workers=1, threads=1, secret_key=settings.SECRET_KEY)
                stack.callback(server.stop)
                server.start()
                say(f"gunicorn on 127.0.0.1:{server.port} (1 worker, 1 thread), one keep-alive client")
                client = _ServerClient(server.port, token)
                stack.callback(client.close)
                app = _children(server.process.pid)
            self._expect(client.request("GET", self._page_path(BASE, 1, limit)), "the list")  # connects the server
            clock = _Clock(app, own_backend=options["in_process"])
            self._list(client, clock, pending=pending, limit=limit)
            self._approve(client, clock, filed[:approvals])
        return queries, clock

    def _dataset(self, options: dict, say) -> None:
        certs = options["certs"]
        existing = Certification.objects.count()
        if certs is not None and existing != certs:
            spec = SeedSpec(certs=certs, due=max(1, certs // 100), seed=options["seed"], now=parse_now(options["now"]))
            try:
                seed(spec, show_progress=options["verbosity"] >= 1, replace=options["flush"])
            except SeedError as exc:
                raise CommandError(f"{exc} (or pass the --certs it holds, {existing:,})") from None
        else:
            say(f"using the {existing:,} certifications in the database")
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            vacuum()  # a running system's autovacuum keeps the visibility map the index-only scans need

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
            raise CommandError(f"Only {len(pairs)} mentors hold a live record; seed a data set first (--certs).")
        storage = evidence_storage()
        ids = fresh_ids(
            RenewalRequest, field="renewal_request_id", prefix=ID_PREFIX, count=count, generate=new_renewal_request_id
        )
        rows = []
        for index, (request_id, (mentor_pk, type_pk)) in enumerate(zip(ids, pairs, strict=True)):
            body = _pdf(index)
            rows.append(
                RenewalRequest(
                    renewal_request_id=request_id,
                    mentor_id=mentor_pk,
                    certification_type_id=type_pk,
                    issued_at=now - dt.timedelta(days=1, seconds=index),
                    evidence=storage.save(f"bench/{request_id}.pdf", ContentFile(body)),
                    evidence_content_type="application/pdf",
                    evidence_size=len(body),
                    submitted_via=SubmittedVia.API,
                    created_at=now - dt.timedelta(seconds=count - index),
                )
            )
        RenewalRequest.objects.bulk_create(rows, batch_size=2_000)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {RenewalRequest._meta.db_table}")
        return list(
            RenewalRequest.objects.filter(renewal_request_id__in=ids)
            .order_by("created_at", "id")
            .values_list("pk", "renewal_request_id")
        )

    def _clean(self, filed: list[tuple[int, str]]) -> None:
        """Remove the requests still pending and their files (approved ones stay, with their evidence)."""
        left = RenewalRequest.objects.filter(pk__in=[pk for pk, _ in filed], state=RenewalState.PENDING)
        storage = evidence_storage()
        for name in left.values_list("evidence", flat=True).iterator(chunk_size=2_000):
            storage.delete(name)
        left.delete()

    @staticmethod
    def _page_path(base: str, page: int, limit: int) -> str:
        return f"{base}?{urlencode({'state': 'pending', 'limit': limit, 'page': page})}"

    def _count(self, client: _TestClient, probes: list[tuple[int, str]], *, pending: int, limit: int) -> dict:
        """The statements of the first and last list page and of each probe approval, in this process."""
        counts: dict[str, list[int]] = {"list": [], "approve": []}
        for page in (1, -(-pending // limit)):
            with CaptureQueriesContext(connection) as captured:
                self._expect(client.request("GET", self._page_path(BASE, page, limit)), "the list")
            counts["list"].append(len(captured))
        for _, request_id in probes:
            with CaptureQueriesContext(connection) as captured:
                self._expect(client.request("POST", f"{BASE}/{request_id}/approve"), "approve")
            counts["approve"].append(len(captured))
        return {name: sorted(set(values)) for name, values in counts.items()}

    @staticmethod
    def _expect(answer: tuple[int, bytes], what: str) -> bytes:
        status, body = answer
        if status != 200:
            raise CommandError(f"{what} answered {status}: {body[:300]!r}")
        return body

    def _list(self, client, clock: _Clock, *, pending: int, limit: int) -> None:
        """Every page of the pending queue, each followed by the bare view's same page (which must match)."""
        for page in range(1, -(-pending // limit) + 1):
            answer = clock.request("list", client, "GET", self._page_path(BASE, page, limit))
            body = self._expect(answer, "the list")
            answer = clock.request("bare", client, "GET", self._page_path(BARE, page, limit), auth=False)
            bare = self._expect(answer, "the bare view")
            if page == 1 and json.loads(body) != json.loads(bare):
                raise CommandError("the list and the bare view answer different JSON")

    def _approve(self, client, clock: _Clock, filed: list[tuple[int, str]]) -> None:
        for _, request_id in filed:
            answer = clock.request("approve", client, "POST", f"{BASE}/{request_id}/approve")
            self._expect(answer, "approve")
