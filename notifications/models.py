"""One row per message CertHub sends (or decided not to send): reminders, pause and resume notices, digests.

A reminder is identified by ``(certification, offset_days, cycle_expires_at)``:
a database constraint keeps each window of each expiry cycle to one row, so
scans that overlap, repeat or catch up cannot send a window twice.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from certifications.models import Certification, Mentor, RenewalRequest


class NotificationKind(models.TextChoices):
    EXPIRY_REMINDER = "expiry_reminder", "Expiry reminder"
    MENTOR_PAUSED = "mentor_paused", "Mentor paused"
    MENTOR_RESUMED = "mentor_resumed", "Mentor resumed"
    COORDINATOR_DIGEST = "coordinator_digest", "Coordinators' digest"
    RENEWAL_APPROVED = "renewal_approved", "Renewal approved"
    RENEWAL_REJECTED = "renewal_rejected", "Renewal rejected"


class NotificationState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


NO_EMAIL = "no email address"


class Notification(models.Model):
    """A message to a mentor or a coordinator, and where its delivery stands."""

    notification_id = models.CharField(max_length=12, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    # No foreign-key indexes of their own: ntf_mentor_idx and the reminder constraint lead with these columns.
    mentor = models.ForeignKey(
        Mentor, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    certification = models.ForeignKey(
        Certification, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The request a renewal notice answers (its decision and reason).
    renewal_request = models.ForeignKey(
        RenewalRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    cycle_expires_at = models.DateTimeField(null=True, blank=True)
    offset_days = models.PositiveSmallIntegerField(null=True, blank=True)
    recipient = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255)
    state = models.CharField(max_length=10, choices=NotificationState.choices, default=NotificationState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The UTC day a coordinators' digest covers up to (one per recipient and day).
    digest_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["certification", "cycle_expires_at", "offset_days"],
                condition=Q(kind="expiry_reminder"),
                name="ntf_one_reminder_per_window",
            ),
            models.UniqueConstraint(
                fields=["recipient", "digest_date"],
                condition=Q(kind="coordinator_digest"),
                name="ntf_one_digest_per_day",
            ),
            models.CheckConstraint(
                condition=~Q(kind="expiry_reminder")
                | Q(certification__isnull=False, cycle_expires_at__isnull=False, offset_days__isnull=False),
                name="ntf_reminder_names_its_window",
            ),
            models.CheckConstraint(condition=Q(state__in=NotificationState.values), name="ntf_state_known"),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="ntf_created_order_idx"),
            models.Index(fields=["mentor", "created_at"], name="ntf_mentor_idx"),
            models.Index(fields=["state", "created_at"], name="ntf_state_idx"),
        ]
        verbose_name_plural = "notifications"

    def __str__(self) -> str:
        return self.notification_id
