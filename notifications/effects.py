"""What the notifications add to a write's consequences: one function per hook of the domain's receivers.

``NotificationsConfig.ready()`` registers this module
(``certifications.services.receivers``, decision 0029);
``certifications.services.effects`` calls each hook inside the write's
transaction. The job's batch pauses get one notice per paused mentor,
set-based (on PostgreSQL inside the batch's own statement, ``job_batch_parts``);
an automatic resume gets one notice, a decided renewal request one; the other
writes none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from certifications.changes import CertificationChange, MentorChange, RenewalRequestChange
from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, LogEvent, Mentor, RenewalRequest
from certifications.services.receivers import BatchPart
from notifications import personal_data
from notifications.services import (
    pause_notices_create,
    pause_notices_part,
    renewal_notice_create,
    resume_notice_create,
)


def certification_written(
    *, change: CertificationChange, before: dict[str, Any] | None, after: Certification, now: dt.datetime
) -> None:
    """No notice: a record write's resume, if any, is told by ``mentor_written``."""


def certifications_created(*, pks: Sequence[int], now: dt.datetime) -> None:
    """No notice for a bulk create."""


def mentor_written(
    *, change: MentorChange, before: dict[str, Any] | None, after: Mentor, now: dt.datetime, log: AutoPauseLog | None
) -> None:
    """An automatic resume (``change`` resumed, with its ``auto_resume`` log row): one ``mentor_resumed`` notice.

    An erasure blanks the mentor's notices and skips the queued ones (``personal_data``).
    """
    if change == MentorChange.ERASED:
        personal_data.mentor_erased(mentor=after, now=now)
        return
    if change == MentorChange.RESUMED and log is not None and log.event == LogEvent.AUTO_RESUME:
        resume_notice_create(mentor=after, log=log, now=now)


def renewal_request_written(*, change: RenewalRequestChange, request: RenewalRequest, now: dt.datetime) -> None:
    """An approved or rejected request: the mentor's ``renewal_approved`` / ``renewal_rejected`` notice."""
    if change in (RenewalRequestChange.APPROVED, RenewalRequestChange.REJECTED):
        renewal_notice_create(request=request, now=now)


def mentor_exported(*, mentor: Mentor) -> dict[str, Any]:
    """``notifications.json``: the notices to the mentor as sent (``personal_data``)."""
    return personal_data.mentor_exported(mentor=mentor)


def job_records_expired(*, pks: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> None:
    """No notice: an expired record's mentor is told when the batch pauses them."""


def job_batch_parts(*, now: dt.datetime, run: ExpiryJobRun) -> Sequence[BatchPart]:
    """On PostgreSQL the batch's notices are written by its own statement (``pause_notices_part``)."""
    return (pause_notices_part(now=now),)


def job_batch_applied(
    *, flagged: Sequence[int], paused: Sequence[int], now: dt.datetime, run: ExpiryJobRun, in_statement: bool
) -> None:
    """A job batch flagged ``flagged`` and paused the mentors ``paused``: one ``mentor_paused`` notice each.

    Written here unless the batch's statement wrote them (``in_statement``, ``job_batch_parts``).
    """
    if not in_statement:
        pause_notices_create(flagged=flagged, paused=paused, now=now)


def job_run_finished(*, run: ExpiryJobRun) -> None:
    """No notice when a run ends."""
