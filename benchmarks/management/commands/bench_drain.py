"""``manage.py bench_drain``: the expiry job's deliveries drained by real workers, and the API's p99 meanwhile.

Seeds ``--certs`` certifications with enough due that the job pauses about
``--mentors-paused`` mentors (replacing the database's data set: ``--flush`` once it
holds one; never on a shared data set), adds ``--endpoints`` active endpoints for
every event type, each at a path of its own on a loopback receiver process
(``benchmarks.receiver``: it notes each POST by path and ``webhook-id``, so a delivery
sent twice shows, and when it arrived). Then it starts ``--workers`` Celery worker
processes and one separate beat (real processes on this PostgreSQL and ``REDIS_URL``;
mail goes to Django's dummy backend; by default each worker has one slot and runs at
``WORKER_NICE=19``, as ``docs/configuration.md`` recommends for workers that share the
web server's machine, as these do: ``--concurrency 0 --worker-nice 0`` runs Celery's
defaults), serves the API under gunicorn and loads its reads as ``bench_api`` does (as
fast as ``--api-concurrency`` clients go, or ``--api-rate`` requests a second on a
fixed schedule, each timed from its scheduled start), first ``--seconds`` alone, then
while the job runs as beat sends it (``run_expiry_job`` through the broker, no
arguments) and until every delivery it wrote has reached the receiver and is
``delivered``. The job's events are ``certification.expired`` per record it marks
expired, ``mentor.paused`` per mentor it pauses and one ``expiry_job.completed``, each
to every endpoint.

Prints the deliveries written, received, distinct and twice; the time from the
first received to the last and the rate; how often a worker lost its broker
connection (its running tasks are then stopped, and their deliveries wait for their
leases: a stall); the API's p50/p99 before and during the drain, the latter also
split at the job's end (while it ran, after it); and a bare sign-and-post loop
(``benchmarks.webhooks.bare_loop``) over the first ``--bare-sample`` of the same
payloads, with the product's rate against it, once while the API takes the same
load as during the drain (the drain's match: both share the machine with the same
API) and once with nothing else running. Every process it starts is stopped on
the way out, also on an error or SIGTERM; its endpoints, events and deliveries
are removed. With ``--json`` the last line is one JSON object.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from benchmarks import api as bench
from benchmarks import webhooks
from benchmarks.expiry import postgres_url, vacuum
from benchmarks.management.commands.bench_api import Command as BenchApi
from benchmarks.management.commands.bench_retention import Command as BenchRetention
from certifications.demo.layout import SeedError, SeedSpec
from certifications.demo.loader import seed
from certifications.models import ExpiryJobRun, JobState
from certifications.tasks import run_expiry_job
from events.models import DeliveryState, WebhookDelivery, WebhookEndpoint

# bench_expiry --certs 100000 --due 5000 pauses 3,498 mentors: due records per mentor paused.
DUE_PER_PAUSED = 5000 / 3498
WORKER_ENV = {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
API_SCENARIOS = ("list_default", "list_mentor_id", "get_one")
# A worker's log line when its broker connection drops (its running tasks are stopped: late acks).
BROKER_LOST = b"Connection to broker lost"


class Drain:
    """Whether the drain goes on: the job has not finished, or the receiver or the database lacks a delivery."""

    def __init__(self, *, url: str, paths: list[str], timeout: float, after: int) -> None:
        self.url, self.paths, self.after = url, paths, after  # the job's run is the first run past ``after``
        self.deadline = time.monotonic() + timeout
        self.run: ExpiryJobRun | None = None
        self.written = 0
        self.received: dict = {}

    def running(self) -> bool:
        if time.monotonic() > self.deadline:
            raise CommandError(f"not drained in time: {self.written:,} written, received {self.received}")
        if self.run is None:
            run = ExpiryJobRun.objects.filter(pk__gt=self.after, dry_run=False).order_by("pk").first()
            if run is None or run.state in (JobState.QUEUED, JobState.RUNNING):
                return True
            if run.state == JobState.FAILED:
                raise CommandError(f"the expiry job {run.job_run_id} failed")
            self.run, self.written = run, WebhookDelivery.objects.count()
        self.received = received(webhooks.receiver_stats(self.url), self.paths)
        if self.received["distinct"] < self.written:
            return True
        return WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count() < self.written


def received(stats: dict[str, dict], paths: list[str]) -> dict:
    """The receiver's figures over ``paths``: POSTs, distinct deliveries, first and last arrival."""
    mine = [stats[path] for path in paths if path in stats]
    return {
        "received": sum(each["received"] for each in mine),
        "distinct": sum(each["distinct"] for each in mine),
        "first": min((each["first"] for each in mine), default=0.0),
        "last": max((each["last"] for each in mine), default=0.0),
    }


def _stop_on_sigterm(*_) -> None:
    sys.exit(128 + signal.SIGTERM)  # SystemExit: the exit stacks stop the processes


# The command's numeric options: name, type, default, help (None: no default, the help says what applies).
OPTIONS = (
    ("--certs", int, 1_000_000, "Certifications seeded."),
    ("--mentors-paused", int, 35_000, "About how many mentors the job pauses."),
    ("--due", int, None, "Due records (default from --mentors-paused)."),
    ("--seed", int, 1, "The data set's seed."),
    ("--endpoints", int, 2, "Active endpoints for every event type."),
    ("--workers", int, 2, "Celery worker processes."),
    ("--concurrency", int, 1, "Each worker's pool (0: the CPU count, Celery's default)."),
    ("--worker-nice", int, 19, "WORKER_NICE of the workers and beat (0: normal priority)."),
    ("--api-concurrency", int, 4, "API client processes (0: no gunicorn, no API load)."),
    ("--api-workers", int, 2, "gunicorn worker processes."),
    ("--api-rate", float, 0.0, "API requests a second, sent on a fixed schedule (0: as fast as the clients go)."),
    ("--seconds", float, 10.0, "API load before the job (seconds)."),
    ("--slice", float, 1.0, "API load slices during the drain (seconds)."),
    ("--bare-sample", int, 5000, "Payloads the bare loop posts."),
    ("--receiver-nice", int, 19, "CPU niceness of the receiver, which stands for the endpoints' machines."),
    ("--timeout", float, 3600.0, "Longest drain (seconds)."),
)


class Command(BaseCommand):
    help = "Deliveries per second as two workers and a beat drain the expiry job's webhooks, and the API's p99."

    def add_arguments(self, parser: CommandParser) -> None:
        for name, kind, default, text in OPTIONS:
            parser.add_argument(name, type=kind, default=default, help=text)
        parser.add_argument("--flush", action="store_true", help="Replace existing mentors and certifications.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
            raise CommandError("bench_drain needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).")
        if (
            options["api_rate"] < 0
            or options["concurrency"] < 0
            or not (0 <= options["receiver_nice"] <= 19 and 0 <= options["worker_nice"] <= 19)
        ):
            raise CommandError(
                "--api-rate and --concurrency must be 0 or more, --receiver-nice and --worker-nice between 0 and 19."
            )
        say = self.stdout.write if options["verbosity"] >= 1 else (lambda *_: None)
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
        try:
            result = self._run(options, say)
        finally:
            signal.signal(signal.SIGTERM, previous)
        say(self._summary(result))
        if options["json"]:
            self.stdout.write(json.dumps(result))
        if result["duplicates"] or result["received"] != result["deliveries"]:
            raise CommandError(f"{result['received']:,} POSTs for {result['deliveries']:,} deliveries")
        periods = ("api_before", "api_during", "api_bare_loaded")
        errors = sum(result[period]["errors"] for period in periods if result[period])
        if errors:
            raise CommandError(f"{errors} API requests failed")

    def _run(self, options: dict, say) -> dict:
        due = options["due"] if options["due"] is not None else math.ceil(options["mentors_paused"] * DUE_PER_PAUSED)
        spec = SeedSpec(certs=options["certs"], due=due, seed=options["seed"], now=timezone.now())
        started = time.perf_counter()
        try:
            data = seed(spec, show_progress=options["verbosity"] >= 1, replace=options["flush"])
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        vacuum()
        say(f"seeded {spec.certs:,} certifications ({due:,} due) in {time.perf_counter() - started:.1f}s")
        webhooks.events_clear()
        with contextlib.ExitStack() as outer, tempfile.TemporaryDirectory() as tmp:
            url = outer.enter_context(webhooks.receiver(nice=options["receiver_nice"]))
            endpoints = [webhooks.endpoints_create(1, url=f"{url}/{n}")[0] for n in range(1, options["endpoints"] + 1)]
            outer.callback(WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints]).delete)
            outer.callback(webhooks.events_clear)
            paths = [endpoint.url.removeprefix(url.rsplit("/", 1)[0]) for endpoint in endpoints]
            with contextlib.ExitStack() as processes:
                baseline, during, phases, drain, job_sent, api = self._drain(
                    processes, Path(tmp), url, paths, options, say
                )
                sample = min(options["bare_sample"], drain.written)
                bare = partial(webhooks.bare_loop, url=f"{url}/bare", secret=endpoints[0].secret, limit=sample)
                loaded = self._loaded(api, bare, options, say) if api else None
            written = drain.written
            logs = [Path(tmp) / f"worker{n}.log" for n in range(1, options["workers"] + 1)]
            broker_lost = sum(log.read_bytes().count(BROKER_LOST) for log in logs)
            delivered = WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count()
            say(f"the bare loop: {sample:,} of the same payloads signed and posted one after the other ...")
            bare_s, bare_ok = bare()

        got, run = drain.received, drain.run
        span = got["last"] - got["first"]
        product_per_s = got["distinct"] / span if span > 0 else 0.0
        bare_per_s = sample / bare_s if bare_s else 0.0
        loaded_per_s = sample / loaded[0] if loaded else None
        return {
            "certs": spec.certs,
            "due": due,
            "mentors_paused": run.auto_paused,
            "mentors_paused_as_seeded": data.expected_auto_paused,
            "marked_expired": run.marked_expired,
            "endpoints": len(endpoints),
            "workers": options["workers"],
            "concurrency": options["concurrency"] or os.cpu_count(),
            "worker_nice": options["worker_nice"],
            "job_s": round((run.completed_at - run.started_at).total_seconds(), 2),
            "deliveries": written,
            "delivered": delivered,
            "received": got["received"],
            "distinct": got["distinct"],
            "duplicates": got["received"] - got["distinct"],
            "first_after_job_s": round(got["first"] - job_sent, 2),
            "first_to_last_s": round(span, 2),
            "job_to_last_s": round(got["last"] - job_sent, 2),
            "per_s": round(product_per_s, 1),
            "broker_connections_lost": broker_lost,
            "bare_sample": sample,
            "bare_ok": bare_ok,
            "bare_per_s": round(bare_per_s, 1),
            "ratio": round(product_per_s / bare_per_s, 3) if bare_per_s else None,
            # The bare loop again while the API takes the same load as during the drain: the drain's fair match.
            "api_rate": options["api_rate"],
            "receiver_nice": options["receiver_nice"],
            "bare_loaded_per_s": round(loaded_per_s, 1) if loaded else None,
            "ratio_loaded": round(product_per_s / loaded_per_s, 3) if loaded else None,
            "api_bare_loaded": BenchRetention._figures(loaded[1]) if loaded else None,
            "api_before": BenchRetention._figures(baseline) if baseline else None,
            "api_during": BenchRetention._figures(during) if during else None,
            **{name: BenchRetention._figures(result) for name, result in phases.items()},
            "loadavg": [round(value, 2) for value in os.getloadavg()],
        }

    def _drain(self, stack: contextlib.ExitStack, tmp: Path, url: str, paths: list[str], options: dict, say):
        """Start the workers, beat, gunicorn and the clients; load the API alone, then while the webhooks drain."""
        database = postgres_url()
        pool_size = ["--concurrency", str(options["concurrency"])] if options["concurrency"] else []
        env = {**WORKER_ENV, "WORKER_NICE": str(options["worker_nice"])}
        for n in range(1, options["workers"] + 1):
            arguments = ("worker", "--loglevel", "INFO", "-n", f"drain{n}@%h", *pool_size)
            stack.enter_context(webhooks.celery(database, tmp / f"worker{n}.log", *arguments, env=env))
        beat = ("beat", "--loglevel", "INFO", "--pidfile=")
        stack.enter_context(webhooks.celery(database, tmp / "beat.log", *beat, ready=b"is starting.", env=env))
        api = self._api(stack, options) if options["api_concurrency"] else None
        baseline = during = None
        phases: dict = {}
        if api is not None:
            pool, load = api
            say(f"{options['workers']} workers, beat, gunicorn on {load['port']}; the API alone ...")
            bench.load(pool, **load, seconds=2.0)  # warm up
            baseline = bench.load(pool, **load, seconds=options["seconds"])
        say("the expiry job, sent as beat sends it, and its deliveries drained ...")
        last = ExpiryJobRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0  # the seeded past runs
        job_sent, started = time.time(), time.perf_counter()
        run_expiry_job.apply_async()
        drain = Drain(url=url, paths=paths, timeout=options["timeout"], after=last)
        if api is None:
            while drain.running():
                time.sleep(0.5)
        else:
            # While the job runs, then while only its deliveries drain (to the slice: ``running`` is asked between).
            def job_running() -> bool:
                return drain.running() and drain.run is None

            first, first_errors = bench.load_while(pool, job_running, **load, slice_seconds=options["slice"])
            job_phase_s = time.perf_counter() - started
            rest, rest_errors = bench.load_while(pool, drain.running, **load, slice_seconds=options["slice"])
            elapsed = time.perf_counter() - started
            during = bench.summarize(first + rest, first_errors + rest_errors, elapsed)
            phases = {
                "api_during_job": bench.summarize(first, first_errors, job_phase_s),
                "api_after_job": bench.summarize(rest, rest_errors, elapsed - job_phase_s),
            }
        return baseline, during, phases, drain, job_sent, api

    @staticmethod
    def _loaded(api: tuple, bare, options: dict, say) -> tuple[float, bench.LoadResult]:
        """The bare loop run again while the API takes the drain's load; its seconds and the API's figures."""
        pool, load = api
        say("the bare loop again, with the API under the drain's load ...")
        done = threading.Event()
        figures: dict = {}

        def loading() -> None:
            started = time.perf_counter()
            latencies, errors = bench.load_while(
                pool, lambda: not done.is_set(), **load, slice_seconds=options["slice"]
            )
            figures["api"] = bench.summarize(latencies, errors, time.perf_counter() - started)

        thread = threading.Thread(target=loading, name="api-load")
        thread.start()
        try:
            time.sleep(options["slice"])  # the load under way first
            seconds, _ = bare()
        finally:
            done.set()
            thread.join()
        return seconds, figures["api"]

    @staticmethod
    def _api(stack: contextlib.ExitStack, options: dict) -> tuple:
        """gunicorn and the client processes (stopped by ``stack``); the pool and ``bench_api``'s read load."""
        concurrency = options["api_concurrency"]
        server = bench.Server(workers=options["api_workers"], threads=max(1, math.ceil(concurrency / 2)))
        stack.callback(server.stop)
        server.start()
        scenarios = BenchApi()._scenarios(seed=1)
        api_paths = [path for name in API_SCENARIOS for path in scenarios[name][0][:50]]
        pool = bench.client_pool(concurrency)
        stack.callback(pool.join)
        stack.callback(pool.terminate)
        load = {"port": server.port, "paths": api_paths, "concurrency": concurrency, "max_requests": 10**7}
        return pool, load | {"rate": options["api_rate"]}

    @staticmethod
    def _summary(r: dict) -> str:
        before, during = r["api_before"], r["api_during"]
        return "\n".join(
            [
                "",
                f"drain: {r['certs']:,} certifications, {r['mentors_paused']:,} mentors paused, "
                f"{r['marked_expired']:,} marked expired, {r['endpoints']} endpoints, {r['workers']} workers x "
                f"{r['concurrency']} + beat (job {r['job_s']}s)",
                f"  deliveries {r['deliveries']:,}: received {r['received']:,}, distinct {r['distinct']:,}, "
                f"twice {r['duplicates']}, delivered {r['delivered']:,}",
                f"  first {r['first_after_job_s']}s after the job was sent, last {r['first_to_last_s']}s after the "
                f"first: {r['per_s']:.1f}/s (worker connections to the broker lost: {r['broker_connections_lost']})",
                f"  bare loop {r['bare_per_s']:.1f}/s over {r['bare_sample']:,} ({r['bare_ok']:,} 2xx); "
                f"product / bare = {r['ratio']}",
                *(
                    [
                        f"  bare loop under the drain's API load {r['bare_loaded_per_s']:.1f}/s; product / bare = "
                        f"{r['ratio_loaded']} (API meanwhile p50 {r['api_bare_loaded']['p50_ms']} ms, "
                        f"p99 {r['api_bare_loaded']['p99_ms']} ms)"
                    ]
                    if r["bare_loaded_per_s"]
                    else []
                ),
                f"  API load: {r['api_rate']:g} requests a second on a schedule"
                if r["api_rate"]
                else "  API load: as fast as the clients go",
                (
                    f"  API before: p50 {before['p50_ms']} ms, p99 {before['p99_ms']} ms ({before['rps']} req/s); "
                    f"during: p50 {during['p50_ms']} ms, p99 {during['p99_ms']} ms ({during['rps']} req/s), "
                    f"errors {before['errors'] + during['errors']}"
                    if before
                    else "  the API not loaded (--api-concurrency 0)"
                ),
                *(
                    [
                        f"  of which while the job ran: p50 {r['api_during_job']['p50_ms']} ms, "
                        f"p99 {r['api_during_job']['p99_ms']} ms ({r['api_during_job']['requests']:,} requests); "
                        f"after it: p50 {r['api_after_job']['p50_ms']} ms, p99 {r['api_after_job']['p99_ms']} ms "
                        f"({r['api_after_job']['requests']:,} requests)"
                    ]
                    if before
                    else []
                ),
                f"  load average {r['loadavg']}",
            ]
        )
