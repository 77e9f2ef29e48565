"""Retention of events and webhook deliveries: the window's both sides, what is in flight, batches, the 410 cursor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certhub.retention import retention_apply
from events.feed import events_publish, feed_expired, feed_read
from events.models import DeliveryState, Event, WebhookAttempt, WebhookDelivery
from events.outbox import events_write
from tests.certifications.api_helpers import assert_error, client_with
from tests.events.helpers import endpoint

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 4, 3, 30, tzinfo=dt.UTC)
EVENTS_CUTOFF = NOW - dt.timedelta(days=400)
DELIVERIES_CUTOFF = NOW - dt.timedelta(days=90)
SECOND = dt.timedelta(seconds=1)


def write(at: dt.datetime, *, publish: bool = True) -> Event:
    [event] = events_write(items=[("mentor.paused", {"mentor_id": "mntr_02BY7M3RL"})], occurred_at=at)
    if publish:
        events_publish()
    return event


def delivery_of(event: Event, state: str = DeliveryState.DELIVERED) -> WebhookDelivery:
    """The event's one delivery, put in ``state`` (with an attempt when it was tried)."""
    delivery = WebhookDelivery.objects.get(event=event)
    done = state != DeliveryState.PENDING
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state,
        attempts=int(done),
        completed_at=event.occurred_at if done else None,
        next_attempt_at=None if done else event.occurred_at,
    )
    if done:
        WebhookAttempt.objects.create(
            delivery=delivery, number=1, attempted_at=event.occurred_at, url="https://hooks.example.org/certhub"
        )
    return delivery


def kinds(report) -> dict[str, tuple[int, int]]:
    return {kind.kind: (kind.rows, kind.batches) for kind in report.kinds}


def exists(row) -> bool:
    return type(row).objects.filter(pk=row.pk).exists()


def test_delivered_deliveries_go_after_the_window_and_pending_or_failed_ones_stay():
    endpoint()
    old, at_cutoff = write(DELIVERIES_CUTOFF - SECOND), write(DELIVERIES_CUTOFF)
    pending_old, failed_old = write(DELIVERIES_CUTOFF - SECOND), write(DELIVERIES_CUTOFF - SECOND)
    gone, kept = delivery_of(old), delivery_of(at_cutoff)
    pending, failed = delivery_of(pending_old, DeliveryState.PENDING), delivery_of(failed_old, DeliveryState.FAILED)

    report = retention_apply(now=NOW)

    assert kinds(report)["webhook_deliveries"][0] == 1
    assert not exists(gone) and not WebhookAttempt.objects.filter(delivery_id=gone.pk).exists()
    assert exists(kept) and exists(pending) and exists(failed)
    assert WebhookAttempt.objects.filter(delivery_id=failed.pk).exists()
    assert Event.objects.count() == 4  # the events are inside their own window


def test_events_go_after_the_window_unless_in_flight_unpublished_or_the_newest():
    endpoint()
    old, with_failed, in_flight = (write(EVENTS_CUTOFF - SECOND) for _ in range(3))
    at_cutoff = write(EVENTS_CUTOFF)
    delivery_of(old)
    failed = delivery_of(with_failed, DeliveryState.FAILED)
    pending = delivery_of(in_flight, DeliveryState.PENDING)
    delivery_of(at_cutoff)
    unpublished = write(EVENTS_CUTOFF - SECOND, publish=False)

    report = retention_apply(now=NOW)

    assert kinds(report)["events"][0] == 2
    assert not exists(old) and not exists(with_failed)
    assert not exists(failed) and not WebhookAttempt.objects.filter(delivery_id=failed.pk).exists()
    assert exists(in_flight) and exists(pending) and exists(at_cutoff) and exists(unpublished)


def test_the_newest_published_event_stays_so_positions_never_start_again():
    newest = write(EVENTS_CUTOFF - dt.timedelta(days=1))
    write(EVENTS_CUTOFF - dt.timedelta(days=2))  # published later: the newest position
    retention_apply(now=NOW)
    assert list(Event.objects.values_list("sequence", flat=True)) == [2]
    assert not exists(newest)
    later = write(NOW)
    assert Event.objects.get(pk=later.pk).sequence == 3


def test_a_dry_run_changes_nothing_and_counts_what_would_go():
    endpoint()
    for _ in range(3):
        delivery_of(write(EVENTS_CUTOFF - SECOND))
    write(NOW)
    before = (Event.objects.count(), WebhookDelivery.objects.count(), WebhookAttempt.objects.count())

    report = retention_apply(now=NOW, dry_run=True)

    assert report.dry_run is True
    assert kinds(report)["webhook_deliveries"][0] == 3 and kinds(report)["events"][0] == 3
    assert (Event.objects.count(), WebhookDelivery.objects.count(), WebhookAttempt.objects.count()) == before
    assert not feed_expired()


def test_the_batch_size_splits_the_work_into_short_statements():
    events = [write(EVENTS_CUTOFF - SECOND) for _ in range(7)]
    write(NOW)
    with CaptureQueriesContext(connection) as queries:
        report = retention_apply(now=NOW, batch_size=3)
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('DELETE FROM "events_event"')]
    assert kinds(report)["events"] == (7, 3)  # ids 1-3, 4-6, 7-8
    assert len(deletes) == 3
    assert not Event.objects.filter(pk__in=[event.pk for event in events]).exists()
    assert kinds(retention_apply(now=NOW, batch_size=100))["events"] == (0, 1)


def test_a_batch_finds_its_rows_by_index_and_never_joins_a_table_with_itself():
    """Per batch: lock the stretch's ids, then delete by those ids (a scan of a whole table per batch is gone)."""
    endpoint()
    for _ in range(4):
        delivery_of(write(EVENTS_CUTOFF - SECOND), DeliveryState.FAILED)  # failed: they go with their event
    write(NOW)
    with CaptureQueriesContext(connection) as queries:
        report = retention_apply(now=NOW, batch_size=100, rest_factor=0)
    assert kinds(report)["events"] == (4, 1)
    statements = [q["sql"] for q in queries.captured_queries if q["sql"].split()[0] in ("SELECT", "DELETE", "WITH")]
    deletes = [sql for sql in statements if sql.startswith("DELETE")]
    assert [sql.split('"')[1] for sql in deletes] == ["events_webhookattempt", "events_webhookdelivery", "events_event"]
    for sql in deletes:
        assert " IN (SELECT" not in sql, sql  # conditions on the table itself, not a join with itself
    assert WebhookDelivery.objects.count() == 1 and WebhookAttempt.objects.count() == 0


def test_a_cursor_naming_a_deleted_event_answers_410_and_one_at_the_oldest_kept_event_works():
    client = client_with("view_event")
    gone = write(EVENTS_CUTOFF - SECOND)
    oldest_kept, newer = write(EVENTS_CUTOFF), write(NOW)
    assert client.get("/api/v1/events", {"after": "evt_0000000000ZZ"}).status_code == 400  # nothing deleted yet

    retention_apply(now=NOW)

    response = client.get("/api/v1/events", {"after": gone.event_id})
    assert_error(response, 410, "cursor_expired")
    assert "beginning of what is kept" in response.json()["error"]["message"]
    assert [item["event_id"] for item in client.get("/api/v1/events").json()["data"]] == [
        oldest_kept.event_id,
        newer.event_id,
    ]
    kept = client.get("/api/v1/events", {"after": oldest_kept.event_id})
    assert kept.status_code == 200 and [item["event_id"] for item in kept.json()["data"]] == [newer.event_id]
    assert feed_read(after=newer.event_id).events == []


def test_the_expired_check_is_one_indexed_lookup(django_assert_num_queries):
    write(EVENTS_CUTOFF - SECOND)
    write(NOW)
    retention_apply(now=NOW)
    with django_assert_num_queries(1):
        assert feed_expired() is True


def test_retention_keeps_the_deliveries_per_state_gauge_exact():
    from django.db.models import Count

    from certifications.totals.states import label, state_totals
    from certifications.totals.tallies import tallies_rebuild

    endpoint()
    old_delivered, old_event = write(DELIVERIES_CUTOFF - SECOND), write(EVENTS_CUTOFF - SECOND)
    delivery_of(old_delivered)
    delivery_of(old_event, DeliveryState.FAILED)
    delivery_of(write(NOW), DeliveryState.PENDING)
    tallies_rebuild()  # the states above were set by hand; count them once

    retention_apply(now=NOW)

    counted = dict(WebhookDelivery.objects.order_by().values_list("state").annotate(n=Count("*")))
    assert counted == {DeliveryState.PENDING: 1}
    assert state_totals()[label(WebhookDelivery)] == counted
