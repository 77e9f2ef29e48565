"""Eligibility for a match period: may this mentor mentor, and through which date? (a read).

A mentor is eligible when they are active, hold at least one record whose
lifecycle is ``active``, ``renewal_due`` or ``grace``, and no record that is
``lapsed`` (or revoked) -- looking at the newest live record of each type they
hold. ``eligible_through`` is the earliest, over those types, of the newest
record's ``expires_at + grace_days``; with ``through`` the mentor must also be
eligible through that moment. Any number of mentors is answered in two queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from certifications.models import Certification, Lifecycle, Mentor, MentorStatus, PausedBy

GOOD = (Lifecycle.ACTIVE, Lifecycle.RENEWAL_DUE, Lifecycle.GRACE)
BAD = (Lifecycle.LAPSED, Lifecycle.REVOKED)


@dataclass(frozen=True)
class HeldCertification:
    """The newest live record of one type a mentor holds, and where it stands."""

    certification_id: str
    certification_type: str
    expires_at: dt.datetime
    lifecycle: str
    grace_until: dt.datetime


@dataclass(frozen=True)
class Eligibility:
    """The answer for one mentor id (``status`` and ``paused_by`` are None for an unknown id)."""

    mentor_id: str
    eligible: bool
    eligible_through: dt.datetime | None
    status: str | None
    paused_by: str | None
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    certifications: list[HeldCertification] = field(default_factory=list)


def mentors_eligibility(
    *, mentor_ids: Sequence[str], now: dt.datetime, through: dt.datetime | None = None
) -> list[Eligibility]:
    """The eligibility of each id, in the order given; two queries whatever the number of ids."""
    mentors = {mentor.mentor_id: mentor for mentor in Mentor.objects.filter(mentor_id__in=mentor_ids)}
    newest: dict[str, dict[int, Certification]] = {}
    records = (
        Certification.objects.alive()
        .filter(mentor__mentor_id__in=mentor_ids)
        .with_lifecycle(now=now)
        .select_related("mentor", "certification_type")
        .order_by("mentor_id", "certification_type_id", "-issued_at", "-id")
    )
    for record in records:
        newest.setdefault(record.mentor.mentor_id, {}).setdefault(record.certification_type_id, record)
    return [_answer(mentor_id, mentors.get(mentor_id), newest.get(mentor_id, {}), through) for mentor_id in mentor_ids]


def _answer(
    mentor_id: str, mentor: Mentor | None, newest: dict[int, Certification], through: dt.datetime | None
) -> Eligibility:
    if mentor is None:
        return Eligibility(mentor_id, False, None, None, None, reasons=["unknown_mentor"])
    held = [_held(record) for record in sorted(newest.values(), key=lambda r: r.certification_type.code)]
    reasons: list[str] = []
    warnings: list[str] = []
    if mentor.status == MentorStatus.PAUSED:
        reasons.append("paused_by_staff" if mentor.paused_by == PausedBy.STAFF else "paused_auto")
    lapsed = [f"lapsed:{each.certification_type}" for each in held if each.lifecycle in BAD]
    good = [each for each in held if each.lifecycle in GOOD]
    reasons += lapsed if lapsed or good else ["no_certification"]
    warnings += [f"renewal_due:{each.certification_type}" for each in held if each.lifecycle == Lifecycle.RENEWAL_DUE]
    warnings += [f"in_grace:{each.certification_type}" for each in held if each.lifecycle == Lifecycle.GRACE]
    # Through when the mentor is eligible (null when not eligible now), before ``through`` is asked about.
    eligible_through = min((each.grace_until for each in good), default=None) if not reasons else None
    if eligible_through is not None and through is not None:
        reasons += [f"lapses_before:{each.certification_type}" for each in good if each.grace_until < through]
    return Eligibility(
        mentor_id=mentor_id,
        eligible=not reasons,
        eligible_through=eligible_through,
        status=mentor.status,
        paused_by=mentor.paused_by or None,
        reasons=reasons,
        warnings=warnings,
        certifications=held,
    )


def _held(record: Certification) -> HeldCertification:
    return HeldCertification(
        certification_id=record.certification_id,
        certification_type=record.certification_type.code,
        expires_at=record.expires_at,
        lifecycle=record.lifecycle,
        grace_until=record.grace_ends_at,  # computed by the database, as the rule computes it
    )
