"""Celery entry points of webhook delivery: the sweep that claims due deliveries, and one send per delivery."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from events.delivery import CLAIM_CHUNK, SEND_BATCH, deliveries_claim, deliveries_send
from events.feed import events_publish

logger = logging.getLogger("certhub.webhooks")

DISPATCH_TASK = "events.tasks.dispatch_deliveries"
DELIVER_TASK = "events.tasks.deliver"


# Deliveries one sweep enqueues at most; the next sweep (10 s later) takes the rest.
SWEEP_MAX = 20_000


@shared_task(name=DISPATCH_TASK, expires=60)
def dispatch_deliveries() -> int:
    """Claim what is due, chunk by chunk, and enqueue it ``SEND_BATCH`` a message (beat every 10 s; after writes)."""
    events_publish()
    enqueued, after = 0, None
    while enqueued < SWEEP_MAX:
        # Each chunk is listed from where the one before stopped (``after``), not past what it claimed.
        claim = deliveries_claim(now=timezone.now(), limit=CLAIM_CHUNK, after=after)
        after = claim.last
        for start in range(0, len(claim.pks), SEND_BATCH):
            deliver.apply_async((claim.pks[start : start + SEND_BATCH], claim.token), retry=False)
        enqueued += len(claim.pks)
        if len(claim.pks) < CLAIM_CHUNK:
            break
    return enqueued


@shared_task(name=DELIVER_TASK)
def deliver(pks: list[int], token: str) -> int:
    """Send claimed deliveries once each (side by side); a message whose claim was taken over does nothing."""
    return len(deliveries_send(pks=pks, token=token, now=timezone.now()))
