"""The expiry job's preview: the due certifications a run would apply, with their reasons; writes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from certifications.models import Certification
from certifications.services.lapse.reasons import pause_reason


@dataclass(frozen=True)
class ExpiryPreviewItem:
    """One due certification and the mentor it would pause."""

    mentor_id: str
    mentor_name: str
    mentor_status: str
    certification_id: str
    reason: str


def expiry_job_preview(*, now: dt.datetime, limit: int = 200) -> list[ExpiryPreviewItem]:
    """The due certifications a run at ``now`` would apply (first ``limit``), with their reasons."""
    rows = (
        Certification.objects.due(now=now)
        .order_by("mentor__mentor_id", "certification_id")
        .annotate(reason=pause_reason())
        .values(
            "certification_id",
            "reason",
            "mentor__mentor_id",
            "mentor__name",
            "mentor__status",
        )[:limit]
    )
    return [
        ExpiryPreviewItem(
            mentor_id=row["mentor__mentor_id"],
            mentor_name=row["mentor__name"],
            mentor_status=row["mentor__status"],
            certification_id=row["certification_id"],
            reason=row["reason"],
        )
        for row in rows
    ]
