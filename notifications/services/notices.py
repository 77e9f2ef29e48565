"""The mentor's notices of an automatic pause (the job's batches, set-based) and an automatic resume.

Each is written in the transaction of the change it reports, beside its log
row: a batch or a write that rolls back leaves no notice either. The message
goes out after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import CharField, DateTimeField, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Concat

from certhub.ids import create_with_unique_id
from certifications.models import AutoPauseLog, Certification, Mentor, RenewalRequest, RenewalState
from certifications.totals.states import tally_states
from notifications.models import NO_EMAIL, Notification, NotificationKind, NotificationState
from notifications.services.bulk import notifications_insert
from notifications.services.common import addressed
from notifications.services.sending import notifications_enqueue

PAUSED_SUBJECT = "You are paused from mentoring: "
RESUMED_SUBJECT = "You can mentor again: "
RENEWAL_SUBJECTS = {
    RenewalState.APPROVED: (NotificationKind.RENEWAL_APPROVED, "Your renewal is recorded: "),
    RenewalState.REJECTED: (NotificationKind.RENEWAL_REJECTED, "Your renewal request was not accepted: "),
}


def pause_notices_create(*, flagged: Sequence[int], paused: Sequence[int], now: dt.datetime) -> int:
    """One ``mentor_paused`` notice per mentor the batch paused (``paused``: primary keys); return how many.

    Each names the mentor's lowest record among those the batch flagged
    (``flagged``), the record whose reason became the pause reason. One
    ``INSERT ... SELECT`` on PostgreSQL, three statements elsewhere; the
    record is found among the batch's own records (a mentor has a handful), not
    in the log, whose rows of the run grow with every batch.
    """
    if not paused:
        return 0
    first_flagged = (
        Certification.objects.filter(pk__in=list(flagged), mentor_id=OuterRef("pk")).order_by("pk").values("pk")[:1]
    )
    candidates = Mentor.objects.filter(pk__in=list(paused)).annotate(
        ntf_mentor=F("pk"),
        ntf_certification=Subquery(first_flagged, output_field=IntegerField()),
        ntf_cycle=Value(None, output_field=DateTimeField()),
        ntf_offset=Value(None, output_field=IntegerField()),
        ntf_subject=Concat(Value(PAUSED_SUBJECT), F("pause_reason"), output_field=CharField()),
        **addressed("email"),
    )
    inserted = notifications_insert(candidates=candidates, kind=NotificationKind.MENTOR_PAUSED, now=now)
    notifications_enqueue(inserted.queued)
    return inserted.count


def renewal_notice_create(*, request: RenewalRequest, now: dt.datetime) -> Notification | None:
    """The mentor's notice of a decided request: ``renewal_approved`` or ``renewal_rejected`` (with the reason)."""
    if request.state not in RENEWAL_SUBJECTS:
        return None  # a withdrawal is the requester's own act: no notice
    kind, subject = RENEWAL_SUBJECTS[request.state]
    return _notice_create(
        kind=kind,
        mentor=request.mentor,
        certification_id=request.certification_id,
        renewal_request=request,
        subject=f"{subject}{request.certification_type.name}",
        now=now,
    )


def resume_notice_create(*, mentor: Mentor, log: AutoPauseLog, now: dt.datetime) -> Notification:
    """The ``mentor_resumed`` notice of an automatic resume (``log`` its ``auto_resume`` row)."""
    return _notice_create(
        kind=NotificationKind.MENTOR_RESUMED,
        mentor=mentor,
        certification_id=log.certification_id,
        subject=RESUMED_SUBJECT + log.reason,
        now=now,
    )


def _notice_create(
    *,
    kind: str,
    mentor: Mentor,
    certification_id: int | None,
    subject: str,
    now: dt.datetime,
    renewal_request: RenewalRequest | None = None,
) -> Notification:
    """One notice to ``mentor`` (``skipped`` without an address), sent after commit."""
    notification = create_with_unique_id(
        Notification,
        field="notification_id",
        prefix="ntf_",
        values={
            "kind": kind,
            "mentor": mentor,
            "certification_id": certification_id,
            "renewal_request": renewal_request,
            "recipient": mentor.email,
            "subject": subject[:255],
            "state": NotificationState.QUEUED if mentor.email else NotificationState.SKIPPED,
            "last_error": "" if mentor.email else NO_EMAIL,
            "created_at": now,
        },
    )
    tally_states(Notification, {notification.state: 1})
    if notification.state == NotificationState.QUEUED:
        notifications_enqueue([notification.notification_id])
    return notification
