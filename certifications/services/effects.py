"""What a write implies beyond its own rows, in one place: every write path calls these inside its transaction.

A certification write, a mentor's pause or resume, and the expiry job's steps
each call one function here after writing, in the same transaction as the
change. The consequences that follow a change wherever it comes from (history,
outbox events, notifications, maintained counts) are added here, set-based for
the job's batches, so that no entry point adds a side effect of its own and
the API, the admin, an import row, a command and the job cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import models

from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, Mentor
from notifications import effects as notifications

# The fields of a certification whose change is a change of the record.
CERTIFICATION_FIELDS = (
    "certification_type_id",
    "issued_at",
    "expires_at",
    "status",
    "revoked_at",
    "revocation_reason",
    "deleted_at",
    "auto_pause_applied",
)
MENTOR_FIELDS = ("name", "email", "status", "paused_by", "paused_at", "pause_reason")


class CertificationChange(models.TextChoices):
    """What a write did to a certification."""

    CREATED = "created"
    UPDATED = "updated"
    RENEWED = "renewed"
    REVOKED = "revoked"
    DELETED = "deleted"
    RESTORED = "restored"


class MentorChange(models.TextChoices):
    """What a write did to a mentor's pause state."""

    PAUSED = "paused"  # by staff (the job's pauses come in batches: ``job_batch_applied``)
    RESUMED = "resumed"  # by staff, or automatically after a write (with the ``auto_resume`` log row)


def certification_snapshot(cert: Certification) -> dict[str, Any]:
    """The tracked fields of ``cert`` as they are now: a write's ``before``."""
    return {name: getattr(cert, name) for name in CERTIFICATION_FIELDS}


def mentor_snapshot(mentor: Mentor) -> dict[str, Any]:
    """The tracked fields of ``mentor`` as they are now: a write's ``before``."""
    return {name: getattr(mentor, name) for name in MENTOR_FIELDS}


def certification_written(
    *, change: str, before: dict[str, Any] | None, after: Certification, now: dt.datetime
) -> None:
    """A certification was created (``before`` is None) or changed from ``before`` to ``after``."""


def mentor_written(
    *, change: str, before: dict[str, Any], after: Mentor, now: dt.datetime, log: AutoPauseLog | None = None
) -> None:
    """A mentor was paused or resumed; ``log`` is the ``auto_resume`` log row of an automatic resume."""
    notifications.mentor_written(change=change, after=after, now=now, log=log)


def records_unflagged(*, pks: Sequence[int], now: dt.datetime) -> None:
    """Auto-resume cleared ``auto_pause_applied`` on the certifications ``pks``: they are no longer lapsed."""


def job_records_expired(*, pks: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> None:
    """The job's step 1 moved the certifications ``pks`` from ``valid`` to ``expired`` (one chunk of them)."""


def job_batch_applied(*, flagged: Sequence[int], paused: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> None:
    """A job batch flagged the certifications ``flagged`` and paused the mentors ``paused`` (primary keys).

    Each flagged record has its ``auto_pause`` log row (``job_run=run``, ``applied_at=now``)
    and each paused mentor its new ``pause_reason``: consequences are written
    set-based from those, a fixed number of statements whatever the batch size.
    """
    notifications.job_batch_applied(flagged=flagged, paused=paused, now=now, run=run)


def job_run_finished(*, run: ExpiryJobRun) -> None:
    """A non-dry run ended (succeeded or failed) and its record is saved."""
