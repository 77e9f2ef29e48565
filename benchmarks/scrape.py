"""The scrape benchmark's other tables: webhook deliveries and notifications in realistic numbers (PostgreSQL).

``deliveries_seed`` writes published events and one delivery per event and endpoint
(two endpoints: half as many events as deliveries); ``notifications_seed`` writes
mentor notices over the mentors there are. Both in one ``INSERT … SELECT`` over
``generate_series``, spread over the past year, with states in a running
installation's proportions: deliveries 97 % delivered, 2 % failed, 1 % pending;
notices 95 % sent, 3 % skipped, 1 % failed, 1 % queued. They bypass the services,
so the state tallies are recounted after (``states_rebuild``), as after any bulk load.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import Count
from prometheus_client.parser import text_string_to_metric_families

from benchmarks import webhooks
from certifications.models import Mentor
from certifications.totals.tallies import states_rebuild
from events.models import DeliveryState, Event, WebhookDelivery, WebhookEndpoint
from notifications.models import Notification, NotificationKind, NotificationState

ENDPOINTS = 2
EVENT, DELIVERY, ENDPOINT = Event._meta.db_table, WebhookDelivery._meta.db_table, WebhookEndpoint._meta.db_table
NOTIFICATION, MENTOR = Notification._meta.db_table, Mentor._meta.db_table


def _state(cases: list[tuple[int, str]], default: str) -> str:
    """A ``CASE`` on ``n % 100`` giving each state its share of hundredths (spelled for a statement with parameters)."""
    whens, low = [], 0
    for share, state in cases:
        whens.append(f"WHEN n %% 100 < {low + share} THEN '{state}'")
        low += share
    return f"CASE {' '.join(whens)} ELSE '{default}' END"


def deliveries_seed(count: int, *, now: dt.datetime) -> None:
    """Replace the events and deliveries by ``count`` deliveries to ``ENDPOINTS`` endpoints (made if missing)."""
    missing = ENDPOINTS - WebhookEndpoint.objects.count()
    if missing > 0:
        webhooks.endpoints_create(missing)
    state = _state([(1, DeliveryState.PENDING), (2, DeliveryState.FAILED)], DeliveryState.DELIVERED)
    with transaction.atomic(), connection.cursor() as cursor:
        webhooks.events_clear()
        cursor.execute(
            f"""
            INSERT INTO {EVENT} (event_id, sequence, type, occurred_at, data)
            SELECT 'evt_' || lpad(n::text, 12, '0'), n, 'certification.updated',
                   %(now)s - (n %% 365) * interval '1 day', '{{}}'::jsonb
            FROM generate_series(1, %(events)s) AS n""",
            {"now": now, "events": -(-count // ENDPOINTS)},
        )
        cursor.execute(
            f"""
            WITH rows AS (
                SELECT ev.id AS event_id, ev.event_id AS evt, ev.occurred_at, e.id AS endpoint_id,
                       e.endpoint_id AS whe, row_number() OVER (ORDER BY ev.id, e.id) AS n
                FROM {EVENT} ev CROSS JOIN (SELECT id, endpoint_id FROM {ENDPOINT} ORDER BY id LIMIT %(endpoints)s) e
            ), stated AS (SELECT rows.*, {state} AS state FROM rows WHERE n <= %(count)s)
            INSERT INTO {DELIVERY} (delivery_id, event_id, endpoint_id, state, attempts, next_attempt_at,
                                    claim_token, last_status_code, created_at, completed_at)
            SELECT 'whd_' || substr(evt, 5) || substr(whe, 5), event_id, endpoint_id, state,
                   CASE state WHEN 'delivered' THEN 1 ELSE 3 END,
                   CASE state WHEN 'pending' THEN occurred_at + interval '1 hour' END, '',
                   CASE state WHEN 'delivered' THEN 200 ELSE 503 END, occurred_at,
                   CASE WHEN state <> 'pending' THEN occurred_at + interval '1 second' END
            FROM stated""",
            {"endpoints": ENDPOINTS, "count": count},
        )
        states_rebuild(cursor)


def notifications_seed(count: int, *, now: dt.datetime) -> None:
    """Replace the notifications by ``count`` mentor notices to the mentors there are."""
    state = _state(
        [(1, NotificationState.QUEUED), (1, NotificationState.FAILED), (3, NotificationState.SKIPPED)],
        NotificationState.SENT,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {NOTIFICATION}")
        cursor.execute(
            f"""
            WITH mentors AS (SELECT id, email, row_number() OVER (ORDER BY id) AS k FROM {MENTOR}),
            rows AS (
                SELECT n, {state} AS state, %(now)s - (n %% 365) * interval '1 day' AS created_at,
                       1 + n %% (SELECT count(*) FROM mentors) AS k
                FROM generate_series(1, %(count)s) AS n
            )
            INSERT INTO {NOTIFICATION} (notification_id, kind, mentor_id, recipient, subject, state, attempts,
                                        last_error, created_at, sent_at)
            SELECT 'ntf_' || lpad(n::text, 8, '0'), %(kind)s, m.id, m.email, 'You are paused from mentoring',
                   rows.state, CASE rows.state WHEN 'queued' THEN 0 ELSE 1 END, '', rows.created_at,
                   CASE rows.state WHEN 'sent' THEN rows.created_at + interval '1 minute' END
            FROM rows JOIN mentors m USING (k)""",
            {"now": now, "count": count, "kind": NotificationKind.MENTOR_PAUSED},
        )
        states_rebuild(cursor)


GAUGES = {"certhub_webhook_deliveries": "deliveries", "certhub_notifications": "notifications"}


def scraped_states(text: str) -> dict[str, dict[str, int]]:
    """The state gauges of a scrape's text, as ``real_counts`` spells them (zeros left out)."""
    found: dict[str, dict[str, int]] = {name: {} for name in GAUGES.values()}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in GAUGES and sample.value:
                found[GAUGES[sample.name]][sample.labels["state"]] = int(sample.value)
    return found


def real_counts() -> dict[str, dict[str, int]]:
    """Deliveries and notifications per state, counted from the rows (to check the gauges against)."""
    return {
        name: dict(model.objects.order_by().values_list("state").annotate(n=Count("*")))
        for name, model in (("deliveries", WebhookDelivery), ("notifications", Notification))
    }
