"""The job batch's history rows and events inside its own statement on PostgreSQL (decision 0053).

The batch statement writes the flagged records' and paused mentors' history
rows, the paused mentors' ``mentor.paused`` events, their deliveries and the
deliveries' states' tally (``effects.job_batch_parts``): the rows must be those
the separate statements write (the ORM engine's road), and a drawn event id
already taken must not leave a paused mentor without their event.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import Count

from certifications.history.models import HistoryEntry
from certifications.models import JobState, JobTrigger
from certifications.services import expiry_job_run, mentor_pause
from certifications.services.lapse import expiry_run_create
from certifications.services.lapse.engines import OrmEngine, PostgreSQLEngine
from certifications.totals.states import state_totals
from certifications.totals.tallies import tallies_rebuild
from events import batch_part, outbox
from events.models import Event, EventType, WebhookDelivery
from tests.certifications.services.lapse.helpers import NOW, lapsed_cert
from tests.events.helpers import endpoint
from tests.factories import TEST_ACTOR, MentorFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the batch statement is PostgreSQL's"),
]

FINISHED = EventType.EXPIRY_JOB_COMPLETED  # its data holds the run's own completion time
HISTORY_FIELDS = ("subject", "object_pk", "at", "actor", "user_id", "source", "change", "reason", "changes")


def mixed_batches() -> None:
    """Mentors with one and two due records, one paused by staff (no event of the job's), two endpoints."""
    two = MentorFactory()
    lapsed_cert(two)
    lapsed_cert(two, code="peer_mentor_advanced")
    staff = lapsed_cert()
    mentor_pause(by=TEST_ACTOR, mentor=staff.mentor, now=NOW, reason="On leave")
    for _ in range(4):
        lapsed_cert()
    endpoint()
    endpoint(event_types=[EventType.MENTOR_PAUSED])
    tallies_rebuild()


def written(monkeypatch, engine) -> tuple[list, list, list, dict]:
    """The job's history rows, events and deliveries (but the run's last) and the deliveries' tally with ``engine``."""
    monkeypatch.setattr("certifications.services.lapse.job.batch_engine", engine)
    before = HistoryEntry.objects.count()
    run = expiry_job_run(now=NOW, batch_size=2)
    assert (run.auto_paused, run.failures) == (5, [])
    history = sorted(HistoryEntry.objects.order_by("pk")[before:].values_list(*HISTORY_FIELDS), key=repr)
    events = sorted(Event.objects.exclude(type=FINISHED).values_list("type", "occurred_at", "data"), key=repr)
    deliveries = sorted(
        WebhookDelivery.objects.exclude(event__type=FINISHED).values_list(
            "event__type", "event__data", "endpoint_id", "state", "attempts", "next_attempt_at", "claim_token"
        ),
        key=repr,
    )
    states = state_totals().get("events.webhookdelivery", {})
    assert states == dict(WebhookDelivery.objects.order_by().values_list("state").annotate(n=Count("*")))
    return history, events, deliveries, states


def test_the_statement_writes_the_history_and_events_the_separate_statements_write(monkeypatch):
    mixed_batches()
    with transaction.atomic():
        by_orm = written(monkeypatch, OrmEngine)
        transaction.set_rollback(True)
    in_statement = written(monkeypatch, PostgreSQLEngine)
    assert in_statement == by_orm
    history, events, deliveries, _ = in_statement
    by_job = [data for type_, _, data in events if type_ == EventType.MENTOR_PAUSED and data["paused_by"] == "auto"]
    assert len(by_job) == 5 and sum(1 for row in history if row[0] == "mentor") == 5
    assert sum(1 for row in deliveries if row[0] == EventType.MENTOR_PAUSED) == 2 * 5  # one per endpoint


def test_the_events_ids_are_drawn_per_row_and_well_formed():
    due = [lapsed_cert() for _ in range(3)]
    run = expiry_run_create(now=NOW, dry_run=False, trigger=JobTrigger.API, state=JobState.RUNNING)
    with transaction.atomic():
        PostgreSQLEngine().apply(ids=[cert.pk for cert in due], now=NOW, run=run)
    ids = list(Event.objects.filter(type=EventType.MENTOR_PAUSED).values_list("event_id", flat=True))
    assert len(set(ids)) == 3
    assert all(len(event_id) == 16 and event_id.startswith("evt_") for event_id in ids)
    assert all(set(event_id[4:]) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for event_id in ids)


def test_a_drawn_event_id_already_taken_is_drawn_again(monkeypatch):
    due = [lapsed_cert() for _ in range(3)]
    taken = "evt_TAKEN0000000"
    Event.objects.create(event_id=taken, type=EventType.MENTOR_RESUMED, occurred_at=NOW, data={})
    lowest = min(cert.mentor_id for cert in due)
    drawn = batch_part.DRAWN_EVENT_ID
    assert drawn in batch_part.PAUSED_PART_CTES
    forced = f"CASE WHEN p.id = {lowest} THEN '{taken}' ELSE {drawn} END"
    monkeypatch.setattr(batch_part, "PAUSED_PART_CTES", batch_part.PAUSED_PART_CTES.replace(drawn, forced))
    retried: list[list[int]] = []
    write_apart = outbox.job_batch_applied
    monkeypatch.setattr(
        batch_part, "job_batch_applied", lambda **kw: retried.append(list(kw["paused"])) or write_apart(**kw)
    )
    job = expiry_run_create(now=NOW, dry_run=False, trigger=JobTrigger.API, state=JobState.RUNNING)
    with transaction.atomic():
        result = PostgreSQLEngine().apply(ids=[cert.pk for cert in due], now=NOW, run=job)
    assert result.paused == 3 and retried == [[lowest]]
    paused = Event.objects.filter(type=EventType.MENTOR_PAUSED)
    assert sorted(paused.values_list("data__mentor_id", flat=True)) == sorted(c.mentor.mentor_id for c in due)
    assert Event.objects.get(event_id=taken).type == EventType.MENTOR_RESUMED
