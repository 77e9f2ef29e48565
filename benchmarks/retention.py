"""The retention benchmark's data: old events, each with a delivered delivery and its attempt, seeded in SQL.

PostgreSQL only: three ``INSERT ... SELECT`` over ``generate_series`` write a
million rows each in a minute or so, with positions above the feed's last,
events ``--age-days`` old (past ``RETENTION_EVENTS_DAYS``), their deliveries
delivered (past ``RETENTION_DELIVERIES_DAYS``) to one inactive endpoint.
Seeded rows carry ``evt_R``/``whd_R`` ids, so a later run finds and removes
what an earlier one left.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from certhub.ids import new_id
from events.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint

EVENT, DELIVERY, ATTEMPT = Event._meta.db_table, WebhookDelivery._meta.db_table, WebhookAttempt._meta.db_table
ENDPOINT_URL = "https://retention.bench.invalid/hook"

_EVENTS = f"""
INSERT INTO {EVENT} (event_id, sequence, type, occurred_at, data)
SELECT 'evt_R' || lpad(g::text, 11, '0'),
       (SELECT COALESCE(MAX(sequence), 0) FROM {EVENT}) + g,
       'mentor.paused',
       now() - make_interval(days => %(age_days)s) + g * interval '1 millisecond',
       jsonb_build_object('mentor_id', 'mntr_' || lpad((g %% 50000)::text, 9, '0'), 'status', 'paused')
FROM generate_series(1, %(count)s) AS g
"""
_DELIVERIES = f"""
INSERT INTO {DELIVERY} (delivery_id, event_id, endpoint_id, state, attempts, next_attempt_at, claimed_until,
                        claim_token, last_status_code, created_at, completed_at)
SELECT 'whd_R' || substr(e.event_id, 6), e.id, %(endpoint)s, 'delivered', 1, NULL, NULL, '', 200,
       e.occurred_at, e.occurred_at
FROM {EVENT} e WHERE e.event_id LIKE 'evt_R%%'
"""
_ATTEMPTS = f"""
INSERT INTO {ATTEMPT} (delivery_id, number, attempted_at, url, status_code, latency_ms, response_body, error)
SELECT d.id, 1, d.created_at, %(url)s, 200, 12, 'ok', ''
FROM {DELIVERY} d WHERE d.delivery_id LIKE 'whd_R%%'
"""


def seed_old_events(*, count: int, age_days: int) -> WebhookEndpoint:
    """Remove an earlier run's rows, then write ``count`` old events, deliveries and attempts; return the endpoint."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {ATTEMPT} WHERE delivery_id IN (SELECT id FROM {DELIVERY} WHERE delivery_id LIKE 'whd_R%%')"
        )
        cursor.execute(f"DELETE FROM {DELIVERY} WHERE delivery_id LIKE 'whd_R%%'")
        cursor.execute(f"DELETE FROM {EVENT} WHERE event_id LIKE 'evt_R%%'")
        endpoint, _ = WebhookEndpoint.objects.get_or_create(
            url=ENDPOINT_URL,
            defaults={
                "endpoint_id": new_id("whe_"),
                "secret": "whsec_retention_bench",
                "is_active": False,
                "disabled_reason": "the retention benchmark's endpoint",
                "created_at": now,
                "updated_at": now,
            },
        )
        cursor.execute(_EVENTS, {"age_days": age_days, "count": count})
        cursor.execute(_DELIVERIES, {"endpoint": endpoint.pk})
        cursor.execute(_ATTEMPTS, {"url": ENDPOINT_URL})
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {EVENT}, {DELIVERY}, {ATTEMPT}")
    return endpoint


def seeded_counts() -> dict[str, int]:
    """How many of the seeded rows are still there."""
    return {
        "events": Event.objects.filter(event_id__startswith="evt_R").count(),
        "deliveries": WebhookDelivery.objects.filter(delivery_id__startswith="whd_R").count(),
        "attempts": WebhookAttempt.objects.filter(delivery__delivery_id__startswith="whd_R").count(),
    }
