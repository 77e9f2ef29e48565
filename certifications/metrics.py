"""The domain's gauges: mentors by status, and the expiry job's last real run (registered in ``ready()``).

Mentors per ``(status, paused_by)`` come from their maintained tally (``totals.mentors``:
a few rows, whatever the number of mentors). The job's four figures come from one
read of the newest succeeded real run, the first entry of ``run_last_success_idx``.
Pending renewal requests are counted, and the oldest found, on ``rnw_state_created_idx``:
an index range as long as the queue, whatever the number of decided requests.
"""

from __future__ import annotations

import datetime as dt

from certhub.metrics.gauges import Gauge, age_seconds, once_per_scrape
from certifications.models import ExpiryJobRun, JobState, MentorStatus, PausedBy, RenewalRequest, RenewalState
from certifications.totals.mentors import mentor_totals

NOT_PAUSED = "none"  # the paused_by label of an active mentor (the column is empty)
MENTOR_GROUPS = [(MentorStatus.ACTIVE.value, NOT_PAUSED)] + [(MentorStatus.PAUSED.value, by) for by in PausedBy.values]


def mentors(now: dt.datetime) -> dict[tuple[str, str], int]:
    return {(status, paused_by or NOT_PAUSED): n for (status, paused_by), n in mentor_totals().items()}


def last_success() -> ExpiryJobRun | None:
    """The newest real run that succeeded (the first entry of ``run_last_success_idx``)."""
    return (
        ExpiryJobRun.objects.filter(dry_run=False, state=JobState.SUCCEEDED, completed_at__isnull=False)
        .only("started_at", "completed_at", "expired_found", "batches")
        .order_by("-completed_at")
        .first()
    )


def renewal_requests_pending(now: dt.datetime) -> int:
    return RenewalRequest.objects.filter(state=RenewalState.PENDING).count()


def renewal_requests_oldest_pending_age(now: dt.datetime) -> float:
    pending = RenewalRequest.objects.filter(state=RenewalState.PENDING).order_by("created_at", "id")
    return age_seconds(pending.values_list("created_at", flat=True).first(), now)


@once_per_scrape
def _last_success(now: dt.datetime) -> ExpiryJobRun | None:
    return last_success()


def _of_last_success(figure):
    def read(now: dt.datetime) -> float:
        run = _last_success(now)
        return figure(run) or 0 if run is not None else 0

    return read


GAUGES = [
    Gauge(
        "certhub_mentors",
        "Mentors by status and by who paused them (paused_by is none for an active mentor).",
        mentors,
        labels=("status", "paused_by"),
        values=MENTOR_GROUPS,
    ),
    Gauge(
        "certhub_expiry_job_last_success_timestamp_seconds",
        "When the last real expiry job run that succeeded completed (Unix time; 0 before the first).",
        _of_last_success(lambda run: run.completed_at.timestamp()),
    ),
    Gauge(
        "certhub_expiry_job_last_duration_seconds",
        "How long the last successful real expiry job run took.",
        _of_last_success(lambda run: run.duration_seconds),
    ),
    Gauge(
        "certhub_expiry_job_last_batches",
        "Batches the last successful real expiry job run applied.",
        _of_last_success(lambda run: run.batches),
    ),
    Gauge(
        "certhub_expiry_job_last_rows_per_second",
        "Due records per second of the last successful real expiry job run.",
        _of_last_success(lambda run: run.rows_per_second),
    ),
    Gauge(
        "certhub_renewal_requests_pending",
        "Renewal requests waiting for a coordinator's decision.",
        renewal_requests_pending,
    ),
    Gauge(
        "certhub_renewal_requests_oldest_pending_age_seconds",
        "Age of the oldest renewal request still pending (0 when none waits).",
        renewal_requests_oldest_pending_age,
    ),
]
