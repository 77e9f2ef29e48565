"""Sending deliveries: claim what is due, sign and POST it, keep the attempt, decide what comes next.

Retry state lives in the database, never in the broker:

1. ``deliveries_claim`` (the sweep, every ``WEBHOOK_SWEEP_SECONDS``, and right
   after a write commits) claims the pending deliveries whose
   ``next_attempt_at`` has come and whose claim is free or ran out (PostgreSQL:
   ``FOR UPDATE SKIP LOCKED``, so two sweeps share the work), for
   ``WEBHOOK_QUEUE_LEASE_SECONDS``, with a token; one message per delivery
   carries the token.
2. ``delivery_attempt`` takes the claim over with a guarded update (same
   token, still pending) and a new token for ``WEBHOOK_SEND_LEASE_SECONDS``:
   a second copy of the message finds the token changed and does nothing.
3. It signs and POSTs, then records the attempt and the outcome under its own
   token: delivered (2xx), failed (410, which also disables the endpoint; or
   the schedule is spent) or pending again at ``now`` + the schedule's next
   delay (at least the receiver's ``Retry-After``).

A lost message or a dead worker leaves a claim that runs out; the next sweep
sends the delivery again, with the same ``webhook-id`` (the event id), so a
receiver that got the first copy recognizes the second.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from standardwebhooks.webhooks import Webhook

from certhub.api.fields import format_utc
from events.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from events.transport import Answer, post

logger = logging.getLogger("certhub.webhooks")

CLAIM_CHUNK = 500
# A Retry-After longer than this is read as this (a receiver cannot park a delivery for a month).
MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class Claim:
    """Deliveries claimed for the queue, and the token their messages carry."""

    pks: list[int]
    token: str


def deliveries_claim(*, now: dt.datetime, limit: int = CLAIM_CHUNK) -> Claim:
    """Claim up to ``limit`` due deliveries for the queue (step 1); return them with the claim's token."""
    token = uuid.uuid4().hex
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    due = WebhookDelivery.objects.filter(free, state=DeliveryState.PENDING, next_attempt_at__lte=now)
    with transaction.atomic():
        listed = due.order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            listed = listed.select_for_update(skip_locked=True)
        pks = list(listed.values_list("pk", flat=True)[:limit])
        if not pks:
            return Claim(pks=[], token=token)
        due.filter(pk__in=pks).update(
            claim_token=token, claimed_until=now + dt.timedelta(seconds=settings.WEBHOOK_QUEUE_LEASE_SECONDS)
        )
        claimed = list(WebhookDelivery.objects.filter(pk__in=pks, claim_token=token).values_list("pk", flat=True))
    return Claim(pks=claimed, token=token)


def signature_header(endpoint: WebhookEndpoint, *, msg_id: str, timestamp: dt.datetime, body: str) -> str:
    """``webhook-signature``: one ``v1,`` signature per valid secret (both during a rotation's overlap)."""
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > timestamp:
        secrets.append(endpoint.previous_secret)
    return " ".join(Webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=body) for secret in secrets)


def delivery_request(delivery: WebhookDelivery, *, now: dt.datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt (Standard Webhooks), signed at ``now``."""
    event = delivery.event
    body = json.dumps(
        {"type": event.type, "timestamp": format_utc(event.occurred_at), "data": event.data}, separators=(",", ":")
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CertHub-Webhooks/1",
        "webhook-id": event.event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(delivery.endpoint, msg_id=event.event_id, timestamp=now, body=body),
    }
    return body.encode(), headers


def retry_after_seconds(value: str | None, *, now: dt.datetime) -> float:
    """A ``Retry-After`` header (seconds or an HTTP date) in seconds from ``now``; 0 if absent or unreadable."""
    if not value:
        return 0.0
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)


def delivery_attempt(*, pk: int, token: str, now: dt.datetime) -> str | None:
    """Send one claimed delivery once (steps 2 and 3); return its state after, or None if not ours to send."""
    mine = uuid.uuid4().hex
    taken = WebhookDelivery.objects.filter(pk=pk, state=DeliveryState.PENDING, claim_token=token).update(
        claim_token=mine, claimed_until=now + dt.timedelta(seconds=settings.WEBHOOK_SEND_LEASE_SECONDS)
    )
    if not taken:
        return None
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=pk)
    if not delivery.endpoint.is_active:
        answer = Answer(error=f"not sent: the endpoint is disabled ({delivery.endpoint.disabled_reason or 'by staff'})")
        return _record(delivery, answer=answer, now=now, token=mine, final=True)
    body, headers = delivery_request(delivery, now=now)
    answer = post(delivery.endpoint.url, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    return _record(delivery, answer=answer, now=now, token=mine)


def _record(delivery: WebhookDelivery, *, answer: Answer, now: dt.datetime, token: str, final: bool = False) -> str:
    """Keep the attempt and move the delivery on, under our claim's token."""
    attempts = delivery.attempts + 1
    changes: dict = {"attempts": attempts, "last_status_code": answer.status, "claim_token": "", "claimed_until": None}
    status = answer.status
    error = answer.error
    if status is not None and 200 <= status < 300 and not final:
        changes.update(state=DeliveryState.DELIVERED, completed_at=now, next_attempt_at=None)
    elif status == 410 or final or attempts > len(settings.WEBHOOK_RETRY_SCHEDULE):
        changes.update(state=DeliveryState.FAILED, completed_at=now, next_attempt_at=None)
    else:
        delay = max(
            settings.WEBHOOK_RETRY_SCHEDULE[attempts - 1],
            retry_after_seconds(answer.headers.get("retry-after"), now=now),
        )
        changes.update(next_attempt_at=now + dt.timedelta(seconds=delay))
    if status is not None and 300 <= status < 400:
        error = error or f"redirect not followed (Location: {answer.headers.get('location', '')[:200]})"
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=token).update(**changes)
        if not updated:
            logger.warning("webhook delivery %s: claim lost while sending; attempt not recorded", delivery.delivery_id)
            return delivery.state
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=WebhookAttempt.objects.filter(delivery=delivery).count() + 1,
            attempted_at=now,
            url=delivery.endpoint.url,
            status_code=status,
            latency_ms=answer.latency_ms,
            response_body=answer.body.decode("utf-8", "replace"),
            error=error,
        )
        if status == 410:
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, is_active=True).update(
                is_active=False, disabled_reason=f"The receiver answered 410 Gone on {format_utc(now)}.", updated_at=now
            )
    return changes.get("state", DeliveryState.PENDING)
