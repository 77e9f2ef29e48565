"""The eligibility answer as it was first built: model instances and DRF serializers.

Kept unchanged as the reference the faster read in ``certifications.eligibility``
and its rendering in the API are compared with, byte for byte
(``test_eligibility_identity``). Slow on purpose: it loads every record as a
model instance, with its mentor and type, and serializes field by field
(with ``EligibilitySerializer``, which still declares the answer's shape for the schema).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rest_framework.renderers import JSONRenderer

from certifications.api.mentors import EligibilitySerializer
from certifications.models import Certification, Lifecycle, Mentor, MentorStatus, PausedBy

GOOD = (Lifecycle.ACTIVE, Lifecycle.RENEWAL_DUE, Lifecycle.GRACE)
BAD = (Lifecycle.LAPSED, Lifecycle.REVOKED)


def reference_answers(*, mentor_ids: Sequence[str], now: dt.datetime, through: dt.datetime | None) -> list[dict]:
    """Each id's answer as a dict of plain values, in the order given."""
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


def reference_body(answers: list[dict], *, batch: bool) -> bytes:
    """The response body the API used to send for these answers."""
    if batch:
        return JSONRenderer().render({"data": EligibilitySerializer(answers, many=True).data})
    return JSONRenderer().render(EligibilitySerializer(answers[0]).data)


def _answer(mentor_id: str, mentor: Mentor | None, newest: dict[int, Certification], through) -> dict:
    answer = {"mentor_id": mentor_id, "certifications": []}
    if mentor is None:
        return answer | {
            "eligible": False,
            "eligible_through": None,
            "status": None,
            "paused_by": None,
            "reasons": ["unknown_mentor"],
            "warnings": [],
        }
    held = [
        {
            "certification_id": record.certification_id,
            "certification_type": record.certification_type.code,
            "expires_at": record.expires_at,
            "lifecycle": record.lifecycle,
            "grace_until": record.grace_ends_at,
        }
        for record in sorted(newest.values(), key=lambda r: r.certification_type.code)
    ]
    reasons: list[str] = []
    if mentor.status == MentorStatus.PAUSED:
        reasons.append("paused_by_staff" if mentor.paused_by == PausedBy.STAFF else "paused_auto")
    lapsed = [f"lapsed:{each['certification_type']}" for each in held if each["lifecycle"] in BAD]
    good = [each for each in held if each["lifecycle"] in GOOD]
    reasons += lapsed if lapsed or good else ["no_certification"]
    warnings = [f"renewal_due:{e['certification_type']}" for e in held if e["lifecycle"] == Lifecycle.RENEWAL_DUE]
    warnings += [f"in_grace:{e['certification_type']}" for e in held if e["lifecycle"] == Lifecycle.GRACE]
    eligible_through = min((each["grace_until"] for each in good), default=None) if not reasons else None
    if eligible_through is not None and through is not None:
        reasons += [f"lapses_before:{e['certification_type']}" for e in good if e["grace_until"] < through]
    return answer | {
        "eligible": not reasons,
        "eligible_through": eligible_through,
        "status": mentor.status,
        "paused_by": mentor.paused_by or None,
        "reasons": reasons,
        "warnings": warnings,
        "certifications": held,
    }
