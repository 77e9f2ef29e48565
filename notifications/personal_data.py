"""The notifications' share of a mentor's erasure and export (DESIGN "Personal data").

The erasure blanks what the rows keep of the person (recipient, subject, the
last error, which may quote the address) and skips the notices still queued
for them, set-based on ``ntf_mentor_idx``; the rows, their kinds, states and
dates stay. The export renders each notice to the mentor as it was sent: the
bodies are not stored, they are rendered from the rows (``messages``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, F, Value, When

from certhub.api.fields import format_utc
from certifications.models import Mentor
from certifications.totals.states import tally_moved
from notifications.messages import notification_message
from notifications.models import Notification, NotificationState

MEMBER = "notifications.json"
ERASED_ERROR = "personal data erased"


def mentor_erased(*, mentor: Mentor, now: dt.datetime) -> int:
    """Blank the mentor's notices, skipping the queued ones (locked first, for the gauges); returns the rows changed."""
    queued = Notification.objects.filter(mentor=mentor, state=NotificationState.QUEUED).select_for_update()
    skipped = len(queued.values_list("pk", flat=True))
    tally_moved(Notification, before=NotificationState.QUEUED, after=NotificationState.SKIPPED, count=skipped)
    return Notification.objects.filter(mentor=mentor).update(
        recipient="",
        subject="",
        last_error=Case(When(state=NotificationState.QUEUED, then=Value(ERASED_ERROR)), default=Value("")),
        state=Case(When(state=NotificationState.QUEUED, then=Value(NotificationState.SKIPPED)), default=F("state")),
    )


def mentor_exported(*, mentor: Mentor) -> dict[str, Any]:
    """``notifications.json``: every notice to ``mentor``, oldest first, with its text body as sent."""
    notices = (
        Notification.objects.filter(mentor=mentor)
        .select_related("mentor", "certification__certification_type", "renewal_request")
        .order_by("created_at", "id")
    )
    return {MEMBER: [_notice(notice) for notice in notices.iterator(chunk_size=500)]}


def _notice(notice: Notification) -> dict[str, Any]:
    sent = notice.state == NotificationState.SENT
    body = notification_message(notice, now=notice.sent_at or notice.created_at).body if sent else None
    return {
        "notification_id": notice.notification_id,
        "kind": notice.kind,
        "state": notice.state,
        "recipient": notice.recipient,
        "subject": notice.subject,
        "body": body,
        "certification_id": notice.certification.certification_id if notice.certification else None,
        "created_at": format_utc(notice.created_at),
        "sent_at": format_utc(notice.sent_at) if notice.sent_at else None,
    }
