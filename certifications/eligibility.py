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
one pass over its mentor's rows. On PostgreSQL both statements are compiled
once per process and their timestamps loaded by psycopg (decision 0049).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import NamedTuple

from django.db.models import QuerySet

from certhub.sql import Dialect, dialect
from certhub.sql.statements import CompiledEachTime, CompiledOnce
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
    """The eligibility of each id, in the order given; two queries whatever the number of ids (one if none is known)."""
    mentors_read, records_read = reads(dialect())
    mentors = {
        mentor_id: (pk, status, paused_by)
        for pk, mentor_id, status, paused_by in mentors_read.rows(mentor_ids=mentor_ids)
    }
    held: dict[int, list[HeldCertification]] = {}
    if mentors:
        last = None
        for row in records_read.rows(mentor_pks=[pk for pk, _, _ in mentors.values()], now=now):
            key = (row[0], row[2])
            if key != last:  # the first row of a mentor and type is its newest record
                last = key
                held.setdefault(row[0], []).append(HeldCertification._make(row[1:]))
    return [_answer(mentor_id, mentors.get(mentor_id), held, through) for mentor_id in mentor_ids]


@functools.cache
def reads(sql: Dialect) -> tuple[CompiledEachTime | CompiledOnce, CompiledEachTime | CompiledOnce]:
    """The two queries, compiled once on PostgreSQL (``Dialect.prepared``), from samples no caller sends."""
    return (
        sql.prepared(mentors_query, mentor_ids=["mntr_sample_1", "mntr_sample_2"]),
        sql.prepared(records_query, mentor_pks=[-1, -2], now=dt.datetime(1901, 2, 3, 4, 5, 6, 7, tzinfo=dt.UTC)),
    )


def mentors_query(mentor_ids: Sequence[str]) -> QuerySet:
    """The first query: ``(pk, mentor_id, status, paused_by)`` of the known ids.

    The ids go as one array parameter on PostgreSQL (``certhub.sql``): the statement's
    text, and so its preparation by Django and psycopg, is the same for any batch.
    """
    return Mentor.objects.filter(dialect().field_in(Mentor, "mentor_id", mentor_ids)).values_list(
        "pk", "mentor_id", "status", "paused_by"
    )


def records_query(mentor_pks: Sequence[int], *, now: dt.datetime) -> QuerySet:
    """The second query: the live records of these mentors, per mentor and type, the newest first.

    Types go by code, so that each mentor's rows come in the order the answer lists
    them; rows are ``(mentor pk, certification_id, type code, expires_at, lifecycle,
    grace_ends_at)``, the lifecycle and the end of grace computed by the database, as
    the rule is.
    """
    return (
        Certification.objects.alive()
        .filter(dialect().field_in(Certification, "mentor", mentor_pks))
        .with_lifecycle(now=now)
        .order_by("mentor_id", "certification_type__code", "-issued_at", "-id")
        .values_list(
            "mentor_id", "certification_id", "certification_type__code", "expires_at", "lifecycle", "grace_ends_at"
        )
    )


def _answer(
    mentor_id: str,
    mentor: tuple[int, str, str] | None,
    held_by_pk: dict[int, list[HeldCertification]],
    through: dt.datetime | None,
) -> Eligibility:
    if mentor is None:
        return Eligibility(mentor_id, False, None, None, None, ["unknown_mentor"], [], [])
    pk, status, paused_by = mentor
    held = held_by_pk.get(pk, [])
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
        mentor_id, not reasons, eligible_through, status, paused_by or None, reasons, due + in_grace, held
    )
