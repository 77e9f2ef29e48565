"""The single-run lock of the expiry job: a lease on one ``JobLock`` row.

The holder renews it in the first statement of every batch transaction, so on
PostgreSQL a competing acquirer waits for the batch to commit and then sees a
fresh lease; a holder whose process died stops renewing and the lock frees
itself after ``EXPIRY_JOB_LOCK_TTL_SECONDS``. A holder that finds its lease
taken over rolls its batch back and stops (``LeaseLost``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from certifications.models import AutoPauseLog, ExpiryJobRun, JobLock, JobState

LOCK_NAME = "expiry_job"


class LeaseLost(RuntimeError):
    """The run's lease expired and another run took the lock; this run must stop."""


def _lease_deadline() -> dt.datetime:
    # The lease is about real elapsed time, so it reads the wall clock, not the job's ``now``.
    return timezone.now() + dt.timedelta(seconds=settings.EXPIRY_JOB_LOCK_TTL_SECONDS)


def lock_holder() -> str | None:
    """The job run id holding a live lease on the expiry lock, if any."""
    lock = JobLock.objects.filter(name=LOCK_NAME, lease_until__gt=timezone.now()).exclude(holder="").first()
    return lock.holder if lock else None


def lock_acquire(holder: str) -> str | None:
    """Take the lock for ``holder``; return the live holder's id when it is taken.

    A lease that ran out belonged to a run whose process died: that run is
    recorded as failed and the lock changes hands.
    """
    JobLock.objects.get_or_create(name=LOCK_NAME)
    with transaction.atomic():
        lock = JobLock.objects.select_for_update().get(name=LOCK_NAME)
        wall = timezone.now()
        if lock.holder and lock.lease_until is not None and lock.lease_until > wall:
            return lock.holder
        stale = lock.holder
        JobLock.objects.filter(name=LOCK_NAME).update(holder=holder, acquired_at=wall, lease_until=_lease_deadline())
        if stale:
            run_died(job_run_id=stale, now=wall)
    return None


def run_died(*, job_run_id: str, now: dt.datetime) -> bool:
    """Record a real run whose process died (its lease ran out) as failed, saying what it applied.

    Guarded (only a run still ``running``); True when this call recorded it. Used by a
    run that takes the lock over and by the reaper alike.
    """
    run = ExpiryJobRun.objects.filter(job_run_id=job_run_id, state=JobState.RUNNING).first()
    if run is None:
        return False
    applied = AutoPauseLog.objects.filter(job_run=run).count()
    why = (
        f"The worker stopped before the run completed: {applied} of {run.expired_found} due records were "
        "applied (committed batches stay; the next run applies the rest)."
    )
    return bool(
        ExpiryJobRun.objects.filter(pk=run.pk, state=JobState.RUNNING).update(
            state=JobState.FAILED, completed_at=now, error=why
        )
    )


def lock_renew(holder: str) -> None:
    """Extend ``holder``'s lease; raise ``LeaseLost`` when another run holds the lock now."""
    if not JobLock.objects.filter(name=LOCK_NAME, holder=holder).update(lease_until=_lease_deadline()):
        raise LeaseLost("The expiry lock was lost (its lease ran out and another run took it); stopping this run.")


def lock_release(holder: str) -> None:
    """Give the lock up if ``holder`` still has it."""
    JobLock.objects.filter(name=LOCK_NAME, holder=holder).update(holder="", lease_until=None)
