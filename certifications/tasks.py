"""Celery entry points: thin wrappers around the expiry job services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from certhub.errors import JobAlreadyRunning
from certifications.models import ExpiryJobRun, JobState, JobTrigger
from certifications.representation import run_counters
from certifications.services import EXPIRY_TASK_EXPIRES_SECONDS, EXPIRY_TASK_NAME, expiry_job_run, expiry_runs_reap

logger = logging.getLogger("certhub.expiry")

# How often beat asks for stale runs to be reaped (the schedule's migration uses it too).
REAP_EVERY_SECONDS = 5 * 60


def summary(run: ExpiryJobRun) -> dict:
    """The run's counters as plain data (what the task returns)."""
    return {
        "job_run_id": run.job_run_id,
        "state": run.state,
        "dry_run": run.dry_run,
        **run_counters(run),
        "failures": run.failures,
    }


@shared_task(name=EXPIRY_TASK_NAME, expires=EXPIRY_TASK_EXPIRES_SECONDS)
def run_expiry_job(job_run_id: str | None = None, dry_run: bool = False) -> dict | None:
    """Run the expiry job: a queued run when ``job_run_id`` is given, else a scheduled run.

    Beat sends it with no arguments (the periodic task's ``{}``). A scheduled
    run that finds another run in progress is skipped with a log line. A
    queued run is executed once: a redelivered message for a run that already
    started (its worker died) is not executed again; the next run finishes the work.
    """
    now = timezone.now()
    run = None
    if job_run_id is not None:
        run = ExpiryJobRun.objects.filter(job_run_id=job_run_id).first()
        if run is None:
            logger.warning("expiry job %s not found; nothing to run", job_run_id)
            return None
        if run.state != JobState.QUEUED:
            logger.warning("expiry job %s is already %s; not running it again", job_run_id, run.state)
            return None
    try:
        run = expiry_job_run(now=now, dry_run=dry_run, trigger=JobTrigger.SCHEDULE, run=run)
    except JobAlreadyRunning as exc:
        logger.info("expiry job skipped: %s", exc.message)
        return None
    return summary(run)


@shared_task(name="certifications.tasks.reap_expiry_runs", expires=REAP_EVERY_SECONDS)
def reap_expiry_runs() -> list[str]:
    """Record as failed the runs whose process died or whose message expired (beat, every 5 minutes)."""
    reaped = expiry_runs_reap(now=timezone.now())
    for job_run_id in reaped:
        logger.warning("expiry job %s recorded as failed: it can no longer finish", job_run_id)
    return reaped
