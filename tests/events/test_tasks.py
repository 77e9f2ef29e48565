"""The sweep is scheduled in beat's tables and names a registered task; the tasks call the services."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.celery import app as celery_app
from events import tasks
from events.models import DeliveryState, WebhookDelivery
from events.outbox import events_write
from tests.events.helpers import endpoint

pytestmark = pytest.mark.django_db


def test_the_sweep_runs_every_ten_seconds_and_its_task_is_registered():
    periodic = PeriodicTask.objects.get(task=tasks.DISPATCH_TASK)
    assert (periodic.interval.every, periodic.interval.period, periodic.enabled) == (10, "seconds", True)
    celery_app.loader.import_default_modules()
    assert {tasks.DISPATCH_TASK, tasks.DELIVER_TASK} <= set(celery_app.tasks)


def test_the_sweep_task_claims_and_enqueues_due_deliveries(settings):
    settings.WEBHOOK_DISPATCH_ON_COMMIT = False
    endpoint()
    events_write(items=[("mentor.paused", {}), ("mentor.resumed", {})], occurred_at=timezone.now())
    try:
        assert tasks.dispatch_deliveries() == 2  # two messages sent to the broker
        assert tasks.dispatch_deliveries() == 0  # claimed: not enqueued twice
    finally:
        celery_app.control.purge()
    claims = set(WebhookDelivery.objects.values_list("state", "claim_token"))
    assert len(claims) == 1 and next(iter(claims))[0] == DeliveryState.PENDING and next(iter(claims))[1]


def test_a_sweep_claims_chunk_after_chunk_each_delivery_once(settings, monkeypatch):
    settings.WEBHOOK_DISPATCH_ON_COMMIT = False
    monkeypatch.setattr(tasks, "CLAIM_CHUNK", 2)
    endpoint()
    events_write(items=[("mentor.paused", {"mentor_id": f"mntr_{n}"}) for n in range(5)], occurred_at=timezone.now())
    try:
        assert tasks.dispatch_deliveries() == 5  # chunks of 2, 2 and 1
        assert tasks.dispatch_deliveries() == 0
    finally:
        celery_app.control.purge()
    tokens = list(WebhookDelivery.objects.order_by("next_attempt_at", "pk").values_list("claim_token", flat=True))
    assert len(set(tokens[:2])) == len(set(tokens[2:4])) == 1 and len(set(tokens)) == 3
