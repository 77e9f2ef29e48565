"""A real Celery worker killed in the middle of a delivery: after a restart the delivery is sent, and once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from events.endpoints import endpoint_create
from events.models import DeliveryState, WebhookAttempt, WebhookDelivery
from events.outbox import events_write
from events.tasks import dispatch_deliveries
from tests.celery_worker import database_url, wait_for
from tests.events.receiver import Reply, running_receiver

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2


@contextmanager
def celery_worker(log_path: Path) -> Iterator[subprocess.Popen]:
    """``celery -A config worker`` (one process) in its own process group, using this test's database."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CERTHUB_VAR_DIR": str(log_path.parent),
        "SECRET_KEY": settings.SECRET_KEY,  # the key of this run's processes (webhook secrets are sealed with it)
        "PYTHONUNBUFFERED": "1",
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "WEBHOOK_SEND_LEASE_SECONDS": str(LEASE_SECONDS),
        "WEBHOOK_QUEUE_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    env.pop("CELERY_BROKER_URL", None)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        start = log_path.stat().st_size if log_path.exists() else 0
        wait_for(lambda: b"ready." in log_path.read_bytes()[start:], what="the worker to start", log=log_path)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_delivery_leaves_it_to_be_sent_once_after_a_restart(tmp_path, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_QUEUE_LEASE_SECONDS = LEASE_SECONDS
    settings.WEBHOOK_DISPATCH_ON_COMMIT = True  # the write itself asks the worker to send
    log_path = tmp_path / "worker.log"
    celery_app.control.purge()
    with running_receiver() as receiver:
        receiver.reply(Reply(delay=8))  # the first request hangs while the worker is killed
        endpoint_create(url=receiver.url, now=timezone.now())
        with celery_worker(log_path) as first:
            # The write commits, and its on-commit message asks the worker to send.
            events_write(items=[("mentor.paused", {"mentor_id": "mntr_01HX4V2K8P"})], occurred_at=timezone.now())
            wait_for(lambda: len(receiver.received) == 1, what="the first attempt to reach the receiver", log=log_path)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == DeliveryState.PENDING and not WebhookAttempt.objects.exists()

        with celery_worker(log_path):
            time.sleep(LEASE_SECONDS)  # the dead worker's claim runs out
            dispatch_deliveries.apply_async()  # what beat sends every 10 seconds

            def delivered() -> bool:
                return WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).exists()

            wait_for(delivered, what="the delivery after the restart", log=log_path)
            time.sleep(LEASE_SECONDS)
            dispatch_deliveries.apply_async()  # a later sweep finds nothing left to send
            wait_for(
                lambda: re.search(rb"dispatch_deliveries\[[^]]+\] succeeded in [0-9.]+s: 0", log_path.read_bytes()),
                what="a sweep that found nothing to send",
                log=log_path,
            )
    [attempt] = WebhookAttempt.objects.all()
    assert attempt.status_code == 200 and attempt.number == 1
    # The receiver saw the event twice (the first copy cut off by the kill), under one webhook-id.
    assert len(receiver.received) == 2
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1
