"""seed_demo's data set, and the benchmarks that run on it (the benchmarks themselves on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from certifications.bench import seed as seeding
from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, Mentor, MentorStatus, PausedBy
from certifications.services import expiry_job_run

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
NOW_ARG = "2026-03-26T01:00:00Z"

pytestmark = pytest.mark.django_db


def seed_command(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--no-progress", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_seed_makes_exactly_the_requested_due_records_and_a_consistent_history():
    seed_command("--certs", "600", "--due", "11", "--seed", "5", "--now", NOW_ARG)

    assert Certification.objects.count() == 600
    assert Certification.objects.due(now=NOW).count() == 11
    types = set(Certification.objects.values_list("certification_type__code", flat=True))
    assert types == {"peer_mentor_basic", "peer_mentor_advanced"}
    statuses = set(Certification.objects.values_list("status", flat=True))
    assert statuses == {"valid", "expired", "revoked"}
    # Every applied record is lapsed and has its log row; every auto-paused mentor holds a lapsed record.
    applied = Certification.objects.filter(auto_pause_applied=True)
    assert applied.exists()
    assert applied.count() == Certification.objects.lapsed(now=NOW).filter(auto_pause_applied=True).count()
    assert AutoPauseLog.objects.count() == applied.count()
    assert set(AutoPauseLog.objects.values_list("certification_id", flat=True)) == set(
        applied.values_list("pk", flat=True)
    )
    lapsed_mentors = set(Certification.objects.lapsed(now=NOW).values_list("mentor_id", flat=True))
    auto_paused = set(
        Mentor.objects.filter(status=MentorStatus.PAUSED, paused_by=PausedBy.AUTO).values_list("pk", flat=True)
    )
    assert auto_paused and auto_paused <= lapsed_mentors
    # Renewed records: superseded by a current record of the same type, never due.
    superseded = (
        Certification.objects.alive()
        .filter(expires_at__lte=NOW)
        .exclude(pk__in=Certification.objects.lapsed(now=NOW).values("pk"))
    )
    assert superseded.count() > 50
    assert ExpiryJobRun.objects.filter(state="succeeded").exists()


def test_seeded_ids_follow_the_formats_and_are_unique():
    seed_command("--certs", "400", "--due", "4", "--now", NOW_ARG)

    cert_ids = list(Certification.objects.values_list("certification_id", flat=True))
    log_ids = list(AutoPauseLog.objects.values_list("log_id", flat=True))
    mentor_ids = list(Mentor.objects.values_list("mentor_id", flat=True))
    assert all(re.fullmatch(r"cert_[0-9A-HJKMNP-TV-Z]{8}", value) for value in cert_ids)
    assert all(re.fullmatch(r"log_[0-9A-HJKMNP-TV-Z]{8}", value) for value in log_ids)
    assert all(re.fullmatch(r"mntr_[0-9A-HJKMNP-TV-Z]{10}", value) for value in mentor_ids)
    assert len(set(cert_ids)) == len(cert_ids)


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows():
    spec = seeding.SeedSpec(certs=300, due=7, seed=42, now=NOW)
    first, again = seeding.build(spec), seeding.build(spec)
    other = seeding.build(seeding.SeedSpec(certs=300, due=7, seed=43, now=NOW))

    assert first.certifications == again.certifications
    assert first.mentors == again.mentors
    assert first.logs == again.logs
    assert first.certifications != other.certifications


def test_the_job_on_a_seeded_set_applies_exactly_the_due_records_then_nothing():
    data = seeding.seed(seeding.SeedSpec(certs=500, due=9, seed=3, now=NOW))

    run = expiry_job_run(now=NOW, trigger="cli")

    assert run.expired_found == 9 == data.expected_due
    assert run.auto_paused == data.expected_auto_paused
    assert run.marked_expired == data.expected_marked_expired
    assert run.mentors_scanned == data.expected_mentors_scanned
    assert Certification.objects.due(now=NOW).count() == 0
    assert expiry_job_run(now=NOW, trigger="cli").expired_found == 0


def test_no_arguments_make_the_small_demo_set():
    out = seed_command()

    assert Certification.objects.count() == 300
    assert "300 certifications" in out


def test_the_demo_runs_are_readable_through_the_api(anon_client):
    seed_command()

    assert ExpiryJobRun.objects.exists()
    assert all(failures == [] for failures in ExpiryJobRun.objects.values_list("failures", flat=True))
    response = anon_client.get("/api/v1/certifications/expiry-job/runs")
    assert response.status_code == 200
    assert response.json()["data"][0]["failures"] == []


def test_if_empty_seeds_an_empty_database_and_leaves_one_with_data_alone():
    seed_command("--if-empty", "--certs", "200", "--due", "3")
    assert Certification.objects.count() == 200
    before = set(Certification.objects.values_list("certification_id", flat=True))

    out = seed_command("--if-empty", "--certs", "900")

    assert "nothing seeded" in out
    assert set(Certification.objects.values_list("certification_id", flat=True)) == before


def test_a_database_with_data_is_refused_unless_flushed():
    seed_command("--certs", "200", "--due", "2", "--seed", "1")
    before = set(Certification.objects.values_list("certification_id", flat=True))

    with pytest.raises(CommandError, match="--flush"):
        seed_command("--certs", "200", "--due", "2", "--seed", "2")
    assert set(Certification.objects.values_list("certification_id", flat=True)) == before

    seed_command("--certs", "250", "--due", "2", "--seed", "2", "--flush")
    assert Certification.objects.count() == 250
    assert not before & set(Certification.objects.values_list("certification_id", flat=True))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--certs", "10", "--due", "11"], "--due cannot exceed"),
        (["--certs", "10", "--mentors", "50"], "Cannot lay out"),
        (["--certs", "0"], "at least 1"),
        (["--now", "yesterday"], "--now"),
    ],
)
def test_impossible_sizes_are_refused_and_write_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        seed_command(*args)
    assert not Mentor.objects.exists()
    assert not Certification.objects.exists()


def test_the_bare_benchmark_views_are_not_routed_in_a_normal_run(anon_client):
    response = anon_client.get("/bench/bare/certifications")

    assert response.status_code == 404


def test_bench_expiry_needs_postgresql(on_postgres):
    if on_postgres:
        pytest.skip("this checks the refusal on other databases")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench_expiry", "--certs", "100", stdout=io.StringIO())


# --- The benchmarks, on PostgreSQL ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_expiry_small_run_leaves_identical_results_and_reports_the_figures():
    out = io.StringIO()
    args = ("--certs", "20000", "--due", "500", "--naive-sample", "50", "--repeat", "2", "--json")
    call_command("bench_expiry", *args, stdout=out)

    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["repeat"] == 2 and len(figures["rounds"]) == 2
    assert figures["checkpointed"] is True  # the suite's database user may run CHECKPOINT
    # The reported figure is one of the rounds' (the lower middle of two: the faster one).
    assert figures["job_s"] == min(each["job_s"] for each in figures["rounds"])
    assert "round 2:" in out.getvalue()
    assert figures["identical"] is True
    assert figures["differences"] == {"cert": 0, "mentor": 0, "log": 0, "run": 0}
    assert figures["expired_found"] == 500
    assert figures["counters_as_seeded"] is True
    for key in ("job_s", "floor_s", "naive_s", "ratio_vs_floor", "speedup_vs_naive", "peak_rss_mb"):
        assert figures[key] > 0
    assert figures["naive_scaled"] is True and figures["naive_sample"] == 50
    # The command leaves the seeded data set in place, and no work tables.
    assert Certification.objects.due(now=NOW).count() == 500
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench\\_%%'")
        assert cursor.fetchone()[0] == 0


def test_bench_expiry_refuses_fewer_than_one_round():
    with pytest.raises(CommandError, match="--repeat must be at least 1"):
        call_command("bench_expiry", "--repeat", "0", stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_expiry_fails_when_the_job_and_the_floor_disagree(monkeypatch):
    from certifications.bench import expiry as bench

    monkeypatch.setattr(bench, "compare_results", lambda: {"cert": 0, "mentor": 1, "log": 0, "run": 0})

    with pytest.raises(CommandError, match="different rows"):
        call_command("bench_expiry", "--certs", "2000", "--due", "20", "--naive-sample", "5", stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_result_comparison_catches_a_single_different_row():
    from certifications.bench import expiry as bench

    seeding.seed(seeding.SeedSpec(certs=300, due=5, seed=9, now=NOW))
    try:
        bench.keep_result()
        assert bench.compare_results() == {"cert": 0, "mentor": 0, "log": 0, "run": 0}

        mentor = Mentor.objects.filter(status=MentorStatus.PAUSED, paused_by=PausedBy.AUTO).first()
        Mentor.objects.filter(pk=mentor.pk).update(pause_reason="something else")

        assert bench.compare_results() == {"cert": 0, "mentor": 2, "log": 0, "run": 0}
    finally:
        bench.drop_work_tables()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_api_serves_both_sides_the_same_json_and_reports_each_scenario():
    out = io.StringIO()
    call_command("bench_api", "--certs", "400", "--concurrency", "2", "--seconds", "0.5", "--json", stdout=out)

    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert set(figures["scenarios"]) == {"list_default", "list_mentor_id", "list_expired_before", "get_one"}
    for scenario in figures["scenarios"].values():
        assert scenario["errors"] == 0
        assert scenario["drf_rps"] > 0 and scenario["bare_rps"] > 0
        assert scenario["ratio"] > 0 and scenario["p99_ms"] >= scenario["p50_ms"] > 0
