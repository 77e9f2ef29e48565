"""Maintained counts of certifications, kept as append-only deltas and folded periodically.

Every certification write adds a row of deltas in its own transaction (the job's
step 1 one row per type and expiry day of each chunk, set-based); a periodic fold
replaces the rows of each key by their sum. Writers therefore only ever insert,
so no row is hot and no write waits for another; a reader sums the rows of the
keys its filters name (a few thousand rows at most), which is exact whenever a
real ``count()`` over the same filters would be.
"""

from __future__ import annotations

from django.db import models

from certifications.models import CertificationType


class CertificationTally(models.Model):
    """Certifications of one type, live or deleted, expiring on one UTC day: per status, as deltas to sum."""

    certification_type = models.ForeignKey(
        CertificationType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    deleted = models.BooleanField()
    expires_on = models.DateField(help_text="The UTC day of expires_at.")
    valid = models.BigIntegerField(default=0)
    expired = models.BigIntegerField(default=0)
    revoked = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "certification tally"
        indexes = [models.Index(fields=["deleted", "expires_on"], name="tally_key_idx")]

    def __str__(self) -> str:
        return f"{self.certification_type_id}/{self.expires_on}{' deleted' if self.deleted else ''}"
