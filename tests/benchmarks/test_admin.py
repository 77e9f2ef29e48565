"""bench_admin and bench_writes: each admin page's median, the writes' percentiles, on the data set in place."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from certifications.models import Certification
from tests.certifications.totals.helpers import counted, tallied
from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db


def _figures(command: str, *args: str) -> dict:
    out = io.StringIO()
    call_command(command, *args, "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_bench_admin_times_every_main_page_and_cleans_up():
    for mentor in MentorFactory.create_batch(60):
        CertificationFactory(mentor=mentor)
    figures = _figures("bench_admin", "--repeat", "1")
    assert {"index", "certs", "certs_status", "certs_type", "certs_lifecycle_active", "certs_expiring_30"} <= set(
        figures["pages"]
    )
    assert {"certs_search_id", "mentors", "log", "runs"} <= set(figures["pages"])
    pages = figures["pages"].values()
    assert all(page["median_ms"] >= page["sql_median_ms"] > 0 and page["queries"] > 0 for page in pages)
    assert not User.objects.filter(username="bench-admin").exists()


def test_bench_writes_reports_each_operation_and_keeps_the_totals_exact():
    CertificationFactory()
    figures = _figures("bench_writes", "--requests", "3")
    assert all(0 < figures[kind]["p50_ms"] <= figures[kind]["p99_ms"] for kind in ("create", "renew", "delete"))
    assert 0 < figures["tally_share"] < 1
    assert Certification.objects.filter(deleted_at__isnull=False).count() == 3
    assert tallied() == counted()


def test_both_refuse_an_empty_database():
    for command in ("bench_admin", "bench_writes"):
        with pytest.raises(CommandError, match="seed a data set first"):
            call_command(command, stdout=io.StringIO())
