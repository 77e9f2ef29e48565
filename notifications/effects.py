"""What the notifications add to a write's consequences (called by ``certifications.services.effects``).

Inside the write's transaction: the job's batch pauses get one notice per
paused mentor, set-based; an automatic resume gets one notice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from certifications.changes import MentorChange
from certifications.models import AutoPauseLog, ExpiryJobRun, LogEvent, Mentor
from notifications.services import pause_notices_create, resume_notice_create


def job_batch_applied(*, flagged: Sequence[int], paused: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> None:
    """A job batch flagged ``flagged`` and paused the mentors ``paused``: one ``mentor_paused`` notice each."""
    pause_notices_create(flagged=flagged, paused=paused, now=now)


def mentor_written(*, change: MentorChange, after: Mentor, now: dt.datetime, log: AutoPauseLog | None) -> None:
    """An automatic resume (``change`` resumed, with its ``auto_resume`` log row): one ``mentor_resumed`` notice."""
    if change == MentorChange.RESUMED and log is not None and log.event == LogEvent.AUTO_RESUME:
        resume_notice_create(mentor=after, log=log, now=now)
