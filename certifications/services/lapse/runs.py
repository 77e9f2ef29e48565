"""Run records of the expiry job: their ids, and queuing a run on the worker.

The worker's task is addressed by its registered name through the Celery app,
so this module does not import ``certifications.tasks`` (which imports the
services): the dependency runs one way, from the entry point to the service.
"""

from __future__ import annotations

import datetime as dt

from celery import current_app
from django.db import IntegrityError, transaction
from django.utils import timezone

from certhub.errors import JobAlreadyRunning, ServiceUnavailable
from certifications.models import ExpiryJobRun, JobState
from certifications.services.lapse.lock import lock_holder

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

# The worker's task (``certifications.tasks.run_expiry_job`` registers under this name;
# the beat schedule's migration names it too).
EXPIRY_TASK_NAME = "certifications.tasks.run_expiry_job"
# A daily run that waited in the broker longer than this (no worker was up) is
# dropped by the worker: the next day's run, or a manual one, does the work.
EXPIRY_TASK_EXPIRES_SECONDS = 12 * 60 * 60
# A broker that refuses is retried briefly, then the caller gets a 503.
SEND_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def _run_id_prefix(when: dt.datetime) -> str:
    when = when.astimezone(dt.UTC)
    return f"job_{when.day:02d}{MONTHS[when.month - 1]}{when.year}_"


def expiry_run_create(
    *, now: dt.datetime, dry_run: bool, trigger: str, requested_by=None, state: str = JobState.QUEUED
) -> ExpiryJobRun:
    """Create a run record with the next ``job_DDMONYYYY_NN`` id of ``now``'s UTC day."""
    prefix = _run_id_prefix(now)
    for _ in range(20):
        taken = ExpiryJobRun.objects.filter(job_run_id__startswith=prefix).values_list("job_run_id", flat=True)
        sequence = max((int(run_id[len(prefix) :]) for run_id in taken), default=0) + 1
        try:
            with transaction.atomic():
                return ExpiryJobRun.objects.create(
                    job_run_id=f"{prefix}{sequence:02d}",
                    trigger=trigger,
                    dry_run=dry_run,
                    requested_by=requested_by,
                    created_at=now,
                    state=state,
                )
        except IntegrityError:
            continue  # another process took that sequence number; take the next one
    raise RuntimeError("could not allocate a job run id")


def expiry_job_enqueue(*, now: dt.datetime, dry_run: bool, trigger: str, requested_by=None) -> ExpiryJobRun:
    """Record a queued run and hand it to the worker (``"async": true``).

    Refuses with 409 while a non-dry run holds the lock, and with 503 when the
    broker cannot take the task (the queued record is then marked failed).

    The message is sent with ``transaction.on_commit``, so the worker is never
    sent a run whose record is not committed (or was rolled back). Called
    outside a transaction, as the API does, the commit is this function's own:
    the message goes out before it returns, and a broker that refuses reaches
    the caller as ``ServiceUnavailable`` (the 503). Inside a caller's
    transaction the message goes out at that transaction's commit.
    """
    if not dry_run:
        holder = lock_holder()
        if holder:
            raise JobAlreadyRunning(f"Expiry job {holder} is already running.", job_run_id=holder)
    with transaction.atomic():
        run = expiry_run_create(now=now, dry_run=dry_run, trigger=trigger, requested_by=requested_by)
        transaction.on_commit(lambda: _send(run))
    return run


def _send(run: ExpiryJobRun) -> None:
    """Publish ``run`` to the worker's queue; on a refusal mark it failed and raise ``ServiceUnavailable``."""
    try:
        current_app.send_task(
            EXPIRY_TASK_NAME,
            kwargs={"job_run_id": run.job_run_id},
            expires=EXPIRY_TASK_EXPIRES_SECONDS,
            # What the task object would put in the message itself (``task_ignore_result``).
            ignore_result=current_app.conf.task_ignore_result,
            retry=True,
            retry_policy=SEND_RETRY_POLICY,
        )
    except Exception as exc:
        ExpiryJobRun.objects.filter(pk=run.pk).update(
            state=JobState.FAILED, completed_at=timezone.now(), error=f"Broker unavailable: {type(exc).__name__}"
        )
        raise ServiceUnavailable("The task queue is unavailable; run the job synchronously or try again.") from exc
