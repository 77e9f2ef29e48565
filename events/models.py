"""The outbox (``Event``), webhook endpoints, their deliveries and every delivery attempt.

Models hold data and invariants; the rules live in ``events.outbox`` (writing
events and deliveries), ``events.feed`` (publishing and reading the feed),
``events.endpoints`` (endpoint writes) and ``events.delivery`` (sending).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from events.sealing import SealedField


class EventType(models.TextChoices):
    CERTIFICATION_CREATED = "certification.created"
    CERTIFICATION_UPDATED = "certification.updated"
    CERTIFICATION_RENEWED = "certification.renewed"
    CERTIFICATION_REVOKED = "certification.revoked"
    CERTIFICATION_DELETED = "certification.deleted"
    CERTIFICATION_RESTORED = "certification.restored"
    CERTIFICATION_EXPIRED = "certification.expired"
    MENTOR_PAUSED = "mentor.paused"
    MENTOR_RESUMED = "mentor.resumed"
    MENTOR_ERASED = "mentor.erased"
    EXPIRY_JOB_COMPLETED = "expiry_job.completed"
    RENEWAL_REQUEST_SUBMITTED = "renewal_request.submitted"
    RENEWAL_REQUEST_APPROVED = "renewal_request.approved"
    RENEWAL_REQUEST_REJECTED = "renewal_request.rejected"
    RENEWAL_REQUEST_WITHDRAWN = "renewal_request.withdrawn"
    # Sent to one endpoint on request ("send a test event"); never in the feed.
    WEBHOOK_TEST = "webhook.test"


# The types a subscriber can ask for and the feed serves.
FEED_TYPES = tuple(value for value in EventType.values if value != EventType.WEBHOOK_TEST)


class Event(models.Model):
    """One change, written in the transaction of the change (a transactional outbox).

    ``id`` is the insertion order; ``sequence`` is the feed's order, assigned
    after commit by the single publisher (``events.feed.events_publish``), so an
    event whose transaction commits late gets a later position instead of one
    a reader has already moved past. ``sequence`` is null until published.
    """

    event_id = models.CharField(max_length=16, unique=True)
    sequence = models.BigIntegerField(null=True, blank=True, unique=True)
    type = models.CharField(max_length=40, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    data = models.JSONField()

    class Meta:
        ordering = ["sequence"]
        indexes = [
            # The publisher's scan: the few events not yet published.
            models.Index(fields=["id"], condition=Q(sequence__isnull=True), name="event_unpublished_idx"),
        ]
        verbose_name_plural = "events"

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class WebhookEndpoint(models.Model):
    """A receiver of signed webhooks: its URL, the event types it wants (empty: all) and its secrets.

    After a rotation the previous secret stays valid until ``previous_secret_expires_at``:
    deliveries carry a signature made with each.
    """

    endpoint_id = models.CharField(max_length=12, unique=True)
    url = models.URLField(max_length=2000)
    event_types = models.JSONField(default=list, blank=True)
    # Encrypted at rest (events.sealing): a database dump alone cannot sign a delivery.
    secret = SealedField(max_length=255)
    previous_secret = SealedField(max_length=255, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField("active", default=True)
    disabled_reason = models.CharField(max_length=255, blank=True, default="")
    description = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "endpoint_id"]
        verbose_name_plural = "webhook endpoints"

    def __str__(self) -> str:
        return f"{self.endpoint_id} {self.url}"


class DeliveryState(models.TextChoices):
    PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt of the schedule failed, or the endpoint answered 410


class WebhookDelivery(models.Model):
    """One event to one endpoint, with its retry state kept here (not in the broker).

    ``claimed_until`` and ``claim_token`` make one sender at a time: a
    dispatcher claims a due delivery before it enqueues it, the worker takes the
    claim over with a guarded update before sending; a lost message or a dead
    worker leaves a claim that runs out, and the next sweep sends it again.
    """

    delivery_id = models.CharField(max_length=24, unique=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, default="")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_event_endpoint_uniq"),
            models.CheckConstraint(
                condition=~Q(state="pending") | Q(next_attempt_at__isnull=False), name="delivery_pending_has_next"
            ),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="delivery_due_idx"),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_idx"),
            # The metrics' count per state: an index-only count of one narrow index.
            models.Index(fields=["state"], name="delivery_state_idx"),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.state}"


class WebhookAttempt(models.Model):
    """One attempt at a delivery, kept whatever its outcome."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    url = models.URLField(max_length=2000)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_body = models.TextField(blank=True, default="")  # the first 1 KB
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_uniq")]
        verbose_name_plural = "webhook attempts"

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
