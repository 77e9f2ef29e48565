"""Pausing and resuming one mentor: the auto-resume after a write, and the staff pause and resume."""

from __future__ import annotations

import datetime as dt

from certhub.ids import create_with_unique_id
from certifications.models import AutoPauseLog, Certification, LogEvent, Mentor, MentorStatus, PausedBy
from certifications.services.lapse.reasons import resume_reason


def mentor_auto_resume(*, mentor: Mentor, now: dt.datetime, cause: Certification) -> bool:
    """After a write to ``cause``, undo auto-pauses that no longer hold. Returns True if resumed.

    Records of the mentor flagged ``auto_pause_applied`` that are no longer
    lapsed get the flag cleared; a mentor paused by ``auto`` who holds no lapsed
    record is resumed with an ``auto_resume`` log row. A staff pause stays.
    Call inside the write's transaction.
    """
    mentor = Mentor.objects.select_for_update().get(pk=mentor.pk)
    lapsed = Certification.objects.filter(mentor=mentor).lapsed(now=now)
    Certification.objects.filter(mentor=mentor, auto_pause_applied=True).exclude(pk__in=lapsed.values("pk")).update(
        auto_pause_applied=False, auto_pause_applied_at=None, updated_at=now
    )
    if not (mentor.status == MentorStatus.PAUSED and mentor.paused_by == PausedBy.AUTO) or lapsed.exists():
        return False
    resumed = Mentor.objects.filter(pk=mentor.pk, status=MentorStatus.PAUSED, paused_by=PausedBy.AUTO).update(
        status=MentorStatus.ACTIVE, paused_by="", paused_at=None, pause_reason="", updated_at=now
    )
    if resumed:
        create_with_unique_id(
            AutoPauseLog,
            field="log_id",
            prefix="log_",
            values={
                "mentor": mentor,
                "certification": cause,
                "job_run": None,
                "event": LogEvent.AUTO_RESUME,
                "reason": resume_reason(cause, now=now),
                "applied_at": now,
            },
        )
    return bool(resumed)


def mentor_pause(*, mentor: Mentor, now: dt.datetime, reason: str) -> Mentor:
    """Pause a mentor by staff decision (never lifted automatically); repeat-safe."""
    reason = reason.strip() or "Paused by staff"
    Mentor.objects.filter(pk=mentor.pk).exclude(status=MentorStatus.PAUSED, paused_by=PausedBy.STAFF).update(
        status=MentorStatus.PAUSED, paused_by=PausedBy.STAFF, paused_at=now, pause_reason=reason[:255], updated_at=now
    )
    mentor.refresh_from_db()
    return mentor


def mentor_resume(*, mentor: Mentor, now: dt.datetime) -> Mentor:
    """Resume a paused mentor by staff decision (a staff or an auto pause); repeat-safe."""
    Mentor.objects.filter(pk=mentor.pk, status=MentorStatus.PAUSED).update(
        status=MentorStatus.ACTIVE, paused_by="", paused_at=None, pause_reason="", updated_at=now
    )
    mentor.refresh_from_db()
    return mentor
