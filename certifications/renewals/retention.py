"""What retention takes of renewal requests: the evidence file, ``RETENTION_EVIDENCE_DAYS`` after the decision.

The request stays (its dates, state, decision, the file's kind and size); its
``evidence`` becomes empty, and the file is deleted through the evidence
storage once the batch's transaction has committed, so a rolled-back batch
leaves every file in place. A pending request is never touched. Decision 0042.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from certhub.retention import RetentionKind
from certifications.models import RenewalRequest, RenewalState
from certifications.renewals.evidence import evidence_clear


def decided_evidence(rows: QuerySet, cutoff: dt.datetime) -> QuerySet:
    """The decided requests among ``rows`` still holding a file, decided before ``cutoff``."""
    return rows.exclude(state=RenewalState.PENDING).exclude(evidence="").filter(decided_at__lt=cutoff)


KINDS = (
    RetentionKind(
        name="evidence_files",
        model=RenewalRequest,
        window="EVIDENCE_DAYS",
        action="deleted",
        select=decided_evidence,
        apply=evidence_clear,
    ),
)
