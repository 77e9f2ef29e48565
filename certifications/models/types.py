"""Certification types: how long a record stays valid, and the policy around its expiry."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


def validate_reminder_days(value: object) -> None:
    """Reminder offsets: a list of distinct positive whole numbers of days (empty: no reminders)."""
    if not isinstance(value, list) or not all(isinstance(day, int) and not isinstance(day, bool) for day in value):
        raise ValidationError("Reminder days are a list of whole numbers of days, e.g. [90, 30, 7].")
    if any(day < 1 for day in value):
        raise ValidationError("Reminder days must be positive.")
    if len(set(value)) != len(value):
        raise ValidationError("Reminder days must be distinct.")


class CertificationType(models.Model):
    """A kind of certification: how long one stays valid, and its policy around expiry.

    ``grace_days``: an expired record lapses (and its mentor is paused) only once
    ``expires_at + grace_days`` has passed; a revoked one lapses at once.
    ``renewal_window_days``: how long before expiry a record is due for renewal.
    ``reminder_days``: the offsets, in days before expiry, at which reminders go out.
    A changed policy takes effect at the next job run; it never lifts a pause by itself.
    """

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    validity_months = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    is_active = models.BooleanField("active", default=True)
    renewal_window_days = models.PositiveSmallIntegerField(
        default=0, help_text="Days before expiry from which a record is due for renewal."
    )
    grace_days = models.PositiveSmallIntegerField(
        default=0, help_text="Days after expiry before an expired record pauses its mentor (0: at once)."
    )
    reminder_days = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_reminder_days],
        help_text="Days before expiry at which reminders go out, e.g. [90, 30, 7]; empty for none.",
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(validity_months__gte=1), name="certtype_validity_positive"),
            models.CheckConstraint(condition=Q(renewal_window_days__gte=0), name="certtype_window_not_negative"),
            models.CheckConstraint(condition=Q(grace_days__gte=0), name="certtype_grace_not_negative"),
        ]
        verbose_name_plural = "certification types"

    def __str__(self) -> str:
        return self.code
