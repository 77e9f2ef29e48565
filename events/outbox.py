"""Writing the outbox: events and their deliveries, in the transaction of the change they describe.

``certifications.services.effects`` calls the functions named after its hooks;
each writes its events set-based (one insert whatever their number) and one
delivery per event and matching active endpoint (one more insert), then asks,
once the transaction commits, for the due deliveries to be sent. Statements
per call, whatever the number of events: a check that the drawn event ids are
free, the events' insert, the active endpoints' read, the deliveries' insert
and their states' tally's (only when an endpoint matches; decision 0044); plus one
read of the rows' ids in the job's hooks.
On PostgreSQL the job's hooks, which write thousands of events a batch, build
them and their deliveries from the rows in the database instead: the id check
and one statement (``_events_insert_select``, the tally included), the same rows
without a Python object per event; a batch's ``mentor.paused`` events are a part
of the batch's own statement (``events.batch_part``, decision 0053).

Event ``data`` is thin: ids, states and dates, never names, emails or free text.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from certhub.api.fields import format_utc
from certhub.ids import fresh_ids, new_id
from certhub.sql import bigint_array, dialect
from certifications import representation
from certifications.changes import CertificationChange, MentorChange, RenewalRequestChange
from certifications.models import Certification, CertificationStatus, CertificationType, Mentor
from certifications.renewals import representation as renewal_representation
from certifications.totals import states
from events.models import DeliveryState, Event, EventType, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger("certhub.webhooks")

EVENT_PREFIX = "evt_"
EVENT_ID_LENGTH = 12
DELIVERY_PREFIX = "whd_"
UTC_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'  # to_char's spelling of format_utc (to the second)
CERT, MENTOR, CTYPE = Certification._meta.db_table, Mentor._meta.db_table, CertificationType._meta.db_table
EVENT, DELIVERY, ENDPOINT = Event._meta.db_table, WebhookDelivery._meta.db_table, WebhookEndpoint._meta.db_table


def delivery_id_for(event_id: str, endpoint_id: str) -> str:
    """A delivery's id: its event's and endpoint's random parts (unique as the pair is, drawn from nothing)."""
    return DELIVERY_PREFIX + event_id[len(EVENT_PREFIX) :] + endpoint_id[len("whe_") :]


def endpoint_wants(event_types: Sequence[str], type_: str) -> bool:
    """Whether an endpoint subscribed to ``event_types`` (empty: every type) receives events of ``type_``."""
    if type_ == EventType.WEBHOOK_TEST:
        return False  # a test event goes to the one endpoint it was asked for
    return not event_types or type_ in event_types


def events_write(*, items: Sequence[tuple[str, dict[str, Any]]], occurred_at: dt.datetime) -> list[Event]:
    """Insert one event per ``(type, data)`` of ``items`` and its deliveries; return the events.

    Call inside the transaction of the change: the events and deliveries commit
    or roll back with it, and the deliveries are sent only after the commit.
    """
    if not items:
        return []
    ids = fresh_ids(Event, field="event_id", prefix=EVENT_PREFIX, count=len(items), generate=_new_event_id)
    events = [
        Event(event_id=event_id, type=type_, occurred_at=occurred_at, data=data)
        for event_id, (type_, data) in zip(ids, items, strict=True)
    ]
    dialect().insert_objects(events)
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True).values_list("pk", "endpoint_id", "event_types"))
    deliveries_create(
        pairs=[
            (event, endpoint_pk, endpoint_id)
            for endpoint_pk, endpoint_id, event_types in endpoints
            for event in events
            if endpoint_wants(event_types, event.type)
        ],
        now=occurred_at,
    )
    return events


def deliveries_create(*, pairs: Sequence[tuple[Event, int, str]], now: dt.datetime) -> int:
    """Insert a pending delivery, due at ``now``, per ``(event, endpoint pk, endpoint id)``; send them after commit."""
    if not pairs:
        return 0
    dialect().insert_objects(
        [
            WebhookDelivery(
                delivery_id=delivery_id_for(event.event_id, endpoint_id),
                event_id=event.pk,
                endpoint_id=endpoint_pk,
                next_attempt_at=now,
                created_at=now,
            )
            for event, endpoint_pk, endpoint_id in pairs
        ]
    )
    states.tally_states(WebhookDelivery, {DeliveryState.PENDING: len(pairs)})
    dispatch_after_commit()
    return len(pairs)


def _new_event_id(prefix: str) -> str:
    return new_id(prefix, EVENT_ID_LENGTH)


def dispatch_after_commit() -> None:
    """Once the current transaction commits, ask a worker to send what is due (unless turned off)."""
    if settings.WEBHOOK_DISPATCH_ON_COMMIT:
        transaction.on_commit(_dispatch_soon, robust=True)


def _dispatch_soon() -> None:
    """Ask a worker to send what is due now (the periodic sweep sends it anyway if this message is lost)."""
    from events.tasks import dispatch_deliveries

    try:
        dispatch_deliveries.apply_async(retry=False)
    except Exception:  # the broker is down: the sweep finds these deliveries once it is back
        logger.warning("webhook deliveries not enqueued now (broker unreachable); the periodic sweep will send them")


# --- The hooks' events ------------------------------------------------------------------


def certification_data(cert) -> dict[str, Any]:
    """A certification's thin event data (``representation.EVENT``)."""
    return representation.represent(representation.EVENT, representation.read(cert, representation.EVENT))


# The event of each kind of certification write (the kind is derived from the write, ``certification_change``).
CERTIFICATION_EVENTS = {
    CertificationChange.CREATED: EventType.CERTIFICATION_CREATED,
    CertificationChange.UPDATED: EventType.CERTIFICATION_UPDATED,
    CertificationChange.RENEWED: EventType.CERTIFICATION_RENEWED,
    CertificationChange.REVOKED: EventType.CERTIFICATION_REVOKED,
    CertificationChange.DELETED: EventType.CERTIFICATION_DELETED,
    CertificationChange.RESTORED: EventType.CERTIFICATION_RESTORED,
}


def certification_written(
    *, change: CertificationChange, before: dict[str, Any] | None, after, now: dt.datetime
) -> None:
    """The event of one record write's kind (``certification.renewed`` also says the previous expiry)."""
    data = certification_data(after)
    if change == CertificationChange.RENEWED:
        data["previous_expires_at"] = format_utc(before["expires_at"])
    events_write(items=[(CERTIFICATION_EVENTS[change], data)], occurred_at=now)


def certifications_created(*, pks: Sequence[int], now: dt.datetime) -> None:
    """``certification.created`` for each record ``pks`` of a bulk create (``_records_events``)."""
    _records_events(type_=EventType.CERTIFICATION_CREATED, names=representation.EVENT, pks=pks, now=now)


def mentor_written(*, change: MentorChange, before: dict[str, Any] | None, after, now: dt.datetime, log=None) -> None:
    """``mentor.paused`` (staff), ``mentor.resumed`` (staff, or automatically after a write), ``mentor.erased``."""
    if change == MentorChange.ERASED:
        data = {"mentor_id": after.mentor_id, "erased_at": format_utc(after.erased_at)}
        events_write(items=[(EventType.MENTOR_ERASED, data)], occurred_at=now)
        return
    if change == MentorChange.PAUSED:
        data = {
            "mentor_id": after.mentor_id,
            "status": after.status,
            "paused_by": after.paused_by,
            "paused_at": format_utc(after.paused_at),
        }
        events_write(items=[(EventType.MENTOR_PAUSED, data)], occurred_at=now)
        return
    if change != MentorChange.RESUMED:
        return  # a mentor created or edited (name, email) is no event of the feed's list
    data = {
        "mentor_id": after.mentor_id,
        "status": after.status,
        "resumed_at": format_utc(now),
        "resumed_by": "auto" if log is not None else "staff",
        "was_paused_by": before.get("paused_by") or None,
        "certification_id": log.certification.certification_id if log is not None else None,
    }
    events_write(items=[(EventType.MENTOR_RESUMED, data)], occurred_at=now)


# The event of each kind of renewal request write (``renewal_request_change``).
RENEWAL_REQUEST_EVENTS = {
    RenewalRequestChange.SUBMITTED: EventType.RENEWAL_REQUEST_SUBMITTED,
    RenewalRequestChange.APPROVED: EventType.RENEWAL_REQUEST_APPROVED,
    RenewalRequestChange.REJECTED: EventType.RENEWAL_REQUEST_REJECTED,
    RenewalRequestChange.WITHDRAWN: EventType.RENEWAL_REQUEST_WITHDRAWN,
}


def renewal_request_written(*, change: RenewalRequestChange, request, now: dt.datetime) -> None:
    """``renewal_request.<change>`` with the request's thin payload (an approval's record has its own event)."""
    data = renewal_representation.represent(request, renewal_representation.EVENT)
    events_write(items=[(RENEWAL_REQUEST_EVENTS[change], data)], occurred_at=now)


def job_records_expired(*, pks: Sequence[int], now: dt.datetime, run) -> None:
    """``certification.expired`` for each record of one chunk of the job's step 1 (``_records_events``)."""
    given = {"status": CertificationStatus.EXPIRED, "job_run_id": run.job_run_id}
    _records_events(
        type_=EventType.CERTIFICATION_EXPIRED, names=representation.EXPIRED_EVENT, pks=pks, now=now, given=given
    )


def expired_items(*, pks: Sequence[int], run) -> list[tuple[str, dict[str, Any]]]:
    """The ``certification.expired`` events of records ``pks`` as ``(type, data)``, in primary-key order."""
    given = {"status": CertificationStatus.EXPIRED, "job_run_id": run.job_run_id}
    return _records_items(EventType.CERTIFICATION_EXPIRED, representation.EXPIRED_EVENT, pks, given)


def _records_items(type_: str, names: Sequence[str], pks: Sequence[int], given: dict[str, Any]) -> list[tuple]:
    rows = Certification.objects.filter(pk__in=pks).order_by("pk").values_list(*representation.columns(names))
    return [(type_, {**representation.represent(names, row), **given}) for row in rows]


def _records_events(
    *, type_: str, names: Sequence[str], pks: Sequence[int], now: dt.datetime, given: dict[str, str] | None = None
) -> None:
    """One ``type_`` event per record ``pks``, in primary-key order: fields ``names`` of each, then ``given``.

    On PostgreSQL the events and their deliveries are built from the records in
    the database (``_events_insert_select``); elsewhere one read of the records.
    """
    if not pks:
        return
    given = given or {}
    if connection.vendor == "postgresql":
        constants = "".join(f", '{name}', %s::text" for name in given)
        _events_insert_select(
            type_=type_,
            select_sql=f"""
                SELECT c.id AS sort_key,
                    jsonb_build_object({_jsonb_pairs([name for name in names if name not in given])}{constants}) AS data
                FROM {CERT} c JOIN {MENTOR} m ON m.id = c.mentor_id JOIN {CTYPE} t ON t.id = c.certification_type_id
                WHERE c.id = ANY(%s::bigint[])""",
            params=[*given.values(), bigint_array(pks)],
            count=len(pks),
            occurred_at=now,
        )
        return
    events_write(items=_records_items(type_, names, pks, given), occurred_at=now)


# The SQL aliases of the tables ``_jsonb_pairs`` reads: a certification and the relations its fields follow.
ALIASES = {"": "c", "mentor": "m", "certification_type": "t"}


def _jsonb_pairs(names: Sequence[str]) -> str:
    """``jsonb_build_object``'s arguments for fields ``names``, read as ``representation.columns`` reads them.

    A timestamp is rendered as ``format_utc`` renders it (``to_char``, to the second).
    """
    pairs = []
    for name in names:
        field = representation.SPEC[name]
        relation = field.path.rpartition("__")[0]
        column = f"{ALIASES[relation]}.{field.model_field.column}"
        if field.time:
            column = f"to_char({column} AT TIME ZONE 'UTC', '{UTC_FORMAT}')"
        pairs.append(f"'{name}', {column}")
    return ", ".join(pairs)


def job_batch_applied(
    *, flagged: Sequence[int], paused: Sequence[int], now: dt.datetime, run, in_statement: bool = False
) -> None:
    """``mentor.paused`` (by ``auto``) for each mentor one job batch paused (as ``job_records_expired``).

    Written here unless the batch's statement wrote them (``in_statement``, ``job_batch_part``).
    """
    if not paused or in_statement:
        return
    if connection.vendor == "postgresql":
        _events_insert_select(
            type_=EventType.MENTOR_PAUSED,
            select_sql=f"""
                SELECT m.id AS sort_key, jsonb_build_object(
                    'mentor_id', m.mentor_id, 'status', 'paused', 'paused_by', 'auto',
                    'paused_at', %s::text, 'job_run_id', %s::text) AS data
                FROM {MENTOR} m WHERE m.id = ANY(%s::bigint[])""",
            params=[format_utc(now), run.job_run_id, bigint_array(paused)],
            count=len(paused),
            occurred_at=now,
        )
        return
    events_write(items=paused_items(paused=paused, now=now, run=run), occurred_at=now)


def paused_items(*, paused: Sequence[int], now: dt.datetime, run) -> list[tuple[str, dict[str, Any]]]:
    """The ``mentor.paused`` events of mentors ``paused`` (by the job's ``run``) as ``(type, data)``, in key order."""
    mentor_ids = Mentor.objects.filter(pk__in=paused).order_by("pk").values_list("mentor_id", flat=True)
    data = {"status": "paused", "paused_by": "auto", "paused_at": format_utc(now), "job_run_id": run.job_run_id}
    return [(EventType.MENTOR_PAUSED, {"mentor_id": mentor_id, **data}) for mentor_id in mentor_ids]


def _events_insert_select(
    *, type_: str, select_sql: str, params: list[Any], count: int, occurred_at: dt.datetime
) -> None:
    """PostgreSQL: one ``type_`` event per row of ``select_sql`` and their deliveries, in one statement.

    ``select_sql`` yields ``sort_key`` (the events' order) and ``data`` (jsonb),
    at most ``count`` rows. The ids are drawn and checked free as
    ``events_write`` draws them; the deliveries go to every active endpoint
    that wants ``type_`` (``endpoint_wants``), due at once, and are added to
    their state's tally by the same statement. The events and deliveries are
    exactly those ``events_write`` writes for the same rows, without building a
    Python object per row: the job writes thousands a batch.
    """
    ids = fresh_ids(Event, field="event_id", prefix=EVENT_PREFIX, count=count, generate=_new_event_id)
    sql = f"""
        WITH source AS ({select_sql}),
        numbered AS (SELECT data, row_number() OVER (ORDER BY sort_key) AS n FROM source),
        written AS (
            INSERT INTO {EVENT} (event_id, type, occurred_at, data)
            SELECT drawn.event_id, %s, %s, numbered.data
            FROM numbered JOIN unnest(%s::text[]) WITH ORDINALITY AS drawn(event_id, n) USING (n)
            ORDER BY numbered.n
            RETURNING id, event_id
        ),
        delivered AS (
            INSERT INTO {DELIVERY} (delivery_id, event_id, endpoint_id, state, attempts, next_attempt_at,
                                    claim_token, created_at)
            SELECT '{DELIVERY_PREFIX}' || substr(w.event_id, {len(EVENT_PREFIX) + 1}) || substr(e.endpoint_id, 5),
                   w.id, e.id, %s, 0, %s, '', %s
            FROM written w JOIN {ENDPOINT} e ON e.is_active AND (e.event_types = '[]'::jsonb OR e.event_types ? %s)
            ORDER BY w.id, e.id
            RETURNING state
        )
        {states.insert_sql(WebhookDelivery, "delivered")}"""
    drawn = "{" + ",".join(ids) + "}"  # Crockford ids: nothing to quote
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [*params, type_, occurred_at, drawn, DeliveryState.PENDING, occurred_at, occurred_at, type_],
        )
        if cursor.rowcount:  # a tally row: some deliveries were written
            dispatch_after_commit()


def job_run_finished(*, run) -> None:
    """``expiry_job.completed`` when a non-dry run ended, succeeded or failed."""
    data = {
        "job_run_id": run.job_run_id,
        "state": run.state,
        "started_at": format_utc(run.started_at),
        "completed_at": format_utc(run.completed_at),
        **representation.run_counters(run),
        "failures": len(run.failures),
    }
    events_write(items=[(EventType.EXPIRY_JOB_COMPLETED, data)], occurred_at=run.completed_at or run.started_at)
