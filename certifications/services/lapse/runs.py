"""Run records of the expiry job: their ids, and queuing a run on the worker.

The worker's task is addressed by its registered name through the Celery app,
so this module does not import ``certifications.tasks`` (which imports the
services): the dependency runs one way, from the entry point to the service.
"""

from __future__ import annotations

import datetime as dt

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from certhub.errors import JobAlreadyRunning, ServiceUnavailable
from certifications.models import ExpiryJobRun, JobState
from certifications.services.lapse.lock import lock_holder, run_died

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


def expiry_runs_reap(*, now: dt.datetime) -> list[str]:
    """Record as ``failed``, saying why, the runs that can no longer finish; return their ids.

    - a real run still ``running`` that no longer holds the lock's lease: its
      process died (its committed batches stay, and its counters say what they
      applied; the next run does the rest);
    - a dry run ``running`` for longer than a task may run at all;
    - a run still ``queued`` after its message expired: no worker took it in time.

    Each is a guarded update (the old state in the filter), so a run that moves on
    meanwhile is left alone. Called on a schedule (``certifications.tasks``).
    """
    reaped: list[str] = []
    holder = lock_holder() or ""
    stale = ExpiryJobRun.objects.filter(state=JobState.RUNNING, dry_run=False).exclude(job_run_id=holder)
    reaped += [
        job_run_id
        for job_run_id in stale.values_list("job_run_id", flat=True)
        if run_died(job_run_id=job_run_id, now=now)
    ]
    longest = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    for run in ExpiryJobRun.objects.filter(state=JobState.RUNNING, dry_run=True, started_at__lt=now - longest):
        reaped += _fail(run, now=now, state=JobState.RUNNING, why="The dry run stopped before it completed.")
    expired = now - dt.timedelta(seconds=EXPIRY_TASK_EXPIRES_SECONDS + settings.EXPIRY_JOB_LOCK_TTL_SECONDS)
    for run in ExpiryJobRun.objects.filter(state=JobState.QUEUED, created_at__lt=expired):
        why = "No worker took the queued run before its message expired (is a Celery worker running?)."
        reaped += _fail(run, now=now, state=JobState.QUEUED, why=why)
    return reaped


def _fail(run: ExpiryJobRun, *, now: dt.datetime, state: str, why: str) -> list[str]:
    updated = ExpiryJobRun.objects.filter(pk=run.pk, state=state).update(
        state=JobState.FAILED, completed_at=now, error=why
    )
    return [run.job_run_id] if updated else []
