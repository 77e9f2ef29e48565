"""The reminder scan: one ``expiry_reminder`` per window of each expiry cycle, set-based, and its preview.

For every live ``valid`` record not yet expired and not superseded, whose type
has reminder days, ``days_left = ceil((expires_at - now) / 1 day)`` and the
record's window is ``d``, the smallest offset ``>= days_left``. Written as
ranges of ``expires_at``: window ``d`` (with ``p`` the next smaller offset, or 0)
holds the records with ``now + p days < expires_at <= now + d days``, so the
scan is one range query over the expiry index, computed by the database.

A reminder is created for ``(record, d, expires_at)`` unless this cycle already
has a reminder for ``d`` or a narrower window: a scan that missed days sends one
notice (the current window), a record created ten days before expiry gets the
30-day notice and later the 7-day one, a renewal (a new ``expires_at``) starts a
new cycle, and a type whose offsets change never sends again a window the cycle
has already passed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, CharField, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Concat

from certifications.models import Certification, CertificationType, newer_current_exists
from notifications.models import Notification, NotificationKind
from notifications.services.bulk import notifications_insert
from notifications.services.common import addressed, utc_day
from notifications.services.sending import notifications_enqueue

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class ReminderScanResult:
    """What a scan created (or, dry, would create): reminders queued to send and skipped (no email)."""

    dry_run: bool
    created: int
    queued: int
    skipped: int


def reminder_policies() -> dict[int, list[int]]:
    """Each type with reminder days: its primary key and its offsets, smallest first."""
    return {
        pk: sorted(days)
        for pk, days in CertificationType.objects.exclude(reminder_days=[]).values_list("pk", "reminder_days")
        if days
    }


def reminder_candidates(*, now: dt.datetime, policies: dict[int, list[int]] | None = None) -> QuerySet[Certification]:
    """The records owed a reminder at ``now``, annotated with their window ``ntf_offset`` (no reminder written)."""
    policies = reminder_policies() if policies is None else policies
    if not policies:
        return Certification.objects.none()
    in_some_window = Q()
    windows = []
    for type_pk, offsets in policies.items():
        in_some_window |= Q(certification_type_id=type_pk, expires_at__lte=now + max(offsets) * DAY)
        # Smallest offset first: the first window whose bound the record is within is its window.
        windows += [
            When(certification_type_id=type_pk, expires_at__lte=now + offset * DAY, then=Value(offset))
            for offset in offsets
        ]
    reminded = Notification.objects.filter(
        kind=NotificationKind.EXPIRY_REMINDER,
        certification_id=OuterRef("pk"),
        cycle_expires_at=OuterRef("expires_at"),
        offset_days__lte=OuterRef("ntf_offset"),
    )
    return (
        Certification.objects.current(now=now)
        .filter(in_some_window)
        .annotate(ntf_offset=Case(*windows, output_field=IntegerField()))
        .filter(~newer_current_exists(now=now))
        .filter(~Exists(reminded))
    )


def reminder_rows(candidates: QuerySet[Certification]) -> QuerySet[Certification]:
    """The candidates annotated with the reminder rows' values."""
    return candidates.annotate(
        ntf_mentor=F("mentor_id"),
        ntf_certification=F("pk"),
        ntf_cycle=F("expires_at"),
        ntf_subject=Concat(
            Value("Reminder: your "),
            F("certification_type__name"),
            Value(" certification expires on "),
            utc_day("expires_at"),
            output_field=CharField(),
        ),
        **addressed("mentor__email"),
    )


def reminders_scan(*, now: dt.datetime, dry_run: bool = False) -> ReminderScanResult:
    """Create the reminders owed at ``now`` (one statement on PostgreSQL) and send them after commit.

    A dry run counts them and writes nothing. Two scans at once create each
    reminder once: the ``ntf_one_reminder_per_window`` constraint decides.
    """
    candidates = reminder_candidates(now=now)
    if dry_run:
        counts = candidates.aggregate(created=Count("pk"), skipped=Count("pk", filter=Q(mentor__email="")))
        return ReminderScanResult(
            dry_run=True,
            created=counts["created"],
            queued=counts["created"] - counts["skipped"],
            skipped=counts["skipped"],
        )
    with transaction.atomic():
        inserted = notifications_insert(
            candidates=reminder_rows(candidates), kind=NotificationKind.EXPIRY_REMINDER, now=now
        )
        notifications_enqueue(inserted.queued)
    return ReminderScanResult(
        dry_run=False,
        created=inserted.count,
        queued=len(inserted.queued),
        skipped=inserted.count - len(inserted.queued),
    )


def days_left(expires_at: dt.datetime, *, now: dt.datetime) -> int:
    """Whole days until ``expires_at``, rounded up (what a reminder says)."""
    return math.ceil((expires_at - now) / DAY)


@dataclass(frozen=True)
class UpcomingReminder:
    """A record inside a reminder window, or entering one soon, and where its reminder stands."""

    certification: Certification
    days_left: int
    window: int  # the offset of the window it is in, or will enter next
    opens_at: dt.datetime  # when that window opens (expires_at - window days)
    state: str  # "sent", "queued", "failed", "skipped": the window's reminder; "due" now; "upcoming"


def reminders_upcoming(*, now: dt.datetime, days: int = 30, limit: int = 200) -> tuple[int, list[UpcomingReminder]]:
    """Records in a reminder window now or entering one within ``days`` days, soonest expiry first.

    Returns the total and the first ``limit``, each with its window and whether
    that window's reminder is sent, due now or still to come.
    """
    policies = reminder_policies()
    if not policies:
        return 0, []
    horizon = Q()
    for type_pk, offsets in policies.items():
        horizon |= Q(certification_type_id=type_pk, expires_at__lte=now + (max(offsets) + days) * DAY)
    records = Certification.objects.current(now=now).filter(horizon).filter(~newer_current_exists(now=now))
    total = records.count()
    listed = list(records.select_related("mentor", "certification_type").order_by("expires_at", "pk")[:limit])
    sent = {
        (row["certification_id"], row["offset_days"]): row["state"]
        for row in Notification.objects.filter(
            kind=NotificationKind.EXPIRY_REMINDER,
            certification_id__in=[cert.pk for cert in listed],
            cycle_expires_at=F("certification__expires_at"),
        ).values("certification_id", "offset_days", "state")
    }
    items = []
    for cert in listed:
        offsets = policies[cert.certification_type_id]
        left = days_left(cert.expires_at, now=now)
        window = next((offset for offset in offsets if offset >= left), max(offsets))
        narrower = [state for (pk, offset), state in sent.items() if pk == cert.pk and offset <= window]
        if narrower:
            state = narrower[0]
        elif left <= window:
            state = "due"
        else:
            state = "upcoming"
        items.append(
            UpcomingReminder(
                certification=cert, days_left=left, window=window, opens_at=cert.expires_at - window * DAY, state=state
            )
        )
    return total, items
