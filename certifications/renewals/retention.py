"""What retention takes of renewal requests: the evidence file, ``RETENTION_EVIDENCE_DAYS`` after the decision.

The request stays (its dates, state, decision, the file's kind and size); its
``evidence`` becomes empty, and the file is deleted through the evidence
storage once the batch's transaction has committed, so a rolled-back batch
leaves every file in place. A pending request is never touched. Decision 0042.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.db import transaction
from django.db.models import QuerySet

from certhub.retention import RetentionKind
from certifications.models import RenewalRequest, RenewalState
from certifications.renewals.evidence import evidence_storage

logger = logging.getLogger("certhub.retention")


def decided_evidence(rows: QuerySet, cutoff: dt.datetime) -> QuerySet:
    """The decided requests among ``rows`` still holding a file, decided before ``cutoff``."""
    return rows.exclude(state=RenewalState.PENDING).exclude(evidence="").filter(decided_at__lt=cutoff)


def evidence_clear(selected: QuerySet) -> int:
    """Empty the ``selected`` requests' evidence; delete their files after commit; return how many."""
    found = dict(selected.values_list("pk", "evidence"))
    RenewalRequest.objects.filter(pk__in=list(found)).update(evidence="")
    transaction.on_commit(partial(_files_delete, names=sorted(found.values())))
    return len(found)


def _files_delete(*, names: list[str]) -> None:
    storage = evidence_storage()
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # logged and left: the row no longer names it, an operator can remove it
            logger.exception("evidence file %s could not be deleted", name)


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
