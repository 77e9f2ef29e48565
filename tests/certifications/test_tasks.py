"""The Celery task: called in-process, and end to end on a real worker.

The worker tests start ``celery -A config worker`` as a subprocess on Redis
(``REDIS_URL``) and point it at this test run's PostgreSQL database (pytest-django's
``test_<name>``), so they use transactional tests: the worker sees committed rows only.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

from certifications.models import (
    AutoPauseLog,
    Certification,
    ExpiryJobRun,
    JobLock,
    JobState,
    JobTrigger,
    LogEvent,
    Mentor,
    MentorStatus,
)
from certifications.services.lapse import LOCK_NAME, expiry_run_create
from certifications.tasks import run_expiry_job
from config.celery import app as celery_app
from events.models import Event, EventType
from notifications.models import Notification, NotificationKind
from tests.celery_worker import celery_worker, wait_for
from tests.factories import CertificationFactory, cert_type

UTC = dt.UTC
ROOT = Path(__file__).resolve().parents[2]
TASK_NAME = "expiry job daily at 01:00 UTC"


def make_lapsed() -> Certification:
    """A record that lapsed a month before the real clock's today."""
    now = timezone.now()
    return CertificationFactory(
        certification_type=cert_type("peer_mentor_basic"),
        issued_at=now - dt.timedelta(days=3 * 365),
        expires_at=now - dt.timedelta(days=30),
    )


def hold_lock(holder: str) -> None:
    ExpiryJobRun.objects.create(job_run_id=holder, trigger=JobTrigger.API, state=JobState.RUNNING)
    JobLock.objects.update_or_create(
        name=LOCK_NAME, defaults={"holder": holder, "lease_until": timezone.now() + dt.timedelta(minutes=5)}
    )


# --- The task called in-process (any database) -------------------------------------------


@pytest.mark.django_db
def test_the_task_without_arguments_is_a_scheduled_run():
    cert = make_lapsed()
    result = run_expiry_job()
    run = ExpiryJobRun.objects.get()
    assert result == {
        "job_run_id": run.job_run_id,
        "state": "succeeded",
        "dry_run": False,
        "mentors_scanned": 1,
        "expired_found": 1,
        "auto_paused": 1,
        "marked_expired": 1,
        "failures": [],
    }
    assert run.trigger == JobTrigger.SCHEDULE
    assert Mentor.objects.get(pk=cert.mentor_id).status == MentorStatus.PAUSED


@pytest.mark.django_db
def test_a_scheduled_run_while_another_runs_is_skipped_with_a_log_line(caplog):
    make_lapsed()
    hold_lock("job_26MAR2026_01")
    with caplog.at_level("INFO", logger="certhub.expiry"):
        assert run_expiry_job() is None
    assert "skipped" in caplog.text and "job_26MAR2026_01" in caplog.text
    assert list(ExpiryJobRun.objects.values_list("job_run_id", flat=True)) == ["job_26MAR2026_01"]
    assert not AutoPauseLog.objects.exists()


@pytest.mark.django_db
def test_a_queued_run_that_finds_the_lock_taken_is_recorded_failed():
    make_lapsed()
    queued = expiry_run_create(now=timezone.now(), dry_run=False, trigger=JobTrigger.API)
    hold_lock("job_01JAN2020_01")
    assert run_expiry_job(job_run_id=queued.job_run_id) is None
    queued.refresh_from_db()
    assert queued.state == JobState.FAILED and "job_01JAN2020_01" in queued.error


@pytest.mark.django_db
@pytest.mark.parametrize("state", [JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED])
def test_a_redelivered_message_for_a_started_run_is_not_run_again(state):
    make_lapsed()
    run = expiry_run_create(now=timezone.now(), dry_run=False, trigger=JobTrigger.API, state=state)
    assert run_expiry_job(job_run_id=run.job_run_id) is None
    assert ExpiryJobRun.objects.get().state == state
    assert not AutoPauseLog.objects.exists()


@pytest.mark.django_db
def test_an_unknown_run_id_does_nothing():
    make_lapsed()
    assert run_expiry_job(job_run_id="job_01JAN2020_07") is None
    assert not ExpiryJobRun.objects.exists()


def test_the_task_expires_so_a_stale_daily_message_is_dropped():
    assert run_expiry_job.name == "certifications.tasks.run_expiry_job"
    assert run_expiry_job.expires == 12 * 60 * 60
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.task_time_limit > celery_app.conf.task_soft_time_limit
    visibility = celery_app.conf.broker_transport_options.get("visibility_timeout")
    if visibility is not None:  # Redis: redelivery only after the longest possible run
        assert visibility > celery_app.conf.task_time_limit


# --- A real worker on Redis ------------------------------------------------------------


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """``celery -A config worker`` on Redis, using this test run's database."""
    with celery_worker(tmp_path_factory.mktemp("worker") / "worker.log") as log_path:
        yield log_path


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_runs_the_task_as_beat_enqueues_it(worker):
    cert = make_lapsed()
    periodic = PeriodicTask.objects.get(name=TASK_NAME)
    # Exactly what beat does when the entry is due: Scheduler.apply_async(entry),
    # i.e. the registered task sent with the periodic task's args, kwargs and headers.
    scheduler = DatabaseScheduler(app=celery_app, lazy=True)
    scheduler.apply_async(ModelEntry(periodic, app=celery_app), advance=False)

    wait_for(
        lambda: ExpiryJobRun.objects.filter(state=JobState.SUCCEEDED).exists(),
        what="the scheduled run",
        log=worker,
    )
    run = ExpiryJobRun.objects.get()
    assert (run.trigger, run.dry_run, run.expired_found, run.auto_paused, run.marked_expired) == (
        JobTrigger.SCHEDULE,
        False,
        1,
        1,
        1,
    )
    mentor = Mentor.objects.get(pk=cert.mentor_id)
    assert (mentor.status, mentor.paused_by) == (MentorStatus.PAUSED, "auto")
    log = AutoPauseLog.objects.get()
    assert (log.event, log.job_run_id, log.certification_id) == (LogEvent.AUTO_PAUSE, run.pk, cert.pk)
    # The worker's process registered the reacting apps (decision 0029): their rows are in the run's transactions.
    assert sorted(Event.objects.values_list("type", flat=True)) == sorted(
        [EventType.CERTIFICATION_EXPIRED, EventType.MENTOR_PAUSED, EventType.EXPIRY_JOB_COMPLETED]
    )
    assert list(Notification.objects.values_list("kind", "mentor_id")) == [(NotificationKind.MENTOR_PAUSED, mentor.pk)]
    assert "Task certifications.tasks.run_expiry_job[" in worker.read_text()
    assert json.loads(periodic.kwargs) == {} and json.loads(periodic.args) == []


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_async_api_run_completes_on_the_worker(worker, api_client):
    cert = make_lapsed()
    response = api_client.post("/api/v1/certifications/expiry-job/run", {"async": True}, format="json")
    assert response.status_code == 202, response.content
    job_run_id = response.json()["job_run_id"]
    assert response.json()["state"] == "queued"

    def finished() -> bool:
        state = api_client.get(f"/api/v1/certifications/expiry-job/runs/{job_run_id}").json()["state"]
        return state in {"succeeded", "failed"}

    wait_for(finished, what=f"run {job_run_id}", log=worker)
    body = api_client.get(f"/api/v1/certifications/expiry-job/runs/{job_run_id}").json()
    assert (body["state"], body["trigger"], body["expired_found"], body["auto_paused"]) == ("succeeded", "api", 1, 1)
    assert body["started_at"] is not None and body["completed_at"] is not None
    assert Mentor.objects.get(pk=cert.mentor_id).status == MentorStatus.PAUSED
    logs = api_client.get("/api/v1/certifications/expiry-job/logs", {"job_run_id": job_run_id}).json()["data"]
    assert [row["certification_id"] for row in logs] == [cert.certification_id]


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_requests_id_reaches_the_log_lines_of_the_task_it_enqueued(worker, api_client):
    make_lapsed()
    response = api_client.post(
        "/api/v1/certifications/expiry-job/run", {"async": True}, format="json", HTTP_X_REQUEST_ID="trace-async-7"
    )
    assert response.status_code == 202 and response["X-Request-ID"] == "trace-async-7"
    job_run_id = response.json()["job_run_id"]

    def summary_logged() -> bool:
        # Run ids repeat across this module's tests (each starts from an empty database): the request id tells.
        return any(
            "[trace-async-7 certifications.tasks.run_expiry_job " in line
            and f"expiry job {job_run_id}: succeeded" in line
            for line in worker.read_text().splitlines()
        )

    wait_for(summary_logged, what="the run's summary, with the request id", log=worker)
