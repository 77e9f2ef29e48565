"""Load: the mixed traffic of ``benchmarks/loadtest.py`` against gunicorn, on PostgreSQL and on SQLite.

On PostgreSQL: 2,000+ requests from 16 concurrent clients, zero 5xx, every 201
readable afterwards, exactly one auto-pause row per due certification. On the
embedded SQLite default, several gunicorn workers writing at once: zero 5xx and
no "database is locked". The figures are printed after the session.
"""

from __future__ import annotations

import os

import pytest
from django.db.models import Count
from django.utils import timezone

from benchmarks.loadtest import run_load
from certifications.models import AutoPauseLog, Certification, LogEvent
from tests.hardening import figures
from tests.hardening.servers import base_env, create_token, gunicorn
from tests.hardening.servers import test_database_url as database_url

REQUESTS = int(os.environ.get("LOAD_REQUESTS", "2000"))
CLIENTS = 16
# Throttling has its own tests; the load is one user sending as fast as it can.
UNTHROTTLED = {"API_THROTTLE_USER": "1000000/min", "API_THROTTLE_ANON": "1000000/min"}


def _report(label: str, result) -> None:
    for line in result.lines():
        figures.report(f"load ({label}): {line}")
        print(line)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_mixed_load_on_gunicorn_and_postgresql(tmp_path):
    env = base_env(
        DATABASE_URL=database_url(),
        REDIS_URL=os.environ.get("REDIS_URL"),
        CERTHUB_VAR_DIR=str(tmp_path / "var"),
        **UNTHROTTLED,
    )
    token = create_token(env)
    with gunicorn(env, workers=4, threads=4, log_path=tmp_path / "gunicorn.log") as base:
        result = run_load(base, token, requests=REQUESTS, clients=CLIENTS, seed=7)
    _report(f"PostgreSQL, {CLIENTS} clients", result)
    assert result.requests >= REQUESTS
    assert not result.server_errors, result.server_errors[:5]
    assert not result.transport_errors, result.transport_errors[:5]
    assert not result.unreadable, result.unreadable[:5]
    assert not result.problems, result.problems[:5]
    assert result.duplicate_pauses == 0 and result.left_unpaused == 0
    assert result.by_kind["create"] and result.by_kind["renew"] and result.by_kind["delete"] and result.by_kind["job"]
    assert result.by_kind["mentor"] and result.by_kind["wave2"] and result.events

    # The same guarantees, read straight from the database.
    assert not Certification.objects.due(now=timezone.now()).exists()
    per_cert = AutoPauseLog.objects.filter(event=LogEvent.AUTO_PAUSE).values("certification").annotate(n=Count("id"))
    assert max((row["n"] for row in per_cert), default=0) == 1
    assert Certification.objects.filter(auto_pause_applied=True).count() == result.paused_certifications
    figures.report(
        f"load (PostgreSQL): auto_pause rows in the database cover {len(per_cert)} certifications, none twice"
    )


@pytest.mark.standalone
@pytest.mark.slow
def test_concurrent_writes_on_the_embedded_sqlite_default_never_lock(tmp_path, sqlite_env):
    env = {**sqlite_env, **UNTHROTTLED}
    token = create_token(env)
    log = tmp_path / "gunicorn.log"
    with gunicorn(env, workers=3, threads=2, log_path=log) as base:
        result = run_load(base, token, requests=max(REQUESTS // 4, 200), clients=CLIENTS, seed=11)
    _report(f"SQLite, 3 gunicorn workers, {CLIENTS} clients", result)
    server_log = log.read_text()
    assert "database is locked" not in server_log
    assert not result.server_errors, result.server_errors[:5]
    assert not result.transport_errors, result.transport_errors[:5]
    assert not result.unreadable, result.unreadable[:5]
    assert not result.problems, result.problems[:5]
    assert result.duplicate_pauses == 0 and result.left_unpaused == 0
