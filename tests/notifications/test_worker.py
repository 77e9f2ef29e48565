"""End to end on a real worker (Redis, PostgreSQL): a committed scan's reminder is sent to a real SMTP server, once."""

from __future__ import annotations

import datetime as dt

import pytest
from celery import current_app
from django.utils import timezone

from notifications.models import Notification, NotificationState
from notifications.services import SEND_TASK_NAME, reminders_scan
from tests.celery_worker import celery_worker, wait_for
from tests.factories import CertificationFactory, MentorFactory


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_sends_a_committed_reminder_once_even_when_its_task_comes_twice(smtp, settings, tmp_path):
    now = timezone.now()
    for email in ("ada@example.org", "bo@example.org"):  # two rows of one commit: one message, fanned out
        mentor = MentorFactory(email=email)
        CertificationFactory(
            mentor=mentor, issued_at=now - dt.timedelta(days=700), expires_at=now + dt.timedelta(days=6)
        )
    env = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(settings.EMAIL_PORT),  # the smtp fixture's server
        "DEFAULT_FROM_EMAIL": "certhub@program.example",
    }
    with celery_worker(tmp_path / "worker.log", **env) as log:
        assert reminders_scan(now=now).queued == 2  # committed: the task goes out after commit
        wait_for(lambda: len(smtp.messages) == 2, what="the reminders", log=log)
        reminder = Notification.objects.get(recipient="ada@example.org")
        current_app.send_task(SEND_TASK_NAME, args=[reminder.notification_id])  # delivered again
        wait_for(lambda: log.read_text().count("'nothing'") >= 1, what="the second delivery", log=log)
    assert sorted(message["To"] for message in smtp.messages) == ["ada@example.org", "bo@example.org"]
    assert "Task notifications.tasks.send_notifications[" in log.read_text()  # the fan-out
    for row in Notification.objects.all():
        assert (row.state, row.attempts) == (NotificationState.SENT, 1)
