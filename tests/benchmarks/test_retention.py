"""``manage.py bench_retention``: seeds old events and deliveries, deletes them in batches under the API's load."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_retention_deletes_the_seeded_rows_in_bounded_batches_and_reports_both_periods():
    out = io.StringIO()
    call_command(
        "bench_retention",
        *("--events", "300", "--certs", "400", "--batch-size", "100", "--concurrency", "2"),
        *("--seconds", "0.5", "--slice", "0.3", "--json"),
        stdout=out,
    )

    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["events_seeded"] == figures["deliveries_seeded"] == 300
    assert figures["deliveries_deleted"] == 300 and figures["deliveries_batches"] >= 3
    assert figures["events_deleted"] >= 299 and figures["events_batches"] >= 3  # the newest event stays
    assert figures["left_after"]["deliveries"] == figures["left_after"]["attempts"] == 0
    assert figures["batch_size"] == 100
    for period in ("without", "during"):
        assert figures[period]["errors"] == 0 and figures[period]["p99_ms"] >= figures[period]["p50_ms"] > 0
