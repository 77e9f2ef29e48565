"""bench_renewals: the renewal queue's pages and one-by-one approvals, in-process and under gunicorn."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from certifications.models import Certification, RenewalRequest
from tests.factories import CertificationFactory


@pytest.fixture(autouse=True)
def _evidence_in_tmp(settings, tmp_path, monkeypatch):
    settings.RENEWAL_EVIDENCE_STORAGE = {**settings.RENEWAL_EVIDENCE_STORAGE, "DIR": str(tmp_path)}
    monkeypatch.setenv("RENEWAL_EVIDENCE_DIR", str(tmp_path))  # the server's too
    return tmp_path


def _records(count: int) -> None:
    for _ in range(count):
        CertificationFactory(expires_at=timezone.now() - dt.timedelta(days=3))


def _run(*args: str) -> dict:
    out = io.StringIO()
    call_command("bench_renewals", *args, "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _check(figures: dict, *, pages: int) -> None:
    assert figures["list"]["pages"] == pages and len(figures["list"]["queries_per_page"]) == 1
    assert figures["list"]["p50_ms"] <= figures["list"]["p99_ms"] and figures["bare_list"]["p50_ms"] > 0
    assert 0 < figures["approve"]["p50_ms"] <= figures["approve"]["p99_ms"] <= figures["approve"]["max_ms"]
    assert figures["approve"]["queries_per_approval"]
    assert figures["approve"]["cpu_app_ms"] > 0  # the application's CPU time, summed over the approvals


@pytest.mark.django_db
def test_it_pages_the_queue_approves_one_by_one_and_cleans_up(_evidence_in_tmp):
    _records(12)
    figures = _run("--pending", "10", "--approvals", "4", "--probes", "2", "--limit", "3", "--in-process")
    _check(figures, pages=4)
    assert figures["served_by"] == "test client"
    # the approved stay (4 timed, 2 counted); the pending ones go, with their files
    assert sorted(RenewalRequest.objects.values_list("state", flat=True)) == ["approved"] * 6
    assert Certification.objects.count() == 18  # the approvals are renewals
    assert len([p for p in _evidence_in_tmp.rglob("*") if p.is_file()]) == 6
    assert not User.objects.filter(username="bench-renewals").exists()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_serves_the_queue_with_gunicorn_and_seeds_a_data_set():
    figures = _run("--certs", "300", "--pending", "40", "--approvals", "5", "--probes", "1")
    _check(figures, pages=2)
    assert figures["served_by"] == "gunicorn" and figures["certs"] == 306


@pytest.mark.django_db
def test_it_refuses_a_database_with_too_few_mentors():
    with pytest.raises(CommandError, match="seed a data set first"):
        call_command("bench_renewals", "--pending", "5", "--approvals", "1", stdout=io.StringIO())
