"""Faults with real components: the database going away, the broker down, a worker killed.

Each test runs the project in real processes (gunicorn, a Celery worker) and
breaks a real dependency: a closed port, a PostgreSQL backend terminated from
another connection mid-request, a SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import threading
import time

import psycopg
import pytest
from django.db.models import Count
from django.utils import timezone

from certhub.ids import fresh_ids
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    ExpiryJobRun,
    JobLock,
    JobState,
    LogEvent,
    Mentor,
    MentorStatus,
)
from certifications.services import expiry_job_run, expiry_runs_reap
from certifications.services.lapse import LOCK_NAME, expiry_run_create
from tests.factories import CertificationFactory, cert_type
from tests.hardening import figures
from tests.hardening.servers import PYTHON, ROOT, base_env, create_token, free_port, gunicorn, http, manage
from tests.hardening.servers import test_database_url as database_url

CERTS = "/api/v1/certifications"
RUN = "/api/v1/certifications/expiry-job/run"
LEAKS = ("Traceback", "OperationalError", "psycopg", "SELECT", "<html", "<!DOCTYPE")


def assert_json_503(status: int, body: object) -> None:
    assert status == 503, body
    assert isinstance(body, dict), body  # JSON, not an HTML page
    assert body["error"]["code"] == "service_unavailable"
    for marker in LEAKS:
        assert marker not in str(body)


# --- The database goes away ---------------------------------------------------------


@pytest.mark.standalone
@pytest.mark.slow
@pytest.mark.parametrize("debug", ["true", "false"])
def test_unreachable_database_gives_json_503_not_an_html_page(tmp_path, debug):
    """DATABASE_URL points at a closed port: every API request is a JSON 503, DEBUG on or off."""
    env = base_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/certhub",
        CERTHUB_VAR_DIR=str(tmp_path / "var"),
        DEBUG=debug,
        SECRET_KEY="x" * 64,
        ALLOWED_HOSTS="127.0.0.1",
    )
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as base:
        assert_json_503(*http("GET", f"{base}{CERTS}")[::2])
        assert_json_503(*http("GET", f"{base}{CERTS}/cert_00000000")[::2])
        status, _, body = http("POST", f"{base}{CERTS}", body={"mentor_id": "x"}, token="0" * 40)
        assert_json_503(status, body)
        status, _, body = http("GET", f"{base}/healthz")
        assert status == 503
        assert body["checks"]["database"] == "OperationalError"


def _backend_waiting_on_a_lock(dsn: str, timeout: float = 30) -> int:
    """PID of the backend that waits for our row lock (the request's SELECT ... FOR UPDATE)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.05)
    raise AssertionError("the request never reached the locked row")


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("debug", ["true", "false"])
def test_database_connection_killed_mid_request_gives_json_503_and_changes_nothing(tmp_path, debug):
    """A PUT is blocked on a row lock; its backend is terminated; the answer is a JSON 503."""
    cert = CertificationFactory()
    dsn = database_url()
    env = base_env(
        DATABASE_URL=dsn,
        CERTHUB_VAR_DIR=str(tmp_path / "var"),
        DEBUG=debug,
        SECRET_KEY="x" * 64,
        ALLOWED_HOSTS="127.0.0.1",
    )
    token = create_token(env)
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as base:
        answer: dict = {}
        with psycopg.connect(dsn) as locker:
            locker.execute("SELECT id FROM certifications_certification WHERE id = %s FOR UPDATE", [cert.pk])
            request = threading.Thread(
                target=lambda: answer.update(
                    zip(
                        ("status", "headers", "body"),
                        http(
                            "PUT",
                            f"{base}{CERTS}/{cert.certification_id}",
                            body={"expires_at": "2030-01-01T00:00:00Z"},
                            token=token,
                        ),
                        strict=True,
                    )
                )
            )
            request.start()
            pid = _backend_waiting_on_a_lock(dsn)
            with psycopg.connect(dsn, autocommit=True) as killer:
                assert killer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0] is True
            request.join(timeout=60)
            locker.rollback()
        assert_json_503(answer["status"], answer["body"])
        assert answer["headers"]["Content-Type"].startswith("application/json")
        cert.refresh_from_db()
        assert cert.expires_at == dt.datetime(2027, 6, 15, tzinfo=dt.UTC)  # nothing written
        # The next request gets a fresh connection and succeeds.
        status, _, body = http(
            "PUT", f"{base}{CERTS}/{cert.certification_id}", body={"expires_at": "2030-01-01T00:00:00Z"}, token=token
        )
        assert status == 200, body
        assert body["expires_at"] == "2030-01-01T00:00:00Z"


# --- The broker is down -----------------------------------------------------------


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never answers (a hung broker)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


@pytest.mark.standalone
@pytest.mark.slow
@pytest.mark.parametrize("broker", ["closed port", "silent port"])
@pytest.mark.parametrize("variable", ["CELERY_BROKER_URL", "REDIS_URL"])
def test_broker_down_keeps_the_api_and_sync_job_working_and_async_is_a_quick_503(
    tmp_path, sqlite_env, broker, variable, request
):
    """With REDIS_URL the lost Redis is also the cache: throttles fall back per process, and say so."""
    port = free_port() if broker == "closed port" else request.getfixturevalue("silent_port")
    env = {**sqlite_env, variable: f"redis://127.0.0.1:{port}/0"}
    token = create_token(env)
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as base:
        status, _, body = http("GET", f"{base}{CERTS}")
        assert status == 200, body
        status, _, body = http(
            "POST",
            f"{base}{CERTS}",
            token=token,
            body={"mentor_id": "mntr_01HX4V2K8P", "certification_type": "peer_mentor_basic", "issued_at": "2020-01-01"},
        )
        assert status == 201, body
        status, _, body = http("POST", f"{base}{RUN}", token=token, body={})
        assert status == 200, body
        assert body["expired_found"] == 1 and body["auto_paused"] == 1

        # The client gives up after 25 s: without the broker socket timeouts a silent
        # broker holds the request far longer than that.
        started = time.monotonic()
        status, _, body = http("POST", f"{base}{RUN}", token=token, body={"async": True}, timeout=25)
        figures.report(f"broker down ({broker}): async trigger answered {status} in {time.monotonic() - started:.1f}s")
        assert status == 503, body
        assert body["error"]["code"] == "service_unavailable"

        status, _, body = http("GET", f"{base}/api/v1/certifications/expiry-job/runs")
        states = [run["state"] for run in body["data"]]
        assert states == ["failed", "succeeded"]  # the refused async run is recorded as failed, not left queued
        status, _, body = http("GET", f"{base}/healthz", timeout=25)
        assert status == 503 and body["checks"]["database"] == "ok" and body["checks"]["broker"] != "ok"
        if variable == "REDIS_URL":
            assert body["cache"] == "per-process (Redis unreachable)"
        else:
            assert body["cache"] == "per-process"
    if variable == "REDIS_URL":
        assert "Redis cache unreachable" in (tmp_path / "gunicorn.log").read_text()


@pytest.mark.standalone
@pytest.mark.slow
def test_throttles_still_hold_per_process_while_the_redis_cache_is_gone(tmp_path, sqlite_env):
    env = {**sqlite_env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "API_THROTTLE_ANON": "3/min"}
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as base:
        statuses = [http("GET", f"{base}{CERTS}")[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- A worker killed mid-run --------------------------------------------------------

DUE = 400


@pytest.mark.standalone
@pytest.mark.slow
def test_a_synchronous_run_past_the_wait_is_a_202_and_finishes_in_gunicorn(tmp_path, sqlite_env):
    """gunicorn's 30 s timeout never cuts a run off with an HTML 500: past the wait the answer is a 202."""
    env = {**sqlite_env, "EXPIRY_JOB_SYNC_WAIT_SECONDS": "0", "EXPIRY_JOB_BATCH_SIZE": "1"}
    seeded = manage("seed_demo", "--no-progress", "--certs", "200", "--due", "40", env=env)
    assert seeded.returncode == 0, seeded.stderr
    token = create_token(env)
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as base:
        status, _, body = http("POST", f"{base}{RUN}", token=token, body={})
        assert status == 202, body
        assert body["state"] == "running" and body["expired_found"] == 40
        deadline = time.monotonic() + 60
        while body["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
            _, _, body = http("GET", f"{base}/api/v1/certifications/expiry-job/runs/{body['job_run_id']}")
    assert (body["state"], body["expired_found"], body["failures"]) == ("succeeded", 40, [])
    assert body["auto_paused"] > 0


def _seed_due_certifications(count: int, now: dt.datetime) -> None:
    """``count`` mentors, each with one certification that expired a year before ``now``."""
    mentor_ids = fresh_ids(Mentor, field="mentor_id", prefix="mntr_", count=count)
    mentors = Mentor.objects.bulk_create([Mentor(mentor_id=mid, created_at=now, updated_at=now) for mid in mentor_ids])
    basic = cert_type()
    cert_ids = fresh_ids(Certification, field="certification_id", prefix="cert_", count=count)
    Certification.objects.bulk_create(
        [
            Certification(
                certification_id=cid,
                mentor=mentor,
                certification_type=basic,
                issued_at=now - dt.timedelta(days=3 * 365),
                expires_at=now - dt.timedelta(days=365),
                status=CertificationStatus.EXPIRED,
                created_at=now,
                updated_at=now,
            )
            for cid, mentor in zip(cert_ids, mentors, strict=True)
        ]
    )


def _assert_every_item_all_or_nothing() -> int:
    """Each due record is either fully applied (flag, one log row, mentor paused) or untouched."""
    applied = 0
    logs = dict(
        AutoPauseLog.objects.filter(event=LogEvent.AUTO_PAUSE).values_list("certification_id").annotate(n=Count("id"))
    )
    for cert in Certification.objects.select_related("mentor"):
        if cert.auto_pause_applied:
            applied += 1
            assert logs.get(cert.pk) == 1, cert.certification_id
            assert cert.mentor.status == MentorStatus.PAUSED
        else:
            assert cert.pk not in logs, cert.certification_id
            assert cert.mentor.status == MentorStatus.ACTIVE
    return applied


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_mid_run_leaves_whole_batches_and_a_bounded_lock(tmp_path):
    """SIGKILL a real Celery worker during a run of one-record batches; the next run finishes the work."""
    from certifications.tasks import run_expiry_job
    from config.celery import app

    now = timezone.now()
    _seed_due_certifications(DUE, now)
    queue = "hardening_kill"
    ttl = 4
    env = base_env(
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=os.environ["REDIS_URL"],
        CERTHUB_VAR_DIR=str(tmp_path / "var"),
        EXPIRY_JOB_BATCH_SIZE="1",
        EXPIRY_JOB_LOCK_TTL_SECONDS=str(ttl),
    )
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 (closed below)
    worker = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "-l",
            "info",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        run = expiry_run_create(now=now, dry_run=False, trigger="api")
        run_expiry_job.apply_async(kwargs={"job_run_id": run.job_run_id}, queue=queue)
        deadline = time.monotonic() + 120
        while AutoPauseLog.objects.count() < 20:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.02)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        killed_at = timezone.now()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        log.close()

    applied = _assert_every_item_all_or_nothing()
    figures.report(f"SIGKILLed worker: killed after {applied} of {DUE} one-record batches; all or nothing per batch")
    assert 0 < applied < DUE, "the kill must land mid-run"
    lock = JobLock.objects.get(name=LOCK_NAME)
    assert lock.holder == run.job_run_id
    assert lock.lease_until <= killed_at + dt.timedelta(seconds=ttl)  # the dead run's lock is bounded
    dead = ExpiryJobRun.objects.get(pk=run.pk)
    assert dead.state == JobState.RUNNING
    # Its record says what its committed batches applied.
    assert (dead.expired_found, dead.auto_paused) == (DUE, applied)

    # Once the lease has run out, the reaper records it as failed, saying why.
    time.sleep(max(0.0, (lock.lease_until - timezone.now()).total_seconds()) + 0.2)
    assert expiry_runs_reap(now=timezone.now()) == [run.job_run_id]
    dead.refresh_from_db()
    assert dead.state == JobState.FAILED and f"{applied} of {DUE} due records were applied" in dead.error
    ExpiryJobRun.objects.filter(pk=run.pk).update(state=JobState.RUNNING, error="")  # as if not reaped yet

    # The next run takes over and finishes the work.
    finisher = expiry_job_run(now=timezone.now(), trigger="api")
    assert finisher.state == JobState.SUCCEEDED
    assert finisher.expired_found == DUE - applied
    assert finisher.auto_paused == DUE - applied
    assert _assert_every_item_all_or_nothing() == DUE
    assert AutoPauseLog.objects.filter(event=LogEvent.AUTO_PAUSE).count() == DUE
    dead = ExpiryJobRun.objects.get(pk=run.pk)
    assert dead.state == JobState.FAILED and "stopped" in dead.error
    assert not JobLock.objects.exclude(holder="").exists()
