"""bench_eligibility: the eligibility batch's latency and queries on the data set in place."""

from __future__ import annotations

import gc
import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db


def test_it_reports_percentiles_and_a_constant_query_count_and_cleans_up():
    for mentor in MentorFactory.create_batch(30):
        CertificationFactory(mentor=mentor)
    out = io.StringIO()
    call_command("bench_eligibility", "--batch", "20", "--requests", "5", "--json", stdout=out)
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["batch"] == 20 and figures["requests"] == 5
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    # Each request is paired with its floor, the same two statements on a raw cursor.
    assert 0 < figures["floor_p50_ms"] <= figures["floor_p99_ms"]
    assert figures["p50_ratio"] == round(figures["p50_ms"] / figures["floor_p50_ms"], 2)
    assert figures["cpu_p50_ms"] > 0 and figures["floor_cpu_p50_ms"] >= 0
    assert len(figures["queries_per_request"]) == 1  # the same number of queries for every batch
    assert figures["frozen_objects"] > 10_000 and gc.get_freeze_count() == 0  # frozen as a server, given back after
    assert not User.objects.filter(username="bench-eligibility").exists()


def test_it_seeds_a_data_set_when_asked():
    out = io.StringIO()
    call_command(
        "bench_eligibility",
        "--certs",
        "300",
        "--mentors",
        "120",
        "--batch",
        "50",
        "--requests",
        "2",
        "--json",
        stdout=out,
    )
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (figures["certs"], figures["mentors"], figures["queries_per_request"]) == (300, 120, [5])


def test_it_refuses_a_database_with_too_few_mentors():
    with pytest.raises(CommandError, match="seed a data set first"):
        call_command("bench_eligibility", "--batch", "500", stdout=io.StringIO())
