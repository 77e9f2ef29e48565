"""Webhook benchmarks: delivery throughput against a bare sign-and-post loop, and the job's floor with webhooks.

- ``throughput`` writes ``count`` events for one endpoint on a loopback
  receiver, then times (a) the product: a real Celery worker with its default
  settings, woken by one sweep, until every delivery is ``delivered``; and
  (b) the floor: one process that signs each same payload with
  ``standardwebhooks`` and POSTs it (``urllib``), one after the other.
- ``floor_events`` extends ``benchmarks.expiry.floor_run`` with ``--endpoints``:
  inside the floor's transaction it writes the same events (``certification.expired``,
  ``mentor.paused``, ``expiry_job.completed``) and one delivery per event and
  matching active endpoint, set-based, as hand-written SQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from benchmarks.children import production_env
from certhub.api.fields import format_utc
from certhub.ids import new_id
from certifications.models import Certification, CertificationType, Mentor
from certifications.totals.tallies import states_rebuild
from events.delivery import delivery_request
from events.models import DeliveryState, Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from events.outbox import events_write, job_run_finished

CERT = Certification._meta.db_table
MENTOR = Mentor._meta.db_table
CTYPE = CertificationType._meta.db_table
EVENT = Event._meta.db_table
DELIVERY = WebhookDelivery._meta.db_table
ENDPOINT = WebhookEndpoint._meta.db_table


def events_clear() -> None:
    """Remove every event, delivery and attempt (the benchmarks' own; endpoints stay); recount the states' tally."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {WebhookAttempt._meta.db_table}, {DELIVERY}, {EVENT}")
        states_rebuild(cursor)


def endpoints_create(count: int, *, url: str = "https://hooks.example.org/certhub") -> list[WebhookEndpoint]:
    """``count`` active endpoints for every event type (made directly: the URL is never called)."""
    now = timezone.now()
    return [
        WebhookEndpoint.objects.create(
            endpoint_id=new_id("whe_"), url=url, secret="whsec_" + "A" * 43 + "=", created_at=now, updated_at=now
        )
        for _ in range(count)
    ]


@contextlib.contextmanager
def receiver(*, nice: int = 0) -> Iterator[str]:
    """A receiver process on loopback, at CPU niceness ``nice`` (its threads too); yields its URL.

    It stands for the endpoints' own machines: ``bench_drain`` runs it at 19, so that
    its threads, which would be elsewhere in a deployment, take the least of the CPU
    that the API and the workers share here.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.receiver", "--nice", str(nice)],
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{process.stdout.readline().strip()}/hooks"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def celery(
    database_url: str, log_path: Path, *arguments: str, ready: bytes = b"ready.", env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """``celery -A config <arguments>`` in a session of its own, loopback allowed; yields once ``ready`` is logged.

    The whole session (the worker's pool too) is stopped on the way out, also on an error.
    """
    env = production_env(DATABASE_URL=database_url, WEBHOOK_ALLOW_PRIVATE_NETWORKS="true", **(env or {}))
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *arguments],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while ready not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery {arguments[0]} did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.2)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


@contextlib.contextmanager
def worker(database_url: str, log_path: Path) -> Iterator[None]:
    """``celery -A config worker`` with its default settings (concurrency: the CPU count), loopback allowed."""
    with celery(database_url, log_path, "worker", "--loglevel", "INFO"):
        yield


def receiver_stats(url: str) -> dict[str, dict]:
    """The receiver's figures per path (``benchmarks.receiver``): received, distinct, first, last."""
    parts = urllib.parse.urlsplit(url)
    with urllib.request.urlopen(f"{parts.scheme}://{parts.netloc}/stats", timeout=10) as answer:
        return json.loads(answer.read())


def deliveries_write(count: int, *, url: str) -> WebhookEndpoint:
    """One endpoint at ``url`` and ``count`` pending deliveries to it (mentor.paused events), in chunks."""
    now = timezone.now()
    [endpoint] = endpoints_create(1, url=url)
    for start in range(0, count, 1000):
        events_write(
            items=[
                (
                    "mentor.paused",
                    {
                        "mentor_id": f"mntr_{n:010d}",
                        "status": "paused",
                        "paused_by": "auto",
                        "paused_at": format_utc(now),
                    },
                )
                for n in range(start, min(count, start + 1000))
            ],
            occurred_at=now,
        )
    return endpoint


def product_deliver_all(count: int, *, timeout: float = 3600) -> float:
    """Wake the worker with one sweep and wait until ``count`` deliveries are delivered; seconds."""
    from events.tasks import dispatch_deliveries

    started = time.perf_counter()
    dispatch_deliveries.apply_async()
    deadline = time.monotonic() + timeout
    while WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count() < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not deliver everything in time")
        if not WebhookDelivery.objects.filter(state=DeliveryState.PENDING, claim_token="").exists():
            time.sleep(0.05)
        else:  # what beat does every 10 s: a backlog over one sweep's maximum
            dispatch_deliveries.apply_async()
            time.sleep(0.5)
    return time.perf_counter() - started


def bare_loop(*, url: str, secret: str, limit: int | None = None) -> tuple[float, int]:
    """Sign and POST the same payloads (the first ``limit``), one after the other, in this process; seconds, 2xx."""
    deliveries = list(WebhookDelivery.objects.select_related("event", "endpoint").order_by("pk")[:limit])
    payloads = [
        (delivery.event.event_id, delivery_request(delivery, now=timezone.now())[0].decode()) for delivery in deliveries
    ]
    signer = Webhook(secret)
    ok = 0
    started = time.perf_counter()
    for event_id, body in payloads:
        now = timezone.now()
        headers = {
            "Content-Type": "application/json",
            "webhook-id": event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(msg_id=event_id, timestamp=now, data=body),
        }
        request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            ok += 200 <= answer.status < 300
    return time.perf_counter() - started, ok


# --- The job's floor with webhooks ----------------------------------------------------------

FLOOR_EVENTS_SQL = f"""
WITH expired AS (
    SELECT c.id, row_number() OVER (ORDER BY c.id) AS n,
           jsonb_build_object(
               'certification_id', c.certification_id, 'mentor_id', m.mentor_id, 'certification_type', t.code,
               'status', 'expired',
               'issued_at', to_char(c.issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'expires_at', to_char(c.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'job_run_id', %(job_run_id)s) AS data
    FROM {{cert}} c JOIN {{mentor}} m ON m.id = c.mentor_id JOIN {{ctype}} t ON t.id = c.certification_type_id
    WHERE c.id = ANY(%(expired)s)
),
paused AS (
    SELECT m.id, (SELECT count(*) FROM expired) + row_number() OVER (ORDER BY m.id) AS n,
           jsonb_build_object(
               'mentor_id', m.mentor_id, 'status', 'paused', 'paused_by', 'auto',
               'paused_at', to_char(%(now)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'job_run_id', %(job_run_id)s) AS data
    FROM {{mentor}} m WHERE m.status = 'paused' AND m.paused_by = 'auto' AND m.paused_at = %(now)s
),
written AS (
    INSERT INTO {EVENT} (event_id, type, occurred_at, data)
    SELECT drawn.event_id, each.type, %(now)s, each.data
    FROM (SELECT n, 'certification.expired' AS type, data FROM expired
          UNION ALL SELECT n, 'mentor.paused', data FROM paused) each
    JOIN unnest(%(event_ids)s::text[]) WITH ORDINALITY AS drawn(event_id, n) USING (n)
    RETURNING id, event_id, type
)
INSERT INTO {DELIVERY}
    (delivery_id, event_id, endpoint_id, state, attempts, next_attempt_at, claim_token, created_at)
SELECT 'whd_' || substr(w.event_id, 5) || substr(e.endpoint_id, 5), w.id, e.id, 'pending', 0, %(now)s, '', %(now)s
FROM written w JOIN {ENDPOINT} e ON e.is_active AND (e.event_types = '[]'::jsonb OR e.event_types ? w.type)
"""


def floor_events(cursor, *, now, run, expired: list[int]) -> int:
    """In the floor's transaction: its events and their deliveries, set-based; returns the deliveries written.

    One statement writes the ``certification.expired`` events of the records it
    marked and the ``mentor.paused`` events of the mentors it paused, and one
    delivery per event and matching active endpoint (event ids drawn in Python,
    as the product draws them). Its ``expiry_job.completed`` event is
    ``floor_completed`` (one row).
    """
    cursor.execute(
        f"SELECT count(*) FROM {MENTOR} WHERE status = 'paused' AND paused_by = 'auto' AND paused_at = %s", [now]
    )
    (paused,) = cursor.fetchone()
    event_ids = [new_id("evt_", 12) for _ in range(len(expired) + paused)]
    sql = FLOOR_EVENTS_SQL.replace("{cert}", CERT).replace("{mentor}", MENTOR).replace("{ctype}", CTYPE)
    cursor.execute(sql, {"now": now, "job_run_id": run.job_run_id, "expired": expired, "event_ids": event_ids})
    return cursor.rowcount


def floor_completed(*, run) -> None:
    """The floor run's ``expiry_job.completed`` event and its deliveries (one event, through the outbox)."""
    run.refresh_from_db()
    job_run_finished(run=run)


# What the job and the floor must both leave (compared as multisets; a run's completed_at is its own).
RESULT_QUERIES = {
    "event": f"SELECT type, data - 'completed_at' AS data FROM {EVENT}",
    "delivery": f"""SELECT e.type, e.data - 'completed_at' AS data, p.endpoint_id, d.state,
                           d.next_attempt_at = e.occurred_at AS due_when_written
                    FROM {DELIVERY} d JOIN {EVENT} e ON e.id = d.event_id JOIN {ENDPOINT} p ON p.id = d.endpoint_id""",
}
