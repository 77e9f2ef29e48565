"""Random writes through the services, and the check that every maintained total equals a real count."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from certhub.errors import DomainError
from certifications import services
from certifications.models import Certification, CertificationStatus, CertificationType, Mentor
from certifications.totals.counts import CertificationCount
from certifications.totals.mentors import mentor_totals
from certifications.totals.models import CertificationTally, Span
from tests.factories import TEST_ACTOR

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
MENTORS = [f"mntr_{'0' * 7}{letter}{digit}" for letter in "ABCD" for digit in "0123456789"]


def random_moment(rng: random.Random, around: dt.datetime) -> dt.datetime:
    """A moment within a year of ``around``, often exactly at midnight (a day boundary)."""
    moment = around + dt.timedelta(seconds=rng.randint(-365 * 86400, 365 * 86400))
    return moment.replace(hour=0, minute=0, second=0) if rng.random() < 0.3 else moment


def random_write(rng: random.Random, *, now: dt.datetime, types: list[CertificationType]) -> None:
    """One create, update, renewal, revocation, delete, restore, staff pause or resume through the services.

    Refusals are ignored.
    """
    records = list(Certification.objects.order_by("pk").values_list("pk", flat=True))
    kinds = ["create"] * 3 + ["update", "renew", "revoke", "delete", "restore", "pause", "resume"]
    kind = rng.choice(kinds) if records else "create"
    try:
        if kind in ("pause", "resume"):
            mentor = Certification.objects.get(pk=rng.choice(records)).mentor
            if kind == "pause":
                services.mentor_pause(mentor=mentor, now=now, reason="test", by=TEST_ACTOR)
            else:
                services.mentor_resume(mentor=mentor, now=now, by=TEST_ACTOR)
            return
        if kind == "create":
            issued = random_moment(rng, now - dt.timedelta(days=400))
            services.certification_create(
                mentor_id=rng.choice(MENTORS),
                certification_type=rng.choice(types),
                issued_at=issued,
                expires_at=issued + dt.timedelta(days=rng.randint(1, 800), seconds=rng.randint(0, 86399)),
                now=now,
                by=TEST_ACTOR,
            )
            return
        cert = Certification.objects.get(pk=rng.choice(records))
        if kind == "update":
            changes: dict = rng.choice(
                [
                    {"expires_at": cert.issued_at + dt.timedelta(days=rng.randint(1, 900))},
                    {"certification_type": rng.choice(types)},
                    {"issued_at": cert.expires_at - dt.timedelta(days=rng.randint(1, 900))},
                ]
            )
            services.certification_update(certification=cert, changes=changes, now=now, by=TEST_ACTOR)
        elif kind == "renew":
            services.certification_renew(certification=cert, now=now, by=TEST_ACTOR)
        elif kind == "revoke":
            services.certification_revoke(certification=cert, now=now, reason="test", by=TEST_ACTOR)
        elif kind == "delete":
            services.certification_delete(certification=cert, now=now, by=TEST_ACTOR)
        else:
            services.certification_restore(certification=cert, now=now, by=TEST_ACTOR)
    except DomainError:
        pass  # a refused write changes nothing, tallies included


def stray_delta(certification_type: CertificationType, day: dt.date, **counts: int) -> None:
    """A tally delta no record backs, under its day and its month as a writer keeps it."""
    for span, on in ((Span.DAY, day), (Span.MONTH, day.replace(day=1))):
        CertificationTally.objects.create(
            certification_type=certification_type, deleted=False, span=span, expires_on=on, **counts
        )


def tallied() -> Counter:
    """The tallies summed per (span, type, deleted, day or month, status), zeros left out."""
    found: Counter = Counter()
    rows = CertificationTally.objects.values("span", "certification_type_id", "deleted", "expires_on").annotate(
        valid=Sum("valid"), expired=Sum("expired"), revoked=Sum("revoked")
    )
    for row in rows:
        for status in CertificationStatus.values:
            if row[status]:
                key = (row["span"], row["certification_type_id"], row["deleted"], row["expires_on"], status)
                found[key] = row[status]
    return found


def counted() -> Counter:
    """The records counted per (span, type, deleted, day or month, status): what ``tallied()`` must hold."""
    found: Counter = Counter()
    rows = (
        Certification.objects.order_by()
        .annotate(day=TruncDate("expires_at", tzinfo=UTC))
        .values("certification_type_id", "deleted_at", "day", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        key = (row["certification_type_id"], row["deleted_at"] is not None)
        found[(Span.DAY, *key, row["day"], row["status"])] += row["n"]
        found[(Span.MONTH, *key, row["day"].replace(day=1), row["status"])] += row["n"]
    return found


def assert_totals_match(rng: random.Random, *, types: list[CertificationType], now: dt.datetime) -> None:
    """Every tally key, and random counts over every filter the tallies serve, equal a real ``count()``."""
    assert tallied() == counted()
    assert mentor_totals() == mentors_counted()
    type_choices = [None, [types[0].pk], [t.pk for t in types]]
    status_choices = [None, ["valid"], ["expired"], ["revoked"], ["valid", "expired"], []]
    for deleted in (False, True, None):
        for type_ids in type_choices:
            for statuses in status_choices:
                low = random_moment(rng, now) if rng.random() < 0.6 else None
                high = random_moment(rng, now) if rng.random() < 0.6 else None
                spec = CertificationCount(
                    deleted=deleted, statuses=statuses, type_ids=type_ids, expires_from=low, expires_before=high
                )
                records = Certification.objects.filter(spec.records())
                if low is not None:
                    records = records.filter(expires_at__gte=low)
                if high is not None:
                    records = records.filter(expires_at__lt=high)
                assert spec.total() == records.count(), spec


def mentors_counted() -> dict[tuple[str, str], int]:
    """The mentors counted per (status, paused_by): what ``mentor_totals()`` must answer."""
    rows = Mentor.objects.order_by().values_list("status", "paused_by").annotate(n=Count("pk"))
    return {(status, paused_by): n for status, paused_by, n in rows}
