"""Eligibility for a match period: may this mentor mentor, and through which date? (a read).

A mentor is eligible when they are active, hold at least one record whose
lifecycle is ``active``, ``renewal_due`` or ``grace``, and no record that is
``lapsed`` (or revoked) -- looking at the newest live record of each type they
hold. ``eligible_through`` is the earliest, over those types, of the newest
record's ``expires_at + grace_days``; with ``through`` the mentor must also be
eligible through that moment. Any number of mentors is answered in two queries.

A batch of 500 mentors reads about 1,300 records: both queries fetch plain
tuples of the few columns the answer shows (no model instances), ordered so
that the newest record of each type comes first, and each answer is built in
one pass over its mentor's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from django.db.models import QuerySet

from certifications.models import Certification, Lifecycle, Mentor, MentorStatus, PausedBy

GOOD = frozenset({Lifecycle.ACTIVE.value, Lifecycle.RENEWAL_DUE.value, Lifecycle.GRACE.value})
BAD = frozenset({Lifecycle.LAPSED.value, Lifecycle.REVOKED.value})


class HeldCertification(NamedTuple):
    """The newest live record of one type a mentor holds, and where it stands."""

    certification_id: str
    certification_type: str
    expires_at: dt.datetime
    lifecycle: str
    grace_until: dt.datetime


class Eligibility(NamedTuple):
    """The answer for one mentor id (``status`` and ``paused_by`` are None for an unknown id)."""

    mentor_id: str
    eligible: bool
    eligible_through: dt.datetime | None
    status: str | None
    paused_by: str | None
    reasons: list[str]
    warnings: list[str]
    certifications: list[HeldCertification]


def mentors_eligibility(
    *, mentor_ids: Sequence[str], now: dt.datetime, through: dt.datetime | None = None
) -> list[Eligibility]:
    """The eligibility of each id, in the order given; two queries whatever the number of ids."""
    mentor_rows, record_rows = eligibility_queries(mentor_ids=mentor_ids, now=now)
    mentors = {mentor_id: (status, paused_by) for mentor_id, status, paused_by in mentor_rows}
    held: dict[str, list[HeldCertification]] = {}
    last = None
    for row in record_rows:
        key = (row[0], row[2])
        if key != last:  # the first row of a mentor and type is its newest record
            last = key
            held.setdefault(row[0], []).append(HeldCertification._make(row[1:]))
    return [_answer(mentor_id, mentors.get(mentor_id), held.get(mentor_id, ()), through) for mentor_id in mentor_ids]


def eligibility_queries(*, mentor_ids: Sequence[str], now: dt.datetime) -> tuple[QuerySet, QuerySet]:
    """The two queries: the mentors' ``(mentor_id, status, paused_by)`` and their live records' rows.

    Records come per mentor and type (by code, so that each mentor's rows come in
    the order the answer lists them), the newest first, as ``(mentor_id,
    certification_id, type code, expires_at, lifecycle, grace_ends_at)``: the
    lifecycle and the end of grace computed by the database, as the rule is.
    """
    mentors = Mentor.objects.filter(mentor_id__in=mentor_ids).values_list("mentor_id", "status", "paused_by")
    records = (
        Certification.objects.alive()
        .filter(mentor__mentor_id__in=mentor_ids)
        .with_lifecycle(now=now)
        .order_by("mentor_id", "certification_type__code", "-issued_at", "-id")
        .values_list(
            "mentor__mentor_id",
            "certification_id",
            "certification_type__code",
            "expires_at",
            "lifecycle",
            "grace_ends_at",
        )
    )
    return mentors, records


def _answer(
    mentor_id: str,
    mentor: tuple[str, str] | None,
    held: Sequence[HeldCertification],
    through: dt.datetime | None,
) -> Eligibility:
    if mentor is None:
        return Eligibility(mentor_id, False, None, None, None, ["unknown_mentor"], [], [])
    status, paused_by = mentor
    reasons: list[str] = []
    if status == MentorStatus.PAUSED:
        reasons.append("paused_by_staff" if paused_by == PausedBy.STAFF else "paused_auto")
    lapsed, good, due, in_grace = [], [], [], []
    for each in held:
        if each.lifecycle in BAD:
            lapsed.append(f"lapsed:{each.certification_type}")
        elif each.lifecycle in GOOD:
            good.append(each)
            if each.lifecycle == Lifecycle.RENEWAL_DUE:
                due.append(f"renewal_due:{each.certification_type}")
            elif each.lifecycle == Lifecycle.GRACE:
                in_grace.append(f"in_grace:{each.certification_type}")
    reasons += lapsed if lapsed or good else ["no_certification"]
    # Through when the mentor is eligible (null when not eligible now), before ``through`` is asked about.
    eligible_through = min(each.grace_until for each in good) if good and not reasons else None
    if eligible_through is not None and through is not None:
        reasons += [f"lapses_before:{each.certification_type}" for each in good if each.grace_until < through]
    return Eligibility(
        mentor_id, not reasons, eligible_through, status, paused_by or None, reasons, due + in_grace, list(held)
    )
