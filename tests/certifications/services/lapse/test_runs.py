"""Run records (``runs``): their ids, a queued run executed in place, and queuing a run on the worker."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.db import transaction

from certhub.errors import ServiceUnavailable
from certifications.models import ExpiryJobRun, JobState, JobTrigger
from certifications.services import EXPIRY_TASK_EXPIRES_SECONDS, EXPIRY_TASK_NAME, expiry_job_enqueue, expiry_job_run
from certifications.services.lapse import expiry_run_create
from certifications.tasks import run_expiry_job
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
