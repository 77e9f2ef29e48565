"""End to end on a real worker (Redis, PostgreSQL): a committed scan's reminder is sent to a real SMTP server, once;
a notice whose worker was killed mid-send is sent by the reaper."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import current_app
from django.utils import timezone

from certhub.ids import new_id
from notifications.models import Notification, NotificationKind, NotificationState
from notifications.services import SEND_TASK_NAME, reminders_scan
from tests.celery_worker import celery_worker, database_url, wait_for
from tests.factories import CertificationFactory, MentorFactory
from tests.hardening.servers import PYTHON, ROOT, base_env


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


@contextmanager
def solo_worker(log_path: Path, **env: str) -> Iterator[subprocess.Popen]:
    """One worker process (``--pool=solo``: a SIGKILL kills all of it) on Redis and this test's database."""
    environment = base_env(
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=os.environ["REDIS_URL"],
        CERTHUB_VAR_DIR=str(log_path.parent),
        **env,
    )
    with open(log_path, "ab") as log:
        start = log.tell()
        worker = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-l", "info", "--without-gossip"],
            env=environment,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: b"ready." in log_path.read_bytes()[start:], what="the worker to start", log=log_path)
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_pause_notice_whose_worker_was_killed_is_sent_by_the_reaper_after_a_restart(smtp, settings, tmp_path):
    silent = socket.create_server(("127.0.0.1", 0))  # an SMTP server that accepts and never greets
    callers: list[socket.socket] = []
    threading.Thread(target=lambda: callers.append(silent.accept()[0]), daemon=True).start()
    mentor = MentorFactory(email="ada@example.org")
    notice = Notification.objects.create(
        notification_id=new_id("ntf_"),
        kind=NotificationKind.MENTOR_PAUSED,
        mentor=mentor,
        recipient=mentor.email,
        subject="Your mentoring is paused: certification expired",
        created_at=timezone.now() - dt.timedelta(minutes=10),  # written by a job run ten minutes ago
    )
    log = tmp_path / "worker.log"
    current_app.control.purge()
    env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_TIMEOUT": "120", "DEFAULT_FROM_EMAIL": "certhub@program.example"}
    try:
        with solo_worker(log, EMAIL_PORT=str(silent.getsockname()[1]), **env) as first:
            current_app.send_task(SEND_TASK_NAME, args=[notice.notification_id])
            wait_for(lambda: bool(callers), what="the send to reach the mail server", log=log)
            first.send_signal(signal.SIGKILL)  # mid-send: Redis keeps the unacknowledged message for hours
            first.wait()
        notice.refresh_from_db()
        assert (notice.state, notice.attempts) == (NotificationState.QUEUED, 0)

        with solo_worker(log, EMAIL_PORT=str(settings.EMAIL_PORT), **env):
            current_app.send_task("notifications.tasks.requeue_lost")  # what beat sends every 5 minutes
            wait_for(lambda: len(smtp.messages) == 1, what="the notice after the restart", log=log)
    finally:
        silent.close()
    notice.refresh_from_db()
    assert (notice.state, notice.attempts) == (NotificationState.SENT, 1)
    assert [message["To"] for message in smtp.messages] == ["ada@example.org"]
