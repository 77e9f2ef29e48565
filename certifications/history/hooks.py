"""History's share of each write's consequences: ``certifications.services.effects`` calls these.

Single writes get one row per changed object; the job's step 1, its batches and
auto-resume's un-flagging get theirs set-based (``record.rows_changed``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from certhub.api.fields import format_utc
from certhub.sql import pk_in
from certifications.changes import CertificationChange, MentorChange
from certifications.history import record
from certifications.history.actor import Actor
from certifications.history.models import Change
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    CertificationType,
    ExpiryJobRun,
    Mentor,
    MentorStatus,
    PausedBy,
)
from certifications.services.receivers import BatchPart

# A write's kind as a history ``change``; the rest are ``changed``.
CHANGES = {
    CertificationChange.CREATED: Change.CREATED,
    CertificationChange.DELETED: Change.DELETED,
    CertificationChange.RESTORED: Change.RESTORED,
    MentorChange.CREATED: Change.CREATED,
}
# Kinds whose name is the reason when the actor gave none.
NAMED_KINDS = (CertificationChange.RENEWED, CertificationChange.REVOKED)


def certification_written(
    *, change: CertificationChange, before: dict[str, Any] | None, after: Certification, now: dt.datetime, by: Actor
) -> None:
    """A row for a certification's create, update, renewal, revocation, deletion or restore."""
    reason = by.reason or (change.value if change in NAMED_KINDS else "")
    if change == CertificationChange.REVOKED and after.revocation_reason and not by.reason:
        reason = f"revoked: {after.revocation_reason}"
    record.object_written(
        obj=after, before=before, change=CHANGES.get(change, Change.CHANGED), now=now, by=by, reason=reason
    )


def mentor_written(
    *,
    change: MentorChange,
    before: dict[str, Any] | None,
    after: Mentor,
    now: dt.datetime,
    by: Actor,
    log: AutoPauseLog | None = None,
) -> None:
    """A row for a mentor's creation, edit, staff pause, or resume (an automatic one gives its log reason)."""
    if log is not None:
        reason = log.reason
    elif change == MentorChange.PAUSED:
        reason = after.pause_reason
    else:
        reason = by.reason
    record.object_written(
        obj=after, before=before, change=CHANGES.get(change, Change.CHANGED), now=now, by=by, reason=reason
    )


def certification_type_written(
    *, before: dict[str, Any] | None, after: CertificationType, now: dt.datetime, by: Actor
) -> None:
    """A row for a certification type's creation or edit (its policy included)."""
    record.object_written(
        obj=after, before=before, change=Change.CREATED if before is None else Change.CHANGED, now=now, by=by
    )


def objects_created(*, objs: Sequence[Certification] | Sequence[Mentor], now: dt.datetime, by: Actor) -> None:
    """A bulk create of certifications or of mentors: the ``created`` row of each, in one statement."""
    record.objects_created(objs=objs, now=now, by=by)


def rows_created(*, model: type[Certification] | type[Mentor], pks: Sequence[int], now: dt.datetime, by: Actor) -> None:
    """PostgreSQL: the rows ``objects_created`` writes, built in one statement from the objects' rows ``pks``."""
    record.rows_created(model=model, pks=pks, now=now, by=by)


def records_unflagged(*, pks: Sequence[int], now: dt.datetime, by: Actor) -> None:
    """Auto-resume cleared ``auto_pause_applied`` on ``pks``: one row each, in one statement."""
    record.rows_changed(
        queryset=Certification.objects.filter(pk_in(Certification, pks)),
        changes={"auto_pause_applied": [True, False]},
        now=now,
        by=by,
    )


def job_records_expired(*, pks: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> None:
    """The job's step 1 marked ``pks`` expired: one row each, in one statement."""
    record.rows_changed(
        queryset=Certification.objects.filter(pk_in(Certification, pks)),
        changes={"status": [CertificationStatus.VALID, CertificationStatus.EXPIRED]},
        now=now,
        by=Actor.job(run.job_run_id),
    )


def _pause_changes(now: dt.datetime) -> dict[str, list[Any]]:
    return {
        "status": [MentorStatus.ACTIVE, MentorStatus.PAUSED],
        "paused_by": [None, PausedBy.AUTO],
        "paused_at": [None, format_utc(now)],
    }


def job_batch_part(*, now: dt.datetime, run: ExpiryJobRun) -> BatchPart:
    """``job_batch_applied``'s rows as a part of the batch's statement (PostgreSQL, decision 0053).

    The same rows, read from the statement's ``flagged`` and ``paused`` (whose
    ``reason`` is the mentor's new pause reason) instead of the tables.
    """
    by = Actor.job(run.job_run_id)
    flagged_sql, flagged_params = record.rows_changed_part_sql(
        model=Certification,
        source="flagged",
        changes={"auto_pause_applied": [False, True]},
        now=now,
        by=by,
        prefix="hist_c_",
    )
    paused_sql, paused_params = record.rows_changed_part_sql(
        model=Mentor,
        source="paused",
        changes=_pause_changes(now),
        per_row={"pause_reason": "paused.reason"},
        now=now,
        by=by,
        prefix="hist_m_",
    )
    ctes = f"hist_flagged AS ({flagged_sql}),\nhist_paused AS ({paused_sql})"
    return BatchPart(ctes=ctes, params={**flagged_params, **paused_params})


def job_batch_applied(*, flagged: Sequence[int], paused: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> None:
    """A job batch: a row per flagged record, a row per paused mentor (with its reason); two statements."""
    by = Actor.job(run.job_run_id)
    record.rows_changed(
        queryset=Certification.objects.filter(pk_in(Certification, flagged)),
        changes={"auto_pause_applied": [False, True]},
        now=now,
        by=by,
    )
    if paused:
        record.rows_changed(
            queryset=Mentor.objects.filter(pk_in(Mentor, paused)),
            changes=_pause_changes(now),
            per_row=("pause_reason",),
            now=now,
            by=by,
        )
