"""A job batch's ``mentor.paused`` events and their deliveries as a part of the batch's own statement.

On PostgreSQL (decision 0053) the batch's statement writes them from its
``paused`` rows: the same events and deliveries ``outbox.job_batch_applied``
writes elsewhere, the ids drawn in SQL.
"""

from __future__ import annotations

import datetime as dt
import json

from certhub.api.fields import format_utc
from certhub.ids import drawn_id_sql
from certifications.services.receivers import BatchPart
from certifications.totals import states
from events.models import DeliveryState, EventType, WebhookDelivery
from events.outbox import (
    DELIVERY,
    DELIVERY_PREFIX,
    ENDPOINT,
    EVENT,
    EVENT_ID_LENGTH,
    EVENT_PREFIX,
    dispatch_after_commit,
    job_batch_applied,
)

# An event id drawn per row in SQL, as ``_new_event_id`` draws it (``certhub.ids.drawn_id_sql``).
DRAWN_EVENT_ID = drawn_id_sql(EVENT_PREFIX, EVENT_ID_LENGTH, row="p.id")


# ``job_batch_applied``'s events and deliveries as parts of the batch's statement, from its ``paused``.
PAUSED_PART_CTES = f"""
    evt_drawn AS MATERIALIZED (
        SELECT p.id, p.public_id, {DRAWN_EVENT_ID} AS event_id FROM paused p
    ),
    evt_written AS (
        INSERT INTO {EVENT} (event_id, type, occurred_at, data)
        SELECT d.event_id, %(evt_type)s, %(evt_now)s, jsonb_build_object(
            'mentor_id', d.public_id, 'status', 'paused', 'paused_by', 'auto',
            'paused_at', %(evt_paused_at)s::text, 'job_run_id', %(evt_run)s::text)
        FROM evt_drawn d
        ORDER BY d.id
        ON CONFLICT (event_id) DO NOTHING
        RETURNING id, event_id, data ->> 'mentor_id' AS public_id
    ),
    evt_delivered AS (
        INSERT INTO {DELIVERY} (delivery_id, event_id, endpoint_id, state, attempts, next_attempt_at,
                                claim_token, created_at)
        SELECT '{DELIVERY_PREFIX}' || substr(w.event_id, {len(EVENT_PREFIX) + 1}) || substr(e.endpoint_id, 5),
               w.id, e.id, %(evt_pending)s, 0, %(evt_now)s, '', %(evt_now)s
        FROM evt_written w
        JOIN {ENDPOINT} e ON e.is_active AND (e.event_types = '[]'::jsonb OR e.event_types ? %(evt_type)s)
        ORDER BY w.id, e.id
        RETURNING state
    ),
    evt_tallied AS ({states.insert_sql(WebhookDelivery, "evt_delivered")})"""

# What comes back: the deliveries written, and the paused mentors left without an event (a drawn id was taken).
PAUSED_PART_ANSWER = """json_build_object(
        'delivered', (SELECT count(*) FROM evt_delivered),
        'missing', (SELECT coalesce(json_agg(d.id ORDER BY d.id), '[]') FROM evt_drawn d
                    WHERE d.public_id NOT IN (SELECT public_id FROM evt_written))
    )::text"""


def job_batch_part(*, now: dt.datetime, run) -> BatchPart:
    """``job_batch_applied``'s rows as a part of the batch's statement (PostgreSQL, decision 0053).

    The same events and deliveries, built from the mentors the statement
    paused; the ids are drawn in SQL and a taken one is skipped (``ON CONFLICT
    DO NOTHING``) instead of checked free first. After the statement, the
    deliveries are sent once the batch commits, and the (vanishingly rare)
    mentors whose drawn id was taken get their event through ``job_batch_applied``.
    """

    def done(answer: str) -> None:
        found = json.loads(answer)
        if found["delivered"]:
            dispatch_after_commit()
        if found["missing"]:
            job_batch_applied(flagged=(), paused=found["missing"], now=now, run=run)

    params = {
        "evt_type": EventType.MENTOR_PAUSED.value,
        "evt_now": now,
        "evt_paused_at": format_utc(now),
        "evt_run": run.job_run_id,
        "evt_pending": DeliveryState.PENDING.value,
    }
    return BatchPart(ctes=PAUSED_PART_CTES, params=params, answer=PAUSED_PART_ANSWER, done=done)
