"""Celery entry points of webhook delivery: the sweep that claims due deliveries, and one send per delivery."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from events.delivery import deliveries_claim, delivery_attempt
from events.feed import events_publish

logger = logging.getLogger("certhub.webhooks")

DISPATCH_TASK = "events.tasks.dispatch_deliveries"
DELIVER_TASK = "events.tasks.deliver"


@shared_task(name=DISPATCH_TASK, expires=60)
def dispatch_deliveries() -> int:
    """Claim the due deliveries and enqueue one message each (beat, every 10 s, and after each write)."""
    events_publish()
    claim = deliveries_claim(now=timezone.now())
    for pk in claim.pks:
        deliver.apply_async((pk, claim.token), retry=False)
    return len(claim.pks)


@shared_task(name=DELIVER_TASK)
def deliver(pk: int, token: str) -> str | None:
    """Send one claimed delivery once; a message whose claim was taken over does nothing."""
    return delivery_attempt(pk=pk, token=token, now=timezone.now())
