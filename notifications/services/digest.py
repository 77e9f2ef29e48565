"""The coordinators' digest: once a day, one message per active coordinator with an email, only with news."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from certhub.ids import create_with_unique_id
from certifications.totals.states import tally_states
from notifications.models import Notification, NotificationKind
from notifications.news import digest_news, previous_digest_at
from notifications.services.sending import notifications_enqueue

COORDINATORS = "Coordinators"


@dataclass(frozen=True)
class DigestResult:
    sent: int  # digests created (and queued)
    no_news: int  # coordinators with nothing new since their previous digest
    already: int  # coordinators who already have today's digest


def digest_recipients() -> list[str]:
    """The addresses of active staff users in the Coordinators group (each once)."""
    return sorted(
        set(
            User.objects.filter(is_active=True, is_staff=True, groups__name=COORDINATORS)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def digests_create(*, now: dt.datetime) -> DigestResult:
    """Create today's digest for each coordinator who has news since their previous one; send after commit.

    One per recipient and UTC day (``ntf_one_digest_per_day``): a second run the
    same day creates nothing.
    """
    sent = no_news = already = 0
    for recipient in digest_recipients():
        if Notification.objects.filter(
            kind=NotificationKind.COORDINATOR_DIGEST, recipient=recipient, digest_date=now.date()
        ).exists():
            already += 1
            continue
        news = digest_news(since=previous_digest_at(recipient=recipient, before=now), until=now)
        counts = (news.entering.count(), news.paused.count(), news.resumed.count(), news.pending.count())
        if not any(counts):
            no_news += 1
            continue
        subject = (
            f"CertHub digest {now:%Y-%m-%d}: {counts[0]} entering their last 30 days, "
            f"{counts[1]} paused, {counts[2]} resumed"
        ) + (f", {counts[3]} renewal requests pending" if counts[3] else "")
        try:
            with transaction.atomic():
                notification = create_with_unique_id(
                    Notification,
                    field="notification_id",
                    prefix="ntf_",
                    values={
                        "kind": NotificationKind.COORDINATOR_DIGEST,
                        "recipient": recipient,
                        "subject": subject,
                        "digest_date": now.date(),
                        "created_at": now,
                    },
                )
                tally_states(Notification, {notification.state: 1})
                notifications_enqueue([notification.notification_id])
        except IntegrityError:  # a concurrent run made today's digest first
            already += 1
            continue
        sent += 1
    return DigestResult(sent=sent, no_news=no_news, already=already)
