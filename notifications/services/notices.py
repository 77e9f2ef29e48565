"""The mentor's notices of an automatic pause (the job's batches, set-based) and an automatic resume.

Each is written in the transaction of the change it reports, beside its log
row: a batch or a write that rolls back leaves no notice either. The message
goes out after commit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from django.db.models import CharField, DateTimeField, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Concat

from certhub.ids import create_with_unique_id
from certifications.models import AutoPauseLog, Certification, Mentor, RenewalRequest, RenewalState
from certifications.services.receivers import BatchPart
from certifications.totals.states import insert_sql, tally_states
from notifications.models import NO_EMAIL, Notification, NotificationKind, NotificationState
from notifications.services.bulk import draw_id_sql, notifications_insert
from notifications.services.common import addressed
from notifications.services.sending import notifications_enqueue

PAUSED_SUBJECT = "You are paused from mentoring: "
RESUMED_SUBJECT = "You can mentor again: "
RENEWAL_SUBJECTS = {
    RenewalState.APPROVED: (NotificationKind.RENEWAL_APPROVED, "Your renewal is recorded: "),
    RenewalState.REJECTED: (NotificationKind.RENEWAL_REJECTED, "Your renewal request was not accepted: "),
}

# The job batch's notices inside its statement (``pause_notices_part``): the rows ``pause_notices_create``
# writes, read from the statement's ``paused`` (``id``, ``email``, ``reason``, ``cert_id``), with their tally.
PAUSE_PART_CTES = f"""
    ntf_paused AS (
        INSERT INTO "{Notification._meta.db_table}" (notification_id, kind, mentor_id, certification_id, recipient,
                                                     subject, state, attempts, last_error, created_at)
        SELECT {draw_id_sql("p.id")}, %(ntf_kind)s::text, p.id, p.cert_id, p.email,
               left(%(ntf_subject)s::text || p.reason, 255),
               CASE WHEN p.email = '' THEN %(ntf_skipped)s::text ELSE %(ntf_queued)s::text END, 0,
               CASE WHEN p.email = '' THEN %(ntf_no_email)s::text ELSE '' END, %(ntf_now)s
        FROM paused p
        ON CONFLICT DO NOTHING
        RETURNING notification_id, mentor_id, state
    ),
    ntf_tallied AS ({insert_sql(Notification, "ntf_paused")})"""

# What comes back: the ids to send, and the paused mentors left without a notice (a drawn id was taken).
PAUSE_PART_ANSWER = """json_build_object(
        'queued', (SELECT coalesce(json_agg(notification_id), '[]') FROM ntf_paused WHERE state = %(ntf_queued)s::text),
        'unnoticed', (SELECT coalesce(json_agg(json_build_array(p.id, p.cert_id)), '[]') FROM paused p
                      WHERE p.id NOT IN (SELECT mentor_id FROM ntf_paused))
    )::text"""


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


def pause_notices_part(*, now: dt.datetime) -> BatchPart:
    """``pause_notices_create`` as a part of the job batch's statement (PostgreSQL, decision 0051).

    The same rows, read from the mentors the statement paused instead of a
    second look-up, and their states' tally in the same statement. After it,
    the queued notices are sent once the batch commits; the rare mentor whose
    drawn id was taken gets their notice through ``pause_notices_create``.
    """

    def done(answer: str) -> None:
        found = json.loads(answer)
        notifications_enqueue(found["queued"])
        if unnoticed := found["unnoticed"]:
            pause_notices_create(flagged=[cert for _, cert in unnoticed], paused=[pk for pk, _ in unnoticed], now=now)

    params = {
        "ntf_kind": NotificationKind.MENTOR_PAUSED.value,
        "ntf_subject": PAUSED_SUBJECT,
        "ntf_skipped": NotificationState.SKIPPED.value,
        "ntf_queued": NotificationState.QUEUED.value,
        "ntf_no_email": NO_EMAIL,
        "ntf_now": now,
    }
    return BatchPart(ctes=PAUSE_PART_CTES, params=params, answer=PAUSE_PART_ANSWER, done=done)


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
