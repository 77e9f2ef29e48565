"""What retention takes of the events app: delivered deliveries after 90 days, events after 400.

A delivery still pending (waiting for an attempt, or being retried) is never
deleted, and neither is its event. A failed delivery (its schedule spent, or
the receiver answered 410) is kept as long as its event, as the record of what
a receiver missed, and goes with it. An event goes once it is older than its
window, published, not the newest published event (so that the feed's
positions keep increasing), and without a pending delivery; its deliveries and
their attempts go in the same transaction. A feed cursor naming an event that
went answers 410 (``events.feed``). Decision 0042.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, QuerySet

from certhub.retention import RetentionKind, delete_rows, locked_ids
from certhub.sql import dialect, pk_in
from certifications.totals.states import tally_rows_deleted
from events.models import DeliveryState, Event, WebhookAttempt, WebhookDelivery


def delivered_deliveries(rows: QuerySet, cutoff: dt.datetime) -> QuerySet:
    """The delivered deliveries among ``rows`` created before ``cutoff``."""
    return rows.filter(state=DeliveryState.DELIVERED, created_at__lt=cutoff)


def deliveries_delete(selected: QuerySet) -> int:
    """Delete the ``selected`` deliveries and their attempts; return how many deliveries went."""
    return _deliveries_delete(locked_ids(selected))


def _deliveries_delete(ids: list[int]) -> int:
    """Delete the deliveries ``ids`` (locked) and their attempts, by index on both tables."""
    if not ids:
        return 0
    delete_rows(WebhookAttempt.objects.filter(dialect().field_in(WebhookAttempt, "delivery_id", ids)))
    deliveries = WebhookDelivery.objects.filter(pk_in(WebhookDelivery, ids))
    tally_rows_deleted(deliveries)  # the per-state gauges' totals (decision 0044)
    return delete_rows(deliveries)


def expired_events(rows: QuerySet, cutoff: dt.datetime) -> QuerySet:
    """The events among ``rows`` that occurred before ``cutoff`` and may go (see the module's docstring)."""
    newest = Event.objects.filter(sequence__isnull=False).order_by("-sequence").values("sequence")[:1]
    in_flight = WebhookDelivery.objects.filter(event=OuterRef("pk"), state=DeliveryState.PENDING)
    return rows.filter(occurred_at__lt=cutoff, sequence__lt=newest).exclude(Exists(in_flight))


def events_delete(selected: QuerySet) -> int:
    """Delete the ``selected`` events, their deliveries and those deliveries' attempts; return how many events."""
    ids = locked_ids(selected)
    if not ids:
        return 0
    deliveries = WebhookDelivery.objects.filter(dialect().field_in(WebhookDelivery, "event_id", ids))
    _deliveries_delete(locked_ids(deliveries))
    return delete_rows(Event.objects.filter(pk_in(Event, ids)))


KINDS = (
    RetentionKind(
        name="webhook_deliveries",
        model=WebhookDelivery,
        window="DELIVERIES_DAYS",
        action="deleted",
        select=delivered_deliveries,
        apply=deliveries_delete,
    ),
    RetentionKind(
        name="events", model=Event, window="EVENTS_DAYS", action="deleted", select=expired_events, apply=events_delete
    ),
)
