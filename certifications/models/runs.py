"""What the expiry job keeps: its runs, the lease lock that keeps a real run single, the auto-pause log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from certifications.models.mentors import Mentor
from certifications.models.records import Certification


class JobTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    CLI = "cli", "Command line"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ExpiryJobRun(models.Model):
    """One run of the expiry job (a dry run included) and what it found and did."""

    job_run_id = models.CharField(max_length=32, unique=True, editable=False)
    trigger = models.CharField(max_length=10, choices=JobTrigger.choices)
    dry_run = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    mentors_scanned = models.PositiveIntegerField(default=0)
    expired_found = models.PositiveIntegerField(default=0)
    auto_paused = models.PositiveIntegerField(default=0)
    marked_expired = models.PositiveIntegerField(default=0)
    failures = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # Batches of step 3 the run applied (recorded when it finishes; a run that died shows 0).
    batches = models.PositiveIntegerField(default=0, db_default=0)  # db_default: bulk loads name no value

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("run_expiry_job", "Can run the expiry job")]
        indexes = [
            # The last successful real run (the job's gauges at every scrape): the first entry, whatever the history.
            models.Index(
                fields=["-completed_at"],
                condition=models.Q(dry_run=False, state=JobState.SUCCEEDED, completed_at__isnull=False),
                name="run_last_success_idx",
            )
        ]
        verbose_name = "expiry job run"
        verbose_name_plural = "expiry job runs"

    def __str__(self) -> str:
        return self.job_run_id

    @property
    def duration_seconds(self) -> float | None:
        """How long the run took (``completed_at`` is ``started_at`` plus the measured duration), None until it ends."""
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()

    @property
    def rows_per_second(self) -> float | None:
        """Due records applied per second of the run (``expired_found`` over the duration), None until it ends."""
        duration = self.duration_seconds
        if duration is None:
            return None
        return self.expired_found / duration if duration > 0 else 0.0


class JobLock(models.Model):
    """A lease that keeps non-dry expiry runs single across processes and machines.

    A holder renews the lease at every batch; a holder that died stops renewing,
    and the next run may take the lock once ``lease_until`` has passed.
    """

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=32, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "job locks"

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or 'free'}"


class LogEvent(models.TextChoices):
    AUTO_PAUSE = "auto_pause", "Auto pause"
    AUTO_RESUME = "auto_resume", "Auto resume"


class AutoPauseLog(models.Model):
    """Append-only record of every automatic pause and resume."""

    log_id = models.CharField(max_length=12, unique=True, editable=False)
    # No foreign-key indexes of their own: log_mentor_idx and log_cert_idx lead with these columns.
    mentor = models.ForeignKey(Mentor, on_delete=models.PROTECT, related_name="+", db_index=False)
    certification = models.ForeignKey(Certification, on_delete=models.PROTECT, related_name="+", db_index=False)
    job_run = models.ForeignKey(ExpiryJobRun, null=True, blank=True, on_delete=models.PROTECT, related_name="logs")
    event = models.CharField(max_length=12, choices=LogEvent.choices)
    reason = models.CharField(max_length=255)
    applied_at = models.DateTimeField()

    class Meta:
        ordering = ["-applied_at", "-id"]
        verbose_name = "auto-pause log entry"
        verbose_name_plural = "auto-pause log"
        indexes = [
            models.Index(fields=["applied_at", "id"], name="log_applied_order_idx"),
            models.Index(fields=["mentor", "applied_at"], name="log_mentor_idx"),
            models.Index(fields=["certification", "applied_at"], name="log_cert_idx"),
        ]

    def __str__(self) -> str:
        return self.log_id
