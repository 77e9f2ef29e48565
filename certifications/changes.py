"""The kinds of a write: what a change did to a certification or a mentor, and how it is told from the change.

The domain owns these names; the apps that react to a write (history, events,
notifications) import them from here instead of spelling the strings again.
A certification write's kind is derived once, by ``certification_change``,
from the record before and after: no door (API, admin, import) passes its own.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from certifications.models import CertificationStatus


class CertificationChange(models.TextChoices):
    """What a write did to a certification."""

    CREATED = "created"
    UPDATED = "updated"
    RENEWED = "renewed"
    REVOKED = "revoked"
    DELETED = "deleted"
    RESTORED = "restored"


class MentorChange(models.TextChoices):
    """What a write did to a mentor: created, edited (name, email), paused, resumed or erased."""

    CREATED = "created"  # on first mention by a certification, or added by staff
    UPDATED = "updated"  # name or email edited
    PAUSED = "paused"  # by staff (the job's pauses come in batches: ``job_batch_applied``)
    RESUMED = "resumed"  # by staff, or automatically after a write (with the ``auto_resume`` log row)
    ERASED = "erased"  # personal data erased (``services.personal_data``): each app blanks its copies


def certification_change(*, before: dict[str, Any] | None, after: dict[str, Any]) -> CertificationChange:
    """The kind of a certification write, from its tracked fields before (None: a create) and after.

    1. no ``before``: created;
    2. ``deleted_at`` set, or cleared: deleted, restored;
    3. ``status`` becoming ``revoked``: revoked;
    4. ``expires_at`` moved later on a record that is (or becomes) ``valid``: renewed;
    5. anything else: updated.
    """
    if before is None:
        return CertificationChange.CREATED
    if (before["deleted_at"] is None) != (after["deleted_at"] is None):
        return CertificationChange.DELETED if after["deleted_at"] is not None else CertificationChange.RESTORED
    if after["status"] == CertificationStatus.REVOKED and before["status"] != CertificationStatus.REVOKED:
        return CertificationChange.REVOKED
    if after["status"] == CertificationStatus.VALID and after["expires_at"] > before["expires_at"]:
        return CertificationChange.RENEWED
    return CertificationChange.UPDATED


class RenewalRequestChange(models.TextChoices):
    """What a write did to a renewal request: submitted it, or decided it (its new state)."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


def renewal_request_change(*, before_state: str | None, after_state: str) -> RenewalRequestChange:
    """The kind of a renewal request write: submitted when it did not exist, else the state it reached."""
    if before_state is None:
        return RenewalRequestChange.SUBMITTED
    return RenewalRequestChange(after_state)
