"""What the coordinators' digest reports: what happened between two moments (reads only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from certifications.models import AutoPauseLog, Certification, LogEvent, RenewalRequest, RenewalState
from notifications.models import Notification, NotificationKind

LAST_DAYS = dt.timedelta(days=30)


@dataclass(frozen=True)
class DigestNews:
    """Records that entered their last 30 days, and mentors paused or resumed, in ``(since, until]``.

    ``pending`` is the renewal requests waiting for a decision at ``until``, oldest first: not
    news of the period, but work for the reader, so a digest is sent while any waits.
    """

    since: dt.datetime
    until: dt.datetime
    entering: QuerySet[Certification]
    paused: QuerySet[AutoPauseLog]
    resumed: QuerySet[AutoPauseLog]
    pending: QuerySet[RenewalRequest]


def digest_news(*, since: dt.datetime, until: dt.datetime) -> DigestNews:
    """The news of ``(since, until]`` as queries (each ordered, nothing fetched yet)."""
    entering = (
        Certification.objects.current(now=until)
        .filter(expires_at__gt=since + LAST_DAYS, expires_at__lte=until + LAST_DAYS)
        .select_related("mentor", "certification_type")
        .order_by("expires_at", "pk")
    )
    log = AutoPauseLog.objects.filter(applied_at__gt=since, applied_at__lte=until).select_related(
        "mentor", "certification__certification_type"
    )
    return DigestNews(
        since=since,
        until=until,
        entering=entering,
        paused=log.filter(event=LogEvent.AUTO_PAUSE).order_by("applied_at", "pk"),
        resumed=log.filter(event=LogEvent.AUTO_RESUME).order_by("applied_at", "pk"),
        pending=RenewalRequest.objects.filter(state=RenewalState.PENDING, created_at__lte=until)
        .select_related("mentor", "certification_type")
        .order_by("created_at", "pk"),
    )


def previous_digest_at(*, recipient: str, before: dt.datetime) -> dt.datetime:
    """When the last digest to ``recipient`` before ``before`` was made, or a day before ``before``."""
    last = (
        Notification.objects.filter(
            kind=NotificationKind.COORDINATOR_DIGEST, recipient=recipient, created_at__lt=before
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return last or before - dt.timedelta(days=1)
