"""Maintained counts of certifications and of mentors, kept as append-only deltas and folded periodically.

Every certification write adds rows of deltas in its own transaction (the job's
step 1 the rows of each type and expiry day of each chunk, set-based); a periodic
fold replaces the rows of each key by their sum. Writers therefore only ever insert,
so no row is hot and no write waits for another; a reader sums the rows of the
keys its filters name, which is exact whenever a real ``count()`` over the same
filters would be.

Each delta is kept twice, in the same statement: under its expiry day and under
its expiry month (``span``). A range is read as whole months from the month rows
and its remaining days from the day rows, so a total over years sums a few
hundred rows instead of every day's.

Mentors are tallied per ``(status, paused_by)`` (the ``certhub_mentors`` gauge): every
mentor write adds the delta of its move, the job's batches one row each.

The rows of the reacting apps' tables with a ``state`` (webhook deliveries,
notifications) are tallied per state (``totals.states``, the gauges
``certhub_webhook_deliveries`` and ``certhub_notifications``): every insert, state
change and delete adds its deltas, the set-based statements in the same statement.
"""

from __future__ import annotations

from django.db import models

from certifications.models import CertificationType


class Span(models.TextChoices):
    DAY = "day", "day"
    MONTH = "month", "month"


class CertificationTally(models.Model):
    """Certifications of one type, live or deleted, expiring on one UTC day or month: per status, deltas to sum."""

    certification_type = models.ForeignKey(
        CertificationType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    deleted = models.BooleanField()
    span = models.CharField(max_length=5, choices=Span.choices, default=Span.DAY)
    expires_on = models.DateField(help_text="The UTC day of expires_at; for a month row, the first day of its month.")
    valid = models.BigIntegerField(default=0)
    expired = models.BigIntegerField(default=0)
    revoked = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "certification tally"
        verbose_name_plural = "certification tallies"
        indexes = [models.Index(fields=["span", "deleted", "expires_on"], name="tally_span_key_idx")]

    def __str__(self) -> str:
        day = self.expires_on.isoformat()[:7] if self.span == Span.MONTH else self.expires_on
        return f"{self.certification_type_id}/{day}{' deleted' if self.deleted else ''}"


class MentorTally(models.Model):
    """Mentors of one ``(status, paused_by)`` group: deltas to sum (``paused_by`` is empty for an active mentor)."""

    status = models.CharField(max_length=10)
    paused_by = models.CharField(max_length=10, blank=True)
    mentors = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "mentor tally"
        verbose_name_plural = "mentor tallies"

    def __str__(self) -> str:
        return f"{self.status}/{self.paused_by or '-'}: {self.mentors:+d}"


class StateTally(models.Model):
    """Rows of one registered table (``counted``: its model's label) in one ``state``: deltas to sum."""

    counted = models.CharField(max_length=100)
    state = models.CharField(max_length=20)
    rows = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "state tally"
        verbose_name_plural = "state tallies"

    def __str__(self) -> str:
        return f"{self.counted}/{self.state}: {self.rows:+d}"
