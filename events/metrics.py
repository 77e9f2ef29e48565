"""The outbox's and the webhooks' gauges (registered in ``EventsConfig.ready()``).

Pending events are the few with no ``sequence`` yet (``event_unpublished_idx``, partial);
deliveries per state come from their maintained tally (``totals.states``, decision 0044:
a few rows, whatever the number of deliveries); endpoints are a handful of rows.
"""

from __future__ import annotations

import datetime as dt

from certhub.metrics.gauges import Gauge, age_seconds
from certifications.totals.states import state_gauge
from events.models import DeliveryState, Event, WebhookDelivery, WebhookEndpoint


def _unpublished():
    return Event.objects.filter(sequence__isnull=True)


def outbox_oldest_age(now: dt.datetime) -> float:
    oldest = _unpublished().order_by("id").values_list("occurred_at", flat=True).first()
    return age_seconds(oldest, now)


GAUGES = [
    Gauge(
        "certhub_outbox_pending_events",
        "Events written but not yet published to the feed and webhooks.",
        lambda now: _unpublished().count(),
    ),
    Gauge(
        "certhub_outbox_oldest_pending_age_seconds",
        "Age of the oldest event not yet published (0 when none waits).",
        outbox_oldest_age,
    ),
    Gauge(
        "certhub_webhook_deliveries",
        "Webhook deliveries by state.",
        state_gauge(WebhookDelivery),
        labels=("state",),
        values=[(state,) for state in DeliveryState.values],
    ),
    Gauge(
        "certhub_webhook_endpoints_disabled",
        "Webhook endpoints that are not active (disabled by staff, or by a 410 answer).",
        lambda now: WebhookEndpoint.objects.filter(is_active=False).count(),
    ),
]
