"""Mentors: who holds certifications, and whether they are active or paused (and by whom)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from certhub.ids import MENTOR_ID_RE

mentor_id_validator = RegexValidator(
    MENTOR_ID_RE,
    "A mentor id is 'mntr_' followed by 8 to 26 upper-case Crockford base32 characters.",
)


class MentorStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class PausedBy(models.TextChoices):
    AUTO = "auto", "Automatically (lapsed certification)"
    STAFF = "staff", "Staff"


class Mentor(models.Model):
    """A peer mentor; created the first time a certification names an unknown mentor id."""

    mentor_id = models.CharField(max_length=31, unique=True, validators=[mentor_id_validator])
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=10, choices=MentorStatus.choices, default=MentorStatus.ACTIVE)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=255, blank=True)
    paused_by = models.CharField(max_length=10, choices=PausedBy.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Set once by the erasure (``services.personal_data``): the name and email are gone, the id and states stay.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["mentor_id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status=MentorStatus.ACTIVE, paused_by="", paused_at__isnull=True)
                    | Q(status=MentorStatus.PAUSED, paused_by__in=PausedBy.values, paused_at__isnull=False)
                ),
                name="mentor_pause_fields_match_status",
            ),
        ]
        indexes = [models.Index(fields=["status", "paused_by"], name="mentor_status_idx")]
        verbose_name_plural = "mentors"
        permissions = [("manage_personal_data", "Can export and erase a mentor's personal data")]

    def __str__(self) -> str:
        return self.mentor_id if not self.name else f"{self.name} ({self.mentor_id})"
