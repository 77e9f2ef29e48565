"""Celery entry points: send one notification (with its retries) or a batch, the reaper, the daily scan and digest."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from notifications.services import (
    FAN_OUT_TASK_NAME,
    SEND_TASK_NAME,
    SendOutcome,
    digests_create,
    notification_send,
    notifications_requeue_stale,
    notifications_send,
    reminders_scan,
)

logger = logging.getLogger("certhub.notifications")

# A daily message that waited this long for a worker is dropped (the next day's does the work).
DAILY_EXPIRES_SECONDS = 12 * 60 * 60


@shared_task(bind=True, name=SEND_TASK_NAME)
def send_notification(self, notification_id: str) -> str:
    """Send one queued notification; on failure retry after ``NOTIFICATION_RETRY_DELAYS``, then ``failed``."""
    delays = settings.NOTIFICATION_RETRY_DELAYS
    retries = self.request.retries
    outcome = notification_send(
        notification_id=notification_id, now=timezone.now(), last_attempt=retries >= len(delays)
    )
    if outcome == SendOutcome.RETRY:
        raise self.retry(countdown=delays[retries], max_retries=len(delays))
    return outcome.value


@shared_task(name=FAN_OUT_TASK_NAME)
def send_notifications(notification_ids: list[str]) -> int:
    """Send queued notifications one after the other (a failed one retries alone); return how many were sent."""
    delays = settings.NOTIFICATION_RETRY_DELAYS
    outcomes = notifications_send(notification_ids=notification_ids, now=timezone.now(), last_attempt=not delays)
    for notification_id, outcome in outcomes.items():
        if outcome == SendOutcome.RETRY:  # this was its first attempt: the next ones are the single task's
            send_notification.apply_async(args=[notification_id], countdown=delays[0], retries=1)
    return sum(outcome == SendOutcome.SENT for outcome in outcomes.values())


# How often beat asks for notifications whose task was lost (the schedule's migration uses it too).
REQUEUE_EVERY_SECONDS = 5 * 60


@shared_task(name="notifications.tasks.requeue_lost", expires=REQUEUE_EVERY_SECONDS)
def requeue_lost() -> int:
    """Send again the queued notifications whose task was lost (beat, every 5 minutes)."""
    return notifications_requeue_stale(now=timezone.now())


@shared_task(name="notifications.tasks.scan_reminders", expires=DAILY_EXPIRES_SECONDS)
def scan_reminders() -> dict:
    """The daily reminder scan (beat, 08:00 UTC); also nudges messages whose task was lost."""
    now = timezone.now()
    result = reminders_scan(now=now)
    requeued = notifications_requeue_stale(now=now)
    logger.info(
        "reminder scan: %d created (%d queued, %d skipped), %d requeued",
        result.created,
        result.queued,
        result.skipped,
        requeued,
    )
    return {"created": result.created, "queued": result.queued, "skipped": result.skipped, "requeued": requeued}


@shared_task(name="notifications.tasks.send_digests", expires=DAILY_EXPIRES_SECONDS)
def send_digests() -> dict:
    """The coordinators' daily digest (beat, 08:30 UTC)."""
    result = digests_create(now=timezone.now())
    return {"sent": result.sent, "no_news": result.no_news, "already": result.already}
