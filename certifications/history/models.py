"""The history table: one row per change of a certification, a mentor or a certification type."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from certifications.history.actor import Source


class Subject(models.TextChoices):
    """What kind of object a history row is about."""

    CERTIFICATION = "certification", "Certification"
    MENTOR = "mentor", "Mentor"
    CERTIFICATION_TYPE = "certification_type", "Certification type"


class Change(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"
    RESTORED = "restored", "Restored"


class HistoryEntry(models.Model):
    """One change: when, who (``actor``: a username or ``system:<source>``), from where, what, and why.

    ``changes`` maps each changed field to ``[old, new]``, rendered as the API
    renders that field (timestamps ``...Z``, a type as its code). Append-only.
    """

    id = models.BigAutoField(primary_key=True)
    subject = models.CharField(max_length=20, choices=Subject.choices)
    object_pk = models.BigIntegerField()
    at = models.DateTimeField()
    actor = models.CharField(max_length=160)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    change = models.CharField(max_length=10, choices=Change.choices)
    changes = models.JSONField(default=dict)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        app_label = "certifications"
        ordering = ["-at", "-id"]
        verbose_name = "history entry"
        verbose_name_plural = "history"
        indexes = [models.Index(fields=["subject", "object_pk", "at", "id"], name="history_object_idx")]

    def __str__(self) -> str:
        return f"{self.subject} {self.object_pk} {self.change} at {self.at:%Y-%m-%d %H:%M:%S}"
