"""The single-run lock (``lock``): a second run is refused, a lease that ran out is taken over."""

from __future__ import annotations

import datetime as dt

import pytest

from certhub.errors import JobAlreadyRunning
from certifications.models import ExpiryJobRun, JobLock, JobState, JobTrigger
from certifications.services import expiry_job_run
from certifications.services.lapse import LOCK_NAME
from tests.certifications.services.lapse.helpers import NOW, UTC, lapsed_cert, refreshed, snapshot

pytestmark = pytest.mark.django_db


def _hold_lock(holder: str, *, seconds: int) -> ExpiryJobRun:
    """Another process's run in progress: its run record and a lease on the lock."""
    other = ExpiryJobRun.objects.create(
        job_run_id=holder, trigger=JobTrigger.SCHEDULE, state=JobState.RUNNING, started_at=NOW
    )
    JobLock.objects.update_or_create(
        name=LOCK_NAME,
        defaults={
            "holder": holder,
            "acquired_at": NOW,
            "lease_until": dt.datetime.now(UTC) + dt.timedelta(seconds=seconds),
        },
    )
    return other


def test_a_second_run_while_one_holds_the_lock_is_refused_and_leaves_no_trace():
    lapsed_cert()
    _hold_lock("job_26MAR2026_01", seconds=300)
    before = snapshot()
    with pytest.raises(JobAlreadyRunning) as refused:
        expiry_job_run(now=NOW)
    assert refused.value.extra == {"job_run_id": "job_26MAR2026_01"}
    assert "job_26MAR2026_01" in refused.value.message
    assert snapshot() == before
    assert list(ExpiryJobRun.objects.values_list("job_run_id", flat=True)) == ["job_26MAR2026_01"]
    # A dry run does not need the lock.
    assert expiry_job_run(now=NOW, dry_run=True).expired_found == 1


def test_a_lease_that_ran_out_is_taken_over_and_its_run_marked_failed():
    cert = lapsed_cert()
    dead = _hold_lock("job_25MAR2026_01", seconds=-1)
    run = expiry_job_run(now=NOW)
    assert run.state == JobState.SUCCEEDED and run.expired_found == 1
    assert refreshed(cert).auto_pause_applied is True
    dead = refreshed(dead)
    assert dead.state == JobState.FAILED and "stopped" in dead.error
    lock = JobLock.objects.get(name=LOCK_NAME)
    assert (lock.holder, lock.lease_until) == ("", None)  # released at the end of the run
