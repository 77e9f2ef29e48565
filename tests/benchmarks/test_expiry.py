"""``manage.py bench_expiry`` and its SQL floor (``benchmarks.expiry``): the benchmark itself runs on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from benchmarks import expiry as bench
from certifications.demo.layout import SeedSpec
from certifications.demo.loader import seed
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationType,
    ExpiryJobRun,
    Mentor,
    MentorStatus,
    PausedBy,
)
from certifications.totals.models import CertificationTally, MentorTally
from notifications.models import Notification, NotificationKind

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


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
    args = ("--certs", "5000", "--due", "500", "--naive-sample", "50", "--repeat", "2", "--json")
    call_command("bench_expiry", *args, stdout=out)

    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["repeat"] == 2 and len(figures["rounds"]) == 2
    assert figures["checkpointed"] is True  # the suite's database user may run CHECKPOINT
    # The reported figure is one of the rounds' (the lower middle of two: the faster one).
    assert figures["job_s"] == min(each["job_s"] for each in figures["rounds"])
    assert "round 2:" in out.getvalue()
    assert figures["identical"] is True
    assert figures["differences"] == {
        "cert": 0,
        "mentor": 0,
        "log": 0,
        "run": 0,
        "history": 0,
        "event": 0,
        "delivery": 0,
        "notice": 0,
        "tally": 0,
        "mentor_tally": 0,
    }
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
        # Each contender ran on a fresh copy of the seeded database; the copies are gone.
        assert figures["copies"] == 6 and figures["copy_s_median"] > 0
        cursor.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s", [connection.settings_dict["NAME"] + "_bench_%"]
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_expiry_with_a_grace_measures_the_amended_rule_and_restores_the_policy():
    out = io.StringIO()
    args = ("--certs", "5000", "--due", "500", "--naive-sample", "20", "--grace-days", "3", "--json")
    call_command("bench_expiry", *args, stdout=out)

    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["grace_days"] == 3
    assert 0 < figures["expired_found"] < 500  # the records still in their grace are not due
    assert figures["identical"] is True and figures["counters_as_seeded"] is True
    assert CertificationType.objects.get(code="peer_mentor_basic").grace_days == 0


def test_bench_expiry_refuses_fewer_than_one_round():
    with pytest.raises(CommandError, match="--repeat must be at least 1"):
        call_command("bench_expiry", "--repeat", "0", stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_expiry_fails_when_the_job_and_the_floor_disagree(monkeypatch):
    monkeypatch.setattr(bench, "compare_results", lambda: {"cert": 0, "mentor": 1, "log": 0, "run": 0, "history": 0})

    with pytest.raises(CommandError, match="different rows"):
        call_command("bench_expiry", "--certs", "2000", "--due", "20", "--naive-sample", "5", stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_result_comparison_catches_a_single_different_row():
    seed(SeedSpec(certs=300, due=5, seed=9, now=NOW))
    try:
        bench.keep_result()
        assert bench.compare_results() == {
            "cert": 0,
            "mentor": 0,
            "log": 0,
            "run": 0,
            "history": 0,
            "event": 0,
            "delivery": 0,
            "notice": 0,
            "tally": 0,
            "mentor_tally": 0,
        }

        mentor = Mentor.objects.filter(status=MentorStatus.PAUSED, paused_by=PausedBy.AUTO).first()
        Mentor.objects.filter(pk=mentor.pk).update(pause_reason="something else")

        assert bench.compare_results() == {
            "cert": 0,
            "mentor": 2,
            "log": 0,
            "run": 0,
            "history": 0,
            "event": 0,
            "delivery": 0,
            "notice": 0,
            "tally": 0,
            "mentor_tally": 0,
        }
    finally:
        bench.drop_result_tables()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_result_comparison_catches_a_different_notice_and_a_different_tally_sum():
    seed(SeedSpec(certs=300, due=5, seed=9, now=NOW))
    try:
        floor = bench.floor_run(now=NOW, rng=random.Random(3))
        assert floor.auto_paused > 0
        bench.keep_result()
        notice = Notification.objects.filter(kind=NotificationKind.MENTOR_PAUSED).first()
        Notification.objects.filter(pk=notice.pk).update(subject="something else")
        # A second delta row for a key leaves the key's sum, and so the comparison, as it was ...
        MentorTally.objects.create(status="paused", paused_by="auto", mentors=0)
        assert bench.compare_results()["mentor_tally"] == 0
        # ... a delta that moves it does not.
        tally = CertificationTally.objects.order_by("pk").first()
        CertificationTally.objects.create(
            certification_type_id=tally.certification_type_id,
            deleted=tally.deleted,
            span=tally.span,
            expires_on=tally.expires_on,
            valid=1,
        )

        differences = bench.compare_results()
        assert (differences["notice"], differences["tally"]) == (2, 2)
        assert sum(differences.values()) == 4
    finally:
        bench.drop_result_tables()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_floor_draws_a_new_log_id_when_the_one_it_drew_is_taken():
    summary = seed(SeedSpec(certs=300, due=5, seed=9, now=NOW))
    # A log row already holds the first id the floor's (seeded) generator will draw.
    (taken,) = bench.draw_log_ids(1, rng=random.Random(7))
    existing = AutoPauseLog.objects.order_by("pk").first()
    AutoPauseLog.objects.filter(pk=existing.pk).update(log_id=taken)

    floor = bench.floor_run(now=NOW, rng=random.Random(7))

    assert floor.redrawn == 1
    assert floor.expired_found == summary.expected_due == 5
    assert floor.auto_paused == summary.expected_auto_paused
    run = ExpiryJobRun.objects.get(trigger="cli")  # the floor's run (the seeded ones are scheduled)
    logged = list(AutoPauseLog.objects.filter(job_run=run).values_list("certification_id", flat=True))
    assert len(logged) == len(set(logged)) == 5
    assert AutoPauseLog.objects.get(log_id=taken).pk == existing.pk
    assert Certification.objects.due(now=NOW).count() == 0
