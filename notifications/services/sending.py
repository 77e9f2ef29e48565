"""Sending: queued notifications go to the worker after commit; ``queued -> sent`` is a guarded update.

The database holds the truth about every message. A task is only a nudge:
one that comes twice, or for a message already sent, sends nothing; a message
whose nudge was lost (the broker was down at commit, or its worker was killed
and the broker keeps the message until its visibility timeout) is found again
by ``notifications_requeue_stale``: every 5 minutes for one never attempted,
on the daily scan for one waiting for a retry.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from enum import StrEnum

from celery import current_app
from django.db import transaction
from django.db.models import F, Q

from certifications.totals.states import tally_moved
from notifications.messages import notification_message
from notifications.models import Notification, NotificationState

logger = logging.getLogger("certhub.notifications")

SEND_TASK_NAME = "notifications.tasks.send_notification"
# Many rows committed together (a scan, a job batch) go out as one message that the worker fans out:
# publishing a message per row would keep the committing process (the job) busy for seconds.
FAN_OUT_TASK_NAME = "notifications.tasks.send_notifications"
# Ids per message: a worker sends them one after the other (one message per notice made the
# embedded filesystem broker the bottleneck, about one a second).
SEND_BATCH = 100
# Notices of one message locked, sent and recorded together (one lock, one update, one tally a group).
# A worker killed in the middle of a group sends at most this many of them again.
SEND_GROUP = 10
# A queued message older than this whose task was lost is sent again
# (longer than the whole retry schedule, so a message waiting for a retry is not nudged twice).
STALE_AFTER = dt.timedelta(hours=3)
# A queued message never attempted this long after it was created lost its task (a broker refusal,
# a killed worker): it is nudged again by the reaper (beat, every 5 minutes). A nudge that meets
# the first task still on its way sends nothing twice (the guarded send).
UNATTEMPTED_AFTER = dt.timedelta(minutes=5)
REQUEUE_LIMIT = 10_000  # per scan; the next scan takes the rest


class SendOutcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # the attempt failed; the task tries again later
    FAILED = "failed"  # the last attempt failed; the error is kept
    NOTHING = "nothing"  # not queued (already sent, skipped, failed, or unknown): nothing sent


def notifications_enqueue(notification_ids: Sequence[str]) -> None:
    """Send a task per notification once the current transaction commits (at once outside one)."""
    if notification_ids:
        ids = list(notification_ids)
        transaction.on_commit(lambda: _publish(ids))


def _publish(notification_ids: list[str]) -> None:
    """Publish the send tasks (one message per ``SEND_BATCH`` ids); a refusal leaves the rows to the reaper."""
    try:
        if len(notification_ids) == 1:
            current_app.send_task(
                SEND_TASK_NAME, args=[notification_ids[0]], ignore_result=current_app.conf.task_ignore_result
            )
            return
        for start in range(0, len(notification_ids), SEND_BATCH):
            batch = notification_ids[start : start + SEND_BATCH]
            current_app.send_task(FAN_OUT_TASK_NAME, args=[batch], ignore_result=current_app.conf.task_ignore_result)
    except Exception:  # the rows are committed and queued: the reaper sends them again
        logger.exception("could not queue %d notification(s); the reaper retries them", len(notification_ids))


def notification_send(*, notification_id: str, now: dt.datetime, last_attempt: bool) -> SendOutcome:
    """Send one queued notification; record ``sent``, or the error (``failed`` after the last attempt).

    The row is locked while the message goes out, so a second delivery of the
    same task waits, then finds it ``sent`` and sends nothing.
    """
    return notifications_send(notification_ids=[notification_id], now=now, last_attempt=last_attempt)[notification_id]


def notifications_send(
    *, notification_ids: Sequence[str], now: dt.datetime, last_attempt: bool
) -> dict[str, SendOutcome]:
    """Send queued notifications one after the other, ``SEND_GROUP`` to a transaction; each one's outcome.

    A group's rows are locked while its messages go out (a second copy of the
    task waits, then finds them ``sent`` and sends nothing), and the group is
    recorded in a fixed number of statements (one update for the sent, one per
    failure), so a notice costs its message and a tenth of the statements.
    """
    ids = list(notification_ids)
    outcomes = dict.fromkeys(ids, SendOutcome.NOTHING)
    for start in range(0, len(ids), SEND_GROUP):
        outcomes |= _group_send(ids[start : start + SEND_GROUP], now=now, last_attempt=last_attempt)
    return outcomes


def _group_send(ids: list[str], *, now: dt.datetime, last_attempt: bool) -> dict[str, SendOutcome]:
    outcomes: dict[str, SendOutcome] = {}
    position = {notification_id: n for n, notification_id in enumerate(ids)}
    with transaction.atomic():
        notifications = sorted(
            Notification.objects.select_for_update(of=("self",))
            .select_related("mentor", "certification__certification_type")
            .filter(notification_id__in=ids, state=NotificationState.QUEUED),
            key=lambda notification: position[notification.notification_id],
        )
        sent = []
        for notification in notifications:
            try:
                notification_message(notification, now=now).send()
            except Exception as exc:  # any failure of the mail transport is this attempt's failure
                outcomes[notification.notification_id] = _attempt_failed(notification, exc, last_attempt=last_attempt)
            else:
                sent.append(notification.pk)
                outcomes[notification.notification_id] = SendOutcome.SENT
        moved = Notification.objects.filter(pk__in=sent, state=NotificationState.QUEUED).update(
            state=NotificationState.SENT, sent_at=now, attempts=F("attempts") + 1, last_error=""
        )
        tally_moved(Notification, before=NotificationState.QUEUED, after=NotificationState.SENT, count=moved)
    return outcomes


def _attempt_failed(notification: Notification, exc: Exception, *, last_attempt: bool) -> SendOutcome:
    """Record a failed attempt (queued for a retry, or ``failed`` after the last one) and log it."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    state = NotificationState.FAILED if last_attempt else NotificationState.QUEUED
    if Notification.objects.filter(pk=notification.pk, state=NotificationState.QUEUED).update(
        state=state, attempts=F("attempts") + 1, last_error=error
    ):
        tally_moved(Notification, before=NotificationState.QUEUED, after=state)
    logger.warning("notification %s not sent (%s): %s", notification.notification_id, state, error)
    return SendOutcome.FAILED if last_attempt else SendOutcome.RETRY


def notification_resend(*, notification: Notification) -> bool:
    """Queue a failed notification again and send it after commit; False if it was not ``failed``."""
    with transaction.atomic():
        # An erased mentor's notice has no recipient left: it stays failed.
        failed = Notification.objects.filter(pk=notification.pk, state=NotificationState.FAILED)
        changed = failed.exclude(mentor__erased_at__isnull=False).update(state=NotificationState.QUEUED)
        if changed:
            tally_moved(Notification, before=NotificationState.FAILED, after=NotificationState.QUEUED)
            notifications_enqueue([notification.notification_id])
    return bool(changed)


def notifications_requeue_stale(*, now: dt.datetime) -> int:
    """Nudge again the queued notifications whose task was lost; return how many.

    Lost: never attempted ``UNATTEMPTED_AFTER`` after creation, or still queued ``STALE_AFTER`` after it.
    """
    lost = Q(attempts=0, created_at__lt=now - UNATTEMPTED_AFTER) | Q(created_at__lt=now - STALE_AFTER)
    ids = list(
        Notification.objects.filter(lost, state=NotificationState.QUEUED).values_list("notification_id", flat=True)[
            :REQUEUE_LIMIT
        ]
    )
    notifications_enqueue(ids)
    return len(ids)
