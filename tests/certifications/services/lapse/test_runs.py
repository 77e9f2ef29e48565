"""Run records (``runs``): their ids, a queued run executed in place, and queuing a run on the worker."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from certhub.errors import ServiceUnavailable
from certifications.models import ExpiryJobRun, JobLock, JobState, JobTrigger
from certifications.services import EXPIRY_TASK_EXPIRES_SECONDS, EXPIRY_TASK_NAME, expiry_job_enqueue, expiry_job_run
from certifications.services.lapse import LOCK_NAME, expiry_run_create, expiry_runs_reap, job
from certifications.tasks import reap_expiry_runs, run_expiry_job
from tests.certifications.broker_helpers import celery_broker, queued_messages
from tests.certifications.services.lapse.helpers import NOW, UTC, lapsed_cert

pytestmark = pytest.mark.django_db


def test_run_ids_count_up_within_each_utc_day():
    day = dt.datetime(2026, 3, 26, 0, 0, 5, tzinfo=UTC)
    ids = [
        expiry_job_run(now=day).job_run_id,
        expiry_job_run(now=day + dt.timedelta(hours=12), dry_run=True).job_run_id,
        # 2026-03-27T01:30+02:00 is still 2026-03-26 in UTC.
        expiry_job_run(now=dt.datetime(2026, 3, 27, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))).job_run_id,
        expiry_job_run(now=dt.datetime(2026, 3, 27, 0, 0, tzinfo=UTC)).job_run_id,
    ]
    assert ids == ["job_26MAR2026_01", "job_26MAR2026_02", "job_26MAR2026_03", "job_27MAR2026_01"]


def test_a_queued_run_record_is_executed_in_place():
    lapsed_cert()

    queued = expiry_run_create(now=NOW, dry_run=False, trigger=JobTrigger.API)
    assert queued.state == JobState.QUEUED and queued.job_run_id == "job_26MAR2026_01"
    run = expiry_job_run(now=NOW + dt.timedelta(seconds=3), run=queued)
    assert run.pk == queued.pk and run.state == JobState.SUCCEEDED and run.auto_paused == 1
    assert ExpiryJobRun.objects.count() == 1


# --- Queuing a run on the worker -----------------------------------------------------------


def test_an_enqueued_run_is_sent_by_task_name_with_its_expiry(django_capture_on_commit_callbacks):
    with celery_broker("memory://"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            run = expiry_job_enqueue(now=NOW, dry_run=False, trigger=JobTrigger.API)
            assert queued_messages() == []  # nothing goes out before the run record is committed
        assert len(callbacks) == 1
        [(headers, (args, kwargs, _))] = queued_messages()
    assert run.state == JobState.QUEUED and run.job_run_id == "job_26MAR2026_01"
    assert headers["task"] == EXPIRY_TASK_NAME == run_expiry_job.name == "certifications.tasks.run_expiry_job"
    assert (args, kwargs) == ([], {"job_run_id": run.job_run_id})
    expires = dt.datetime.fromisoformat(headers["expires"])
    assert abs(expires - dt.datetime.now(UTC) - dt.timedelta(seconds=EXPIRY_TASK_EXPIRES_SECONDS)) < dt.timedelta(
        minutes=1
    )
    assert EXPIRY_TASK_EXPIRES_SECONDS == run_expiry_job.expires == 12 * 60 * 60
    assert headers["ignore_result"] is True


def test_a_broker_that_refuses_is_unavailable_and_the_run_recorded_failed(django_capture_on_commit_callbacks):
    with celery_broker("redis://127.0.0.1:1/0"), pytest.raises(ServiceUnavailable):
        with django_capture_on_commit_callbacks(execute=True):
            expiry_job_enqueue(now=NOW, dry_run=True, trigger=JobTrigger.API)
    run = ExpiryJobRun.objects.get()
    assert run.state == JobState.FAILED and run.error.startswith("Broker unavailable")


def test_a_run_enqueued_in_a_transaction_that_rolls_back_is_never_sent(django_capture_on_commit_callbacks):
    with celery_broker("memory://"), django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            expiry_job_enqueue(now=NOW, dry_run=False, trigger=JobTrigger.API)
            raise RuntimeError("the caller's write failed")
        assert queued_messages() == []
    assert callbacks == []
    assert not ExpiryJobRun.objects.exists()


def test_the_services_do_not_import_the_tasks_module():
    """``tasks`` imports the services; the way back would be a cycle (a function-level import included)."""
    services = Path(__file__).resolve().parents[4] / "certifications" / "services"
    for path in services.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(name.startswith("certifications.tasks") for name in names), path


# --- Reaping runs that can no longer finish ------------------------------------------------


def _died_after_applying(count: int) -> ExpiryJobRun:
    """A real run that applied ``count`` due records and then (as far as its record says) never finished."""
    for _ in range(count):
        lapsed_cert()
    run = expiry_job_run(now=NOW)
    ExpiryJobRun.objects.filter(pk=run.pk).update(state=JobState.RUNNING, completed_at=None)
    return run


def test_a_running_run_without_the_lease_is_reaped_with_what_it_applied():
    run = _died_after_applying(3)
    assert expiry_runs_reap(now=NOW + dt.timedelta(hours=1)) == [run.job_run_id]
    run.refresh_from_db()
    assert run.state == JobState.FAILED and run.completed_at == NOW + dt.timedelta(hours=1)
    assert "3 of 3 due records were applied" in run.error
    assert expiry_runs_reap(now=NOW + dt.timedelta(hours=2)) == []  # once


def test_a_running_run_that_holds_a_live_lease_is_left_alone():
    run = _died_after_applying(1)
    JobLock.objects.update_or_create(
        name=LOCK_NAME,
        defaults={"holder": run.job_run_id, "lease_until": timezone.now() + dt.timedelta(minutes=5)},
    )
    assert expiry_runs_reap(now=NOW) == []
    assert ExpiryJobRun.objects.get(pk=run.pk).state == JobState.RUNNING


def test_a_queued_run_whose_message_expired_is_reaped_and_a_recent_one_is_not():
    old = expiry_run_create(now=NOW - dt.timedelta(hours=13), dry_run=False, trigger=JobTrigger.API)
    recent = expiry_run_create(now=NOW - dt.timedelta(hours=1), dry_run=False, trigger=JobTrigger.API)
    assert expiry_runs_reap(now=NOW) == [old.job_run_id]
    old.refresh_from_db()
    assert old.state == JobState.FAILED and "message expired" in old.error
    assert ExpiryJobRun.objects.get(pk=recent.pk).state == JobState.QUEUED


def test_a_dry_run_running_longer_than_any_task_may_is_reaped():
    stuck = expiry_run_create(now=NOW - dt.timedelta(hours=3), dry_run=True, trigger=JobTrigger.API)
    ExpiryJobRun.objects.filter(pk=stuck.pk).update(state=JobState.RUNNING, started_at=NOW - dt.timedelta(hours=3))
    young = expiry_run_create(now=NOW, dry_run=True, trigger=JobTrigger.API)
    ExpiryJobRun.objects.filter(pk=young.pk).update(state=JobState.RUNNING, started_at=NOW - dt.timedelta(minutes=5))
    assert expiry_runs_reap(now=NOW) == [stuck.job_run_id]


def test_the_counters_of_a_run_are_committed_before_and_with_its_batches(monkeypatch):
    """What a run that dies midway still shows: steps 1 and 2's counters, and each committed batch's pauses."""
    for _ in range(4):
        lapsed_cert()
    seen = []
    engine = job.batch_engine()

    class Watching:
        name = "watching"

        def apply(self, *, ids, now, run):
            counters = ExpiryJobRun.objects.values_list("marked_expired", "expired_found", "auto_paused")
            seen.append(counters.get(pk=run.pk))
            return engine.apply(ids=ids, now=now, run=run)

    monkeypatch.setattr(job, "batch_engine", Watching)
    expiry_job_run(now=NOW, batch_size=1)
    assert seen == [(4, 4, 0), (4, 4, 1), (4, 4, 2), (4, 4, 3)]


def test_beat_reaps_every_five_minutes_with_the_registered_task():
    entry = PeriodicTask.objects.get(name="reap stale expiry job runs every 5 minutes")
    assert (entry.interval.every, entry.interval.period, entry.enabled) == (5, "minutes", True)
    assert entry.task == reap_expiry_runs.name
    assert reap_expiry_runs.run() == []
