"""``manage.py bench_api`` and its bare comparison views (``benchmarks.api``), which only benchmarks route."""

from __future__ import annotations

import gc
import io
import json

import pytest
from django.core.management import call_command

from benchmarks.management.commands.bench_api_in_process import CollectorWatch
from tests.events.receiver import Reply, running_receiver

pytestmark = pytest.mark.django_db


def test_the_bare_benchmark_views_are_not_routed_in_a_normal_run(anon_client):
    response = anon_client.get("/bench/bare/certifications")

    assert response.status_code == 404


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("auth", "metrics"), [("none", "both"), ("key", "on"), ("token,key", "on")])
def test_bench_api_serves_both_sides_the_same_json_and_reports_each_scenario(auth, metrics):
    out = io.StringIO()
    call_command(
        "bench_api",
        *("--certs", "400", "--concurrency", "2", "--seconds", "0.5", "--auth", auth, "--metrics", metrics, "--json"),
        stdout=out,
    )

    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["auth"] == auth  # with a key, every DRF request authenticated by it (a refusal is an error)
    assert figures["metrics"] == metrics
    for scenario in figures["scenarios"].values():  # both: the same load on a server without request metrics
        assert ("no_metrics_p50_ms" in scenario) == (metrics == "both")
        assert scenario.get("no_metrics_p50_ms", 1) > 0
    assert set(figures["scenarios"]) == {"list_default", "list_mentor_id", "list_expired_before", "get_one"}
    for scenario in figures["scenarios"].values():
        assert scenario["errors"] == 0
        assert scenario["drf_rps"] > 0 and scenario["bare_rps"] > 0
        assert scenario["ratio"] > 0 and scenario["p99_ms"] >= scenario["p50_ms"] > 0
        assert scenario["p50_ratio"] == pytest.approx(scenario["p50_ms"] / scenario["bare_p50_ms"], rel=0.01)
        # Several modes are each measured against the same bare run; the first one's figures are the top level's.
        by_auth = scenario.get("by_auth", {auth: scenario})
        assert list(by_auth) == auth.split(",")
        assert all(by_auth[mode]["drf_requests"] > 0 for mode in by_auth)


def test_bench_api_refuses_an_unknown_or_repeated_auth_mode():
    from django.core.management.base import CommandError

    for value in ("cookie", "key,key"):
        with pytest.raises(CommandError, match="comma-separated"):
            call_command("bench_api", "--auth", value)


def test_the_benchmark_server_without_metrics_leaves_out_the_request_metrics_alone():
    from benchmarks import settings as with_metrics
    from benchmarks import settings_without_metrics as without

    left_out = [name for name in with_metrics.MIDDLEWARE if name not in without.MIDDLEWARE]
    assert left_out == ["certhub.metrics.series.RequestMetricsMiddleware"]
    assert without.ROOT_URLCONF == with_metrics.ROOT_URLCONF


def test_bench_api_refuses_slices_out_of_range():
    from django.core.management.base import CommandError

    for value in ("0", "101"):
        with pytest.raises(CommandError, match="--slices"):
            call_command("bench_api", "--slices", value)


@pytest.mark.urls("benchmarks.urls")
def test_each_scenario_runs_the_same_statements_on_both_sides(anon_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benchmarks.management.commands.bench_api import Command as BenchApi
    from tests.factories import CertificationFactory

    for _ in range(3):
        CertificationFactory()
    for name, (drf_paths, bare_paths) in BenchApi()._scenarios(seed=1).items():
        statements = []
        for path in (drf_paths[0], bare_paths[0]):
            with CaptureQueriesContext(connection) as queries:
                assert anon_client.get(path).status_code == 200
            statements.append([query["sql"] for query in queries.captured_queries])
        drf, bare = statements
        assert drf == bare and bare, name


def test_the_load_clients_die_on_sigterm_whatever_handler_the_command_set():
    import signal

    from benchmarks.api import client_pool

    def exit_through_python(*_):  # as bench_drain's handler does
        raise SystemExit(143)

    previous = signal.signal(signal.SIGTERM, exit_through_python)
    try:
        pool = client_pool(2)
        try:
            handlers = pool.map(signal.getsignal, [signal.SIGTERM] * 4)
        finally:
            pool.terminate()
            pool.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert handlers == [signal.SIG_DFL] * 4


def test_a_load_at_a_rate_keeps_its_schedule_and_times_each_request_from_its_scheduled_start():
    from benchmarks.api import client_pool, load_latencies

    with running_receiver() as receiver:
        receiver.default = Reply(delay=0.1)  # each answer takes 0.1 s or more
        port = int(receiver.url.rsplit(":", 1)[1])
        pool = client_pool(1)
        try:
            spec = {"port": port, "paths": ["/"], "concurrency": 1, "seconds": 0.5, "max_requests": 100}
            scheduled, scheduled_errors = load_latencies(pool, **spec, rate=40)
            closed, closed_errors = load_latencies(pool, **spec)
        finally:
            pool.terminate()
            pool.join()
    assert scheduled_errors == closed_errors == 0
    # Each answer takes 0.1 s or more: at 40 a second the second request, due 0.025 s after the first, cannot
    # start before the first's answer, so it waits 0.075 s or more, and that wait is in its latency.
    assert len(scheduled) >= 2 and max(scheduled) >= 0.1 + 0.075
    assert sorted(scheduled) == scheduled  # each later request waits longer than the one before
    # Never more than the schedule holds (0.5 s at 40 a second: 20, and one more where the last falls on the end).
    assert len(scheduled) <= 21
    # A closed loop times each request from its send: no wait behind the one before.
    assert len(closed) >= 2 and min(closed) >= 0.1


def test_bench_api_in_process_counts_calls_cpu_and_collections_of_both_sides(settings, monkeypatch):
    from django.core import signals
    from django.db import close_old_connections
    from rest_framework.throttling import SimpleRateThrottle

    from tests.factories import CertificationFactory

    settings.ROOT_URLCONF = "benchmarks.urls"
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/s", "user": "100000/s"})
    for _ in range(3):
        CertificationFactory()
    out = io.StringIO()
    # As Django's test client does: the requests keep the test's connection (and its transaction) open.
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    try:
        call_command(
            "bench_api_in_process", "--requests", "10", "--rounds", "2", "--profiled", "10", "--json", stdout=out
        )
    finally:
        for signal in (signals.request_started, signals.request_finished):
            signal.connect(close_old_connections)

    figures = json.loads(out.getvalue().strip().splitlines()[-1])["scenarios"]
    assert set(figures) == {"list_default", "list_mentor_id", "list_expired_before", "get_one"}
    for scenario in figures.values():
        assert scenario["calls_drf"] > scenario["calls_bare"] > 0 and scenario["cpu_us_bare"] > 0
        assert scenario["collections_drf"] >= 0 and scenario["gc_us_bare"] >= 0
    assert gc.get_freeze_count() == 0 and not [each for each in gc.callbacks if isinstance(each, CollectorWatch)]


def test_the_collector_watch_counts_only_while_on():
    watch = CollectorWatch()
    gc.callbacks.append(watch)
    try:
        gc.collect()
        assert watch.collections == 0
        watch.on = True
        gc.collect()
        gc.collect(0)
        watch.on = False
        gc.collect()
    finally:
        gc.callbacks.remove(watch)
    assert watch.collections == 2 and watch.seconds > 0
