"""``manage.py bench_drain``: the expiry job's deliveries drained by real workers and a beat, each once."""

from __future__ import annotations

import pytest

from benchmarks.management.commands.bench_drain import received
from benchmarks.receiver import Tally
from events.models import Event, WebhookDelivery, WebhookEndpoint
from tests.benchmarks import command_figures


def test_the_receiver_counts_a_delivery_posted_twice_once_among_the_distinct_ones():
    tally = Tally()
    for path, key in [("/hooks/1", "evt_a"), ("/hooks/2", "evt_a"), ("/hooks/1", "evt_b"), ("/hooks/1", "evt_a")]:
        tally.note(path, key)
    tally.note("/bare", "evt_a")

    stats = tally.stats()
    figures = received(stats, ["/hooks/1", "/hooks/2"])
    assert (stats["/hooks/1"]["received"], stats["/hooks/1"]["distinct"]) == (3, 2)
    assert (figures["received"], figures["distinct"]) == (4, 3)  # the bare loop's path is not counted
    assert figures["first"] == stats["/hooks/1"]["first"] and figures["last"] == stats["/hooks/1"]["last"]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_drain_delivers_every_event_of_the_job_once_to_each_endpoint():
    figures = command_figures(
        "bench_drain",
        *("--certs", "50", "--mentors-paused", "3", "--workers", "2"),
        *("--api-concurrency", "2", "--api-workers", "1", "--seconds", "0.5", "--slice", "0.3"),
        *("--bare-sample", "5", "--timeout", "300", "--api-rate", "40"),
    )

    assert figures["mentors_paused"] == figures["mentors_paused_as_seeded"] >= 1
    assert (figures["concurrency"], figures["worker_nice"]) == (1, 19)  # the workers as beside a web server
    # certification.expired per record marked, mentor.paused per mentor, one expiry_job.completed; to each endpoint.
    events = figures["marked_expired"] + figures["mentors_paused"] + 1
    assert figures["deliveries"] == 2 * events
    assert figures["received"] == figures["distinct"] == figures["delivered"] == figures["deliveries"]
    assert figures["duplicates"] == 0
    assert figures["bare_sample"] == figures["bare_ok"] == 5
    assert figures["per_s"] > 0 and figures["bare_per_s"] > 0
    # The bare loop again while the API takes the drain's load (40 requests a second on a schedule).
    assert figures["api_rate"] == 40 and figures["bare_loaded_per_s"] > 0
    assert figures["ratio_loaded"] == round(figures["per_s"] / figures["bare_loaded_per_s"], 3)
    for period in ("api_before", "api_during", "api_bare_loaded"):
        assert figures[period]["errors"] == 0 and figures[period]["p99_ms"] >= figures[period]["p50_ms"] > 0
    # The drain's requests, split at the job's end: those while it ran and those after.
    phases = figures["api_during_job"]["requests"] + figures["api_after_job"]["requests"]
    assert phases == figures["api_during"]["requests"]
    # Its endpoints, events and deliveries are removed.
    assert not WebhookEndpoint.objects.exists() and not Event.objects.exists()
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    "option",
    [
        ("--api-rate", "-1"),
        ("--concurrency", "-1"),
        ("--receiver-nice", "20"),
        ("--receiver-nice", "-1"),
        ("--worker-nice", "20"),
        ("--worker-nice", "-1"),
    ],
)
def test_bench_drain_refuses_a_negative_rate_or_a_niceness_out_of_range(option, monkeypatch):
    from django.core.management import CommandError, call_command
    from django.db import connection

    monkeypatch.setattr(connection, "vendor", "postgresql")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    with pytest.raises(CommandError, match="--api-rate and --concurrency must be 0 or more"):
        call_command("bench_drain", *option)
