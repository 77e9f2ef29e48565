"""The portable batch engine: the batch's writes as Django ORM statements, on any database.

After the locking reads, a fixed handful of statements whatever the batch
size: a re-read of the records still due (with their reasons), the flag, the
pause, a check that the drawn log ids are free, and the insert of the log rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Case, Value, When

from certhub.ids import fresh_ids
from certhub.sql import pk_in
from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, LogEvent, Mentor, MentorStatus, PausedBy
from certifications.services.lapse.engines.base import NOTHING, BatchEngine, BatchResult, LockedBatch
from certifications.services.lapse.reasons import pause_reason


class OrmEngine(BatchEngine):
    """Flag, pause and log through the ORM: SQLite, and any database Django speaks."""

    name = "orm"

    def apply_locked(self, *, batch: LockedBatch, now: dt.datetime, run: ExpiryJobRun) -> BatchResult:
        """Re-read the records of ``batch`` still due, flag them, pause their active mentors, log each record."""
        rows = list(
            Certification.objects.due(now=now)
            .filter(pk_in(Certification, batch.pks))
            .order_by("pk")
            .annotate(reason=pause_reason())
            .values("pk", "mentor_id", "reason")
        )
        if not rows:
            return NOTHING
        flagged = Certification.objects.filter(pk_in(Certification, [row["pk"] for row in rows])).update(
            auto_pause_applied=True, auto_pause_applied_at=now, updated_at=now
        )
        # Rows come in primary key order: each mentor takes the reason of its lowest due record.
        mentor_reason: dict[int, str] = {}
        for row in rows:
            if batch.mentor_status.get(row["mentor_id"]) == MentorStatus.ACTIVE:
                mentor_reason.setdefault(row["mentor_id"], row["reason"])
        paused = 0
        if mentor_reason:
            paused = Mentor.objects.filter(pk_in(Mentor, list(mentor_reason)), status=MentorStatus.ACTIVE).update(
                status=MentorStatus.PAUSED,
                paused_by=PausedBy.AUTO,
                paused_at=now,
                updated_at=now,
                pause_reason=Case(*(When(pk=pk, then=Value(reason)) for pk, reason in mentor_reason.items())),
            )
        _log_rows_insert(rows=rows, run=run, now=now)
        return BatchResult(
            flagged=flagged,
            paused=paused,
            logged=len(rows),
            flagged_pks=tuple(row["pk"] for row in rows),
            paused_pks=tuple(mentor_reason) if paused else (),
        )


def _log_rows_insert(*, rows: Sequence[dict], run: ExpiryJobRun, now: dt.datetime) -> None:
    """One ``auto_pause`` log row per record of ``rows`` (``pk``, ``mentor_id``, ``reason``), ids checked free first."""
    log_ids = fresh_ids(AutoPauseLog, field="log_id", prefix="log_", count=len(rows))
    AutoPauseLog.objects.bulk_create(
        [
            AutoPauseLog(
                log_id=log_id,
                mentor_id=row["mentor_id"],
                certification_id=row["pk"],
                job_run=run,
                event=LogEvent.AUTO_PAUSE,
                reason=row["reason"],
                applied_at=now,
            )
            for log_id, row in zip(log_ids, rows, strict=True)
        ]
    )
