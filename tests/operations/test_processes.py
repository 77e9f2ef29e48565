"""Counters add up across three real gunicorn workers; a restart cleans only the files of processes gone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from certhub.metrics.files import clean
from tests.hardening.servers import base_env, gunicorn, http, manage
from tests.operations.helpers import value

REQUESTS = 90


@pytest.mark.standalone
@pytest.mark.slow
def test_request_counters_add_up_across_three_gunicorn_workers(tmp_path):
    metrics_dir = tmp_path / "metrics"
    env = base_env(CERTHUB_VAR_DIR=str(tmp_path), METRICS_DIR=str(metrics_dir))
    assert manage("migrate", "-v0", env=env).returncode == 0
    with gunicorn(env, workers=3, log_path=tmp_path / "gunicorn.log") as base:
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda _: http("GET", f"{base}/readyz")[0], range(REQUESTS)))
        assert statuses == [200] * REQUESTS
        status, _, text = http("GET", f"{base}/metrics")
    assert status == 200
    assert value(text, "certhub_http_requests_total", route="readyz", status="200") == REQUESTS
    assert value(text, "certhub_http_request_duration_seconds_count", route="readyz") == REQUESTS
    # The requests were served by more than one process, each writing its own file.
    assert len(list(metrics_dir.glob("counter_*.db"))) >= 2


def test_cleaning_keeps_the_files_of_running_processes(tmp_path):
    import os

    (tmp_path / f"counter_{os.getpid()}.db").write_bytes(b"")
    (tmp_path / "counter_999999999.db").write_bytes(b"")  # no such process
    assert clean(tmp_path) == 1
    assert [path.name for path in tmp_path.iterdir()] == [f"counter_{os.getpid()}.db"]
