"""What retention takes of notifications: recipients, subjects and errors, ``RETENTION_NOTIFICATIONS_DAYS`` after.

The rows stay, blanked, so the audit keeps its shape: kind, state, dates,
attempts and the mentor, certification and request they were about, and every
count by state. A notice still queued is never blanked (it may yet be sent). A
blanked row has an empty subject, which is how a later run passes it by. A
coordinators' digest keeps one digest per recipient and day in a constraint,
so its recipient becomes the notice's own id instead of empty. Decision 0042.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, F, QuerySet, Value, When

from certhub.retention import RetentionKind
from notifications.models import Notification, NotificationKind, NotificationState


def expired_notifications(rows: QuerySet, cutoff: dt.datetime) -> QuerySet:
    """The notices among ``rows`` written before ``cutoff``, no longer queued and not yet blanked."""
    return rows.filter(created_at__lt=cutoff).exclude(state=NotificationState.QUEUED).exclude(subject="")


def notifications_blank(selected: QuerySet) -> int:
    """Blank the ``selected`` notices' recipient, subject and error in one statement; return how many."""
    return selected.update(
        recipient=Case(When(kind=NotificationKind.COORDINATOR_DIGEST, then=F("notification_id")), default=Value("")),
        subject="",
        last_error="",
    )


KINDS = (
    RetentionKind(
        name="notifications",
        model=Notification,
        window="NOTIFICATIONS_DAYS",
        action="blanked",
        select=expired_notifications,
        apply=notifications_blank,
    ),
)
