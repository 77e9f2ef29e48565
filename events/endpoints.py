"""Writes to webhook endpoints and deliveries: create, change, rotate the secret, send a test, delete, replay.

The admin and the API call these; each checks the URL (``netguard``) when it changes.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from certhub.api.fields import format_utc
from certhub.errors import Conflict, RuleViolation
from certhub.ids import create_with_unique_id
from certifications.totals.states import tally_moved, tally_rows_deleted
from events.models import FEED_TYPES, DeliveryState, EventType, WebhookDelivery, WebhookEndpoint
from events.netguard import url_addresses
from events.outbox import deliveries_create, dispatch_after_commit, events_write

EDITABLE = ("url", "event_types", "description", "is_active")


def new_secret() -> str:
    """``whsec_`` and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def event_types_check(value: Sequence[str]) -> list[str]:
    """A subscription: distinct feed types (empty: every type); ``RuleViolation`` otherwise."""
    if not isinstance(value, list | tuple) or not all(isinstance(each, str) for each in value):
        raise RuleViolation("event_types is a list of event types.", fields={"event_types": ["A list of strings."]})
    unknown = sorted(set(value) - set(FEED_TYPES))
    if unknown:
        raise RuleViolation(
            f"Unknown event types: {', '.join(unknown)}.", fields={"event_types": [f"Unknown: {', '.join(unknown)}."]}
        )
    if len(set(value)) != len(value):
        raise RuleViolation("Each event type once.", fields={"event_types": ["Each event type once."]})
    return list(value)


def endpoint_create(
    *, url: str, now: dt.datetime, event_types: Sequence[str] = (), description: str = ""
) -> WebhookEndpoint:
    """Create an active endpoint with a fresh secret (shown to the caller once: it is ``endpoint.secret``)."""
    url_addresses(url)
    return create_with_unique_id(
        WebhookEndpoint,
        field="endpoint_id",
        prefix="whe_",
        values={
            "url": url,
            "event_types": event_types_check(list(event_types)),
            "description": description,
            "secret": new_secret(),
            "created_at": now,
            "updated_at": now,
        },
    )


def endpoint_update(*, endpoint: WebhookEndpoint, changes: dict[str, Any], now: dt.datetime) -> WebhookEndpoint:
    """Change an endpoint's URL, types, description or active flag; re-activating clears the disabled reason."""
    if "url" in changes and changes["url"] != endpoint.url:
        url_addresses(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = event_types_check(changes["event_types"])
    for name, value in changes.items():
        if name not in EDITABLE:
            raise RuleViolation(f"{name} cannot be changed.", fields={name: ["This field is read-only."]})
        setattr(endpoint, name, value)
    if changes.get("is_active") is True:
        endpoint.disabled_reason = ""
    endpoint.updated_at = now
    endpoint.save()
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, now: dt.datetime) -> WebhookEndpoint:
    """A new secret; the current one keeps signing (beside it) for ``WEBHOOK_SECRET_OVERLAP_HOURS``.

    ``Conflict`` while an earlier rotation's overlap runs: its old secret was promised
    until then, and an endpoint signs with at most two secrets (decision 0026).
    """
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        overlap_end = endpoint.previous_secret_expires_at
        if endpoint.previous_secret and overlap_end is not None and overlap_end > now:
            until = format_utc(overlap_end)
            raise Conflict(
                f"The previous rotation's old secret is valid until {until}; rotate again after that.",
                previous_secret_valid_until=until,
            )
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + dt.timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
        endpoint.secret = new_secret()
        endpoint.updated_at = now
        endpoint.save()
    return endpoint


def endpoint_send_test(*, endpoint: WebhookEndpoint, now: dt.datetime) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to this endpoint alone (not in the feed); return its delivery."""
    with transaction.atomic():
        [event] = events_write(items=[(EventType.WEBHOOK_TEST, {"endpoint_id": endpoint.endpoint_id})], occurred_at=now)
        deliveries_create(pairs=[(event, endpoint.pk, endpoint.endpoint_id)], now=now)
    return WebhookDelivery.objects.select_related("event", "endpoint").get(event=event, endpoint=endpoint)


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its deliveries and their attempts; the deliveries leave their states' tally."""
    with transaction.atomic():
        tally_rows_deleted(WebhookDelivery.objects.filter(endpoint_id=endpoint.pk))
        endpoint.delete()


def delivery_replay(*, delivery: WebhookDelivery, now: dt.datetime) -> bool:
    """Send a delivered or failed delivery again, with a fresh retry schedule; False if it is still pending."""
    with transaction.atomic():
        done = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).exclude(state=DeliveryState.PENDING)
        before = done.values_list("state", flat=True).first()
        if before is None:
            return False
        done.update(
            state=DeliveryState.PENDING,
            attempts=0,
            next_attempt_at=now,
            completed_at=None,
            claim_token="",
            claimed_until=None,
        )
        tally_moved(WebhookDelivery, before=before, after=DeliveryState.PENDING)
        dispatch_after_commit()
    return True
