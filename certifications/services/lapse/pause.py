"""Writes to one mentor's pause state: auto-resume after a record write, and staff pauses.

The expiry job pauses mentors set-based (``job`` and ``engines``); these are the
per-mentor writes, each returning a ``MentorWriteResult`` that says whether
anything changed and which log rows it wrote.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from certhub.errors import StillLapsed
from certhub.ids import create_with_unique_id
from certifications.changes import CertificationChange, MentorChange
from certifications.history import Actor
from certifications.models import (
    AutoPauseLog,
    Certification,
    LogEvent,
    Mentor,
    MentorStatus,
    PausedBy,
)
from certifications.services import effects
from certifications.services.lapse.reasons import resume_reason
from certifications.services.results import MentorWriteResult


def auto_resume_can_act(*, mentor: Mentor, holds_flagged: bool) -> bool:
    """Whether ``mentor_auto_resume`` could change anything for ``mentor`` after a write.

    It clears flags only on records flagged ``auto_pause_applied`` and resumes
    only a mentor paused by ``auto``: with neither, a write implies no resume
    (the import's bulk road relies on this, with the mentor locked).
    """
    return holds_flagged or (mentor.status == MentorStatus.PAUSED and mentor.paused_by == PausedBy.AUTO)


def mentor_auto_resume(
    *, mentor: Mentor, now: dt.datetime, cause: Certification, change: CertificationChange, by: Actor
) -> MentorWriteResult:
    """After a write of kind ``change`` to ``cause``, undo auto-pauses that no longer hold; ``changed``: resumed.

    Records of the mentor flagged ``auto_pause_applied`` that are no longer
    lapsed get the flag cleared; a mentor paused by ``auto`` who holds no lapsed
    record is resumed with an ``auto_resume`` log row (the result's ``logs``),
    whose reason names the write's kind as its event and history do.
    A staff pause stays. Call inside the write's transaction.
    """
    mentor = Mentor.objects.select_for_update().get(pk=mentor.pk)
    lapsed = Certification.objects.filter(mentor=mentor).lapsed(now=now)
    unflagged = list(
        Certification.objects.filter(mentor=mentor, auto_pause_applied=True)
        .exclude(pk__in=lapsed.values("pk"))
        .values_list("pk", flat=True)
    )
    if unflagged:
        Certification.objects.filter(pk__in=unflagged, auto_pause_applied=True).update(
            auto_pause_applied=False, auto_pause_applied_at=None, updated_at=now
        )
        effects.records_unflagged(pks=unflagged, now=now, by=by)
    if not (mentor.status == MentorStatus.PAUSED and mentor.paused_by == PausedBy.AUTO) or lapsed.exists():
        return MentorWriteResult(mentor=mentor, changed=False)
    before = effects.mentor_snapshot(mentor)
    resumed = Mentor.objects.filter(pk=mentor.pk, status=MentorStatus.PAUSED, paused_by=PausedBy.AUTO).update(
        status=MentorStatus.ACTIVE, paused_by="", paused_at=None, pause_reason="", updated_at=now
    )
    if not resumed:
        return MentorWriteResult(mentor=mentor, changed=False)
    log = create_with_unique_id(
        AutoPauseLog,
        field="log_id",
        prefix="log_",
        values={
            "mentor": mentor,
            "certification": cause,
            "job_run": None,
            "event": LogEvent.AUTO_RESUME,
            "reason": resume_reason(cause, change=change),
            "applied_at": now,
        },
    )
    # The row was updated with a filtered UPDATE; the locked instance gets the same values.
    mentor.status, mentor.paused_by, mentor.paused_at, mentor.pause_reason = MentorStatus.ACTIVE, "", None, ""
    mentor.updated_at = now
    effects.mentor_written(change=MentorChange.RESUMED, before=before, after=mentor, now=now, by=by, log=log)
    return MentorWriteResult(mentor=mentor, changed=True, logs=(log,))


def mentor_pause(*, mentor: Mentor, now: dt.datetime, reason: str, by: Actor) -> MentorWriteResult:
    """Pause a mentor by staff decision (never lifted automatically); repeat-safe."""
    reason = reason.strip() or "Paused by staff"
    with transaction.atomic():
        before = effects.mentor_snapshot(Mentor.objects.select_for_update().get(pk=mentor.pk))
        changed = (
            Mentor.objects.filter(pk=mentor.pk)
            .exclude(status=MentorStatus.PAUSED, paused_by=PausedBy.STAFF)
            .update(
                status=MentorStatus.PAUSED,
                paused_by=PausedBy.STAFF,
                paused_at=now,
                pause_reason=reason[:255],
                updated_at=now,
            )
        )
        mentor.refresh_from_db()
        if changed:
            effects.mentor_written(change=MentorChange.PAUSED, before=before, after=mentor, now=now, by=by)
    return MentorWriteResult(mentor=mentor, changed=bool(changed))


def mentor_resume(*, mentor: Mentor, now: dt.datetime, by: Actor) -> MentorWriteResult:
    """Resume a paused mentor by staff decision; repeat-safe.

    A staff pause is always lifted. An automatic pause is lifted only once no
    certification of the mentor is lapsed (``StillLapsed`` otherwise): the job
    would pause them again for the next record it finds, and the pause would
    hide nothing the records do not say.
    """
    with transaction.atomic():
        locked = Mentor.objects.select_for_update().get(pk=mentor.pk)
        if (
            locked.status == MentorStatus.PAUSED
            and locked.paused_by == PausedBy.AUTO
            and Certification.objects.filter(mentor=mentor).lapsed(now=now).exists()
        ):
            raise StillLapsed(
                f"Mentor {mentor.mentor_id} was paused automatically and a certification of theirs is still lapsed: "
                "renew it (that resumes the mentor) instead."
            )
        before = effects.mentor_snapshot(locked)
        changed = Mentor.objects.filter(pk=mentor.pk, status=MentorStatus.PAUSED).update(
            status=MentorStatus.ACTIVE, paused_by="", paused_at=None, pause_reason="", updated_at=now
        )
        mentor.refresh_from_db()
        if changed:
            effects.mentor_written(change=MentorChange.RESUMED, before=before, after=mentor, now=now, by=by)
    return MentorWriteResult(mentor=mentor, changed=bool(changed))
