"""Run records (``runs``): their ids, a queued run executed in place, and queuing a run on the worker."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications.models import ExpiryJobRun, JobState, JobTrigger
from certifications.services import expiry_job_run
from certifications.services.lapse import expiry_run_create
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
