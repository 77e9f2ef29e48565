"""Sending deliveries: claim what is due, sign and POST it, keep the attempt, decide what comes next.

Retry state lives in the database, never in the broker:

1. ``deliveries_claim`` (the sweep: beat every 10 s, a periodic task in the database, and right
   after a write commits) claims the pending deliveries whose
   ``next_attempt_at`` has come and whose claim is free or ran out (PostgreSQL:
   ``FOR UPDATE SKIP LOCKED``, so two sweeps share the work), for
   ``WEBHOOK_QUEUE_LEASE_SECONDS``, with a token; one message per
   ``SEND_BATCH`` deliveries carries their ids and the token. A sweep claims
   ``CLAIM_CHUNK`` at a time, each chunk listed from where the one before stopped.
2. ``deliveries_send`` takes the claims over with a guarded update (same
   token, still pending) and a new token for ``WEBHOOK_SEND_LEASE_SECONDS``:
   a second copy of the message finds the token changed and does nothing.
3. It signs and POSTs each, side by side (threads, each POST bounded by the
   timeout, so a slow receiver holds up no other one's POST), at most
   ``WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT`` at a time to one endpoint, each
   of its lanes taking the endpoint's next delivery as soon as a POST ends,
   for as long as a POST started then still ends inside the send lease (the
   rest is released for the next sweep); then it records every attempt and outcome under its own token
   in one transaction: delivered (2xx), failed (410 or a URL refused for good,
   which also disable the endpoint; or the schedule is spent) or pending again
   at ``now`` + the schedule's next delay (at least the receiver's ``Retry-After``);
   the deliveries that changed state move in their state's tally (``totals.states``).
   What a receiver sent is stored as safe text. Should that transaction fail,
   each delivery is recorded in a savepoint of its own, so one that cannot be
   recorded never undoes the others.

A lost message or a dead worker leaves a claim that runs out; the next sweep
sends the delivery again, with the same ``webhook-id`` (the event id), so a
receiver that got the first copy recognizes the second.
"""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import json
import logging
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from standardwebhooks.webhooks import Webhook

from certhub.api.fields import format_utc
from certifications.totals.states import tally_states
from events.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from events.transport import Answer, Connections, post

logger = logging.getLogger("certhub.webhooks")

# Deliveries one claim lists and locks. A sweep's first listing walks past the deliveries earlier sweeps claimed and
# have not sent yet (its later ones start from a cursor), so a sweep makes few of them: at 1M records (136,036
# deliveries), 500 made the listings a large share of PostgreSQL's time during the drain (docs/benchmarks.md, the
# twelfth round).
CLAIM_CHUNK = 5000
# Deliveries per message, and the POSTs of one message sent side by side (to different endpoints).
SEND_BATCH = 100
SEND_THREADS = 50
# A Retry-After longer than this is read as this (a receiver cannot park a delivery for a month).
MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class Claim:
    """Deliveries claimed for the queue, the token their messages carry, and where the listing stopped.

    ``last`` is the last listed delivery's place in the claim's order, ``(next_attempt_at, pk)``;
    None when nothing was listed.
    """

    pks: list[int]
    token: str
    last: tuple[dt.datetime, int] | None = None


def deliveries_claim(
    *, now: dt.datetime, limit: int = CLAIM_CHUNK, after: tuple[dt.datetime, int] | None = None
) -> Claim:
    """Claim up to ``limit`` due deliveries for the queue (step 1); return them with the claim's token.

    ``after`` (a claim's ``last``) lists only the deliveries after that place in the claim's order, so
    that a sweep's next chunk starts where its previous one stopped instead of walking past every
    delivery that chunk has just claimed. Whatever a sweep passed over (locked by another sweep at
    the time) is listed by the next sweep.
    """
    token = uuid.uuid4().hex
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    due = WebhookDelivery.objects.filter(free, state=DeliveryState.PENDING, next_attempt_at__lte=now)
    listed = due
    if after is not None:
        at, pk = after
        # (next_attempt_at, pk) > (at, pk), written so that the due index's range starts at ``at``.
        listed = listed.filter(Q(next_attempt_at__gt=at) | Q(pk__gt=pk), next_attempt_at__gte=at)
    with transaction.atomic():
        listed = listed.order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            listed = listed.select_for_update(skip_locked=True)
        rows = list(listed.values_list("next_attempt_at", "pk")[:limit])  # in the claim's order, as ``last``
        if not rows:
            return Claim(pks=[], token=token)
        pks = [pk for _, pk in rows]
        due.filter(pk__in=pks).update(
            claim_token=token, claimed_until=now + dt.timedelta(seconds=settings.WEBHOOK_QUEUE_LEASE_SECONDS)
        )
        claimed = list(WebhookDelivery.objects.filter(pk__in=pks, claim_token=token).values_list("pk", flat=True))
    return Claim(pks=claimed, token=token, last=rows[-1])


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


def deliveries_send(*, pks: Sequence[int], token: str, now: dt.datetime) -> dict[int, str]:
    """Send claimed deliveries once each (steps 2 and 3); return the state of each one sent.

    The POSTs of one call go out side by side (a thread each, up to
    ``SEND_THREADS``), so a receiver that takes its full timeout holds up no
    other receiver's POST; the outcomes are then recorded together, in a fixed
    number of statements. Deliveries whose claim is no longer ``token``'s are skipped.
    """
    mine = uuid.uuid4().hex
    pks = list(pks)
    taken = WebhookDelivery.objects.filter(pk__in=pks, state=DeliveryState.PENDING, claim_token=token).update(
        claim_token=mine, claimed_until=now + dt.timedelta(seconds=settings.WEBHOOK_SEND_LEASE_SECONDS)
    )
    if not taken:
        return {}
    # By key and token: the token alone has no index, and every statement of a message reads its own rows only.
    deliveries = list(
        WebhookDelivery.objects.select_related("event", "endpoint").filter(pk__in=pks, claim_token=mine).order_by("pk")
    )
    outcomes: dict[int, tuple[Answer, bool]] = {}
    by_endpoint: dict[int, list[WebhookDelivery]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.endpoint.is_active:
            by_endpoint[delivery.endpoint_id].append(delivery)
        else:
            reason = delivery.endpoint.disabled_reason or "by staff"
            outcomes[delivery.pk] = (Answer(error=f"not sent: the endpoint is disabled ({reason})"), True)
    queues = {endpoint: deque(group) for endpoint, group in by_endpoint.items()}
    width = max(1, settings.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT)
    lanes = [queue for queue in queues.values() for _ in range(min(width, len(queue)))]
    # A POST may take the whole timeout: a lane starts one more only while it would still end, with its
    # record, inside the send lease (else a sweep could send it again). Each lane sends at least one.
    budget = settings.WEBHOOK_SEND_LEASE_SECONDS - 1.5 * settings.WEBHOOK_TIMEOUT_SECONDS
    started = time.monotonic()

    def lane(queue: deque) -> list[tuple[WebhookDelivery, Answer]]:
        sent: list[tuple[WebhookDelivery, Answer]] = []
        with Connections() as connections:  # the lane's POSTs to one receiver share a kept-open connection
            while queue and (not sent or time.monotonic() - started < budget):
                try:
                    delivery = queue.popleft()  # atomic: the endpoint's lanes share its queue
                except IndexError:
                    break
                sent.append((delivery, _send(delivery, now=now, connections=connections)))
        return sent

    with ThreadPoolExecutor(max_workers=max(1, min(SEND_THREADS, len(lanes)))) as pool:
        for sent in pool.map(lane, lanes):
            outcomes |= {delivery.pk: (answer, False) for delivery, answer in sent}
    later = [delivery.pk for queue in queues.values() for delivery in queue]
    if later:  # more for one endpoint than its lanes sent within the lease: the next sweep takes them
        WebhookDelivery.objects.filter(pk__in=later, claim_token=mine).update(claim_token="", claimed_until=None)
    return _record([d for d in deliveries if d.pk in outcomes], outcomes=outcomes, now=now, token=mine)


def delivery_attempt(*, pk: int, token: str, now: dt.datetime) -> str | None:
    """Send one claimed delivery once; its state after, or None if its claim is not ``token``'s."""
    return deliveries_send(pks=[pk], token=token, now=now).get(pk)


def _send(delivery: WebhookDelivery, *, now: dt.datetime, connections: Connections | None = None) -> Answer:
    body, headers = delivery_request(delivery, now=now)
    return post(
        delivery.endpoint.url,
        body=body,
        headers=headers,
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        connections=connections,
    )


def _outcome(delivery: WebhookDelivery, *, answer: Answer, final: bool, now: dt.datetime) -> None:
    """Move ``delivery`` (in memory) to what ``answer`` means: delivered, failed, or pending until its next attempt."""
    delivery.attempts += 1
    delivery.last_status_code = answer.status
    delivery.claim_token, delivery.claimed_until = "", None
    status = answer.status
    if status is not None and 200 <= status < 300 and not final:
        delivery.state, delivery.completed_at, delivery.next_attempt_at = DeliveryState.DELIVERED, now, None
    elif status == 410 or answer.refused or final or delivery.attempts > len(settings.WEBHOOK_RETRY_SCHEDULE):
        delivery.state, delivery.completed_at, delivery.next_attempt_at = DeliveryState.FAILED, now, None
    else:
        delay = max(
            settings.WEBHOOK_RETRY_SCHEDULE[delivery.attempts - 1],
            retry_after_seconds(answer.headers.get("retry-after"), now=now),
        )
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)


def safe_text(data: bytes | str) -> str:
    """What a receiver sent, as text any database keeps: invalid UTF-8 replaced, NUL (refused by PostgreSQL) escaped."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text.replace("\x00", "\\x00")


def _record(
    deliveries: list[WebhookDelivery], *, outcomes: dict[int, tuple[Answer, bool]], now: dt.datetime, token: str
) -> dict[int, str]:
    """Keep every attempt and move each delivery on, where the claim is still ``token``'s.

    One transaction for all; should it fail, one savepoint per delivery (then
    once more without the receiver's answer), so a delivery that cannot be
    recorded leaves the others recorded. One that cannot be recorded at all
    keeps its claim until it runs out and is sent again.
    """
    try:
        with transaction.atomic():
            return _record_together(deliveries, outcomes=outcomes, now=now, token=token)
    except DatabaseError:
        logger.exception("webhook deliveries: recording %d attempts together failed; one by one", len(deliveries))
    states: dict[int, str] = {}
    for delivery in deliveries:
        answer, final = outcomes[delivery.pk]
        bare = Answer(status=answer.status, latency_ms=answer.latency_ms, error="the answer could not be stored")
        for kept in (answer, bare):
            try:
                with transaction.atomic():
                    states |= _record_together([delivery], outcomes={delivery.pk: (kept, final)}, now=now, token=token)
                break
            except DatabaseError:
                logger.exception("webhook delivery %s: the attempt could not be recorded", delivery.pk)
    return states


def _record_together(
    deliveries: list[WebhookDelivery], *, outcomes: dict[int, tuple[Answer, bool]], now: dt.datetime, token: str
) -> dict[int, str]:
    """Keep the attempts and move the deliveries on in a fixed number of statements (the caller's transaction)."""
    # The deliveries still claimed, locked, each with its last attempt's number (a replayed one has attempts
    # before its count restarted): one index probe per delivery (``attempt_number_uniq``, newest first),
    # whatever the planner believes of a table that grew in a burst since it was last analyzed.
    last_attempt = WebhookAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-number").values("number")[:1]
    numbers = dict(
        WebhookDelivery.objects.select_for_update()
        .filter(pk__in=[delivery.pk for delivery in deliveries], claim_token=token)
        .annotate(last=Subquery(last_attempt))
        .values_list("pk", "last")
    )
    still = set(numbers)
    # Copies: a failed try leaves the deliveries as they were for the next one.
    mine = [copy.copy(delivery) for delivery in deliveries if delivery.pk in still]
    for lost in set(outcomes) - still:
        logger.warning("webhook delivery %s: claim lost while sending; attempt not recorded", lost)
    attempts, disabled, moves = [], {}, Counter()
    for delivery in mine:
        answer, final = outcomes[delivery.pk]
        moves[delivery.state] -= 1
        _outcome(delivery, answer=answer, final=final, now=now)
        moves[delivery.state] += 1
        error = answer.error
        if answer.status is not None and 300 <= answer.status < 400:
            error = error or f"redirect not followed (Location: {answer.headers.get('location', '')[:200]})"
        if answer.status == 410 and not final:
            disabled[delivery.endpoint_id] = f"The receiver answered 410 Gone on {format_utc(now)}."
        elif answer.refused and not final:
            disabled[delivery.endpoint_id] = safe_text(
                f"Refused on {format_utc(now)}: {answer.error.removeprefix('refused: ')}"
            )[:255]
        attempts.append(
            WebhookAttempt(
                delivery=delivery,
                number=(numbers[delivery.pk] or 0) + 1,
                attempted_at=now,
                url=delivery.endpoint.url,
                status_code=answer.status,
                latency_ms=answer.latency_ms,
                response_body=safe_text(answer.body),
                error=safe_text(error),
            )
        )
    # One UPDATE per distinct outcome (delivered, failed, retry at one time...): a handful per batch.
    groups: dict[tuple, list[int]] = defaultdict(list)
    for delivery in mine:
        groups[tuple(getattr(delivery, name) for name in RECORDED_FIELDS)].append(delivery.pk)
    for values, pks in groups.items():
        WebhookDelivery.objects.filter(pk__in=pks).update(**dict(zip(RECORDED_FIELDS, values, strict=True)))
    WebhookAttempt.objects.bulk_create(attempts)
    tally_states(WebhookDelivery, moves)
    for endpoint_pk, reason in disabled.items():
        WebhookEndpoint.objects.filter(pk=endpoint_pk, is_active=True).update(
            is_active=False, disabled_reason=reason, updated_at=now
        )
    return {delivery.pk: delivery.state for delivery in mine}


RECORDED_FIELDS = [
    "state",
    "attempts",
    "last_status_code",
    "claim_token",
    "claimed_until",
    "next_attempt_at",
    "completed_at",
]
