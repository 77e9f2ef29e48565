"""``manage.py bench_import`` and its COPY + SQL floor (``benchmarks.imports``): PostgreSQL only."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_bench_import_needs_postgresql(on_postgres):
    if on_postgres:
        pytest.skip("this checks the refusal on other databases")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench_import", "--rows", "10", stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_small_bench_import_leaves_the_same_rows_as_its_floor_and_reports_the_figures():
    out = io.StringIO()
    call_command("bench_import", "--rows", "300", "--flush", "--json", stdout=out)
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    # 300 records and mentors, and a history row for each (created), by both contenders.
    assert figures["left"] == {"certifications": 300, "mentors": 300, "history": 600, "events": 300, "tallied": 300}
    assert figures["identical_rows"] == [
        "certifications", "events", "history", "mentor_tallies", "mentors", "tallies"
    ]  # fmt: skip
    assert figures["import_rows_per_s"] > 0 and figures["floor_rows_per_s"] > 0
    assert figures["import_peak_rss_mb"] > 0
    assert figures["ratio_vs_floor"] == pytest.approx(figures["import_s"] / figures["floor_s"], rel=0.05)
