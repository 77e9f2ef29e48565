"""Renewal requests: a mentor's proof of a new certificate, waiting for a coordinator's decision.

One pending request per (mentor, type), enforced by a partial unique
constraint. The evidence file lives in its own storage
(``certifications.renewals.evidence``), never under a public media URL.
Approval, rejection and withdrawal are services
(``certifications.services.renewals``); the row only holds the outcome.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from certifications.models.mentors import Mentor
from certifications.models.records import Certification
from certifications.models.types import CertificationType
from certifications.renewals.evidence import evidence_storage


class RenewalState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class SubmittedVia(models.TextChoices):
    API = "api", "API"
    MENTOR_LINK = "mentor_link", "Mentor's link"
    ADMIN = "admin", "Admin"


class RenewalRequest(models.Model):
    """A mentor's request to record a renewed certification, with its evidence and, once decided, the outcome."""

    renewal_request_id = models.CharField(max_length=16, unique=True, editable=False)
    mentor = models.ForeignKey(Mentor, on_delete=models.PROTECT, related_name="renewal_requests")
    certification_type = models.ForeignKey(CertificationType, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    # Empty: the type's validity from issued_at, computed at approval as for any new record.
    expires_at = models.DateTimeField(null=True, blank=True)
    evidence = models.FileField(storage=evidence_storage, max_length=200)
    evidence_content_type = models.CharField(max_length=20)
    evidence_size = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=RenewalState.choices, default=RenewalState.PENDING)
    submitted_via = models.CharField(max_length=12, choices=SubmittedVia.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    certification = models.ForeignKey(
        Certification, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentor", "certification_type"],
                condition=Q(state="pending"),
                name="rnw_one_pending_per_type",
            ),
            models.CheckConstraint(condition=Q(state__in=RenewalState.values), name="rnw_state_known"),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("issued_at")),
                name="rnw_expires_after_issued",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state="pending", decided_at__isnull=True) | ~Q(state="pending") & Q(decided_at__isnull=False)
                ),
                name="rnw_decided_at_matches_state",
            ),
            models.CheckConstraint(
                condition=Q(state="approved", certification__isnull=False)
                | ~Q(state="approved") & Q(certification__isnull=True),
                name="rnw_approved_names_its_record",
            ),
        ]
        indexes = [
            # The queue: pending first, oldest first; the list's filters by state.
            models.Index(fields=["state", "created_at", "id"], name="rnw_state_created_idx"),
            models.Index(fields=["created_at", "id"], name="rnw_created_idx"),
        ]
        permissions = [("review_renewalrequest", "Can approve or reject renewal requests")]
        verbose_name_plural = "renewal requests"

    def __str__(self) -> str:
        return self.renewal_request_id

    @property
    def is_pending(self) -> bool:
        return self.state == RenewalState.PENDING
