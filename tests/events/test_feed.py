"""The feed: commit-ordered positions, a cursor that misses nothing, forged and replayed cursors."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from events.feed import InvalidCursor, events_publish, feed_read
from events.models import Event
from events.outbox import events_write

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)


def write(type_: str = "mentor.paused", **data) -> Event:
    [event] = events_write(items=[(type_, data)], occurred_at=NOW)
    return event


def read_all(after: str | None = None, **kwargs) -> tuple[list[str], str | None]:
    """Read the feed to its end from ``after``; return the event ids read and the last cursor."""
    seen: list[str] = []
    while True:
        page = feed_read(after=after, **kwargs)
        seen += [event.event_id for event in page.events]
        after = page.next_cursor
        if not page.has_more:
            return seen, after


@pytest.mark.django_db
def test_events_are_published_in_insertion_order_once():
    for n in range(5):
        write(n=n)
    assert events_publish() == 5
    assert events_publish() == 0
    positions = list(Event.objects.order_by("id").values_list("sequence", flat=True))
    assert positions == sorted(positions) and len(set(positions)) == 5


@pytest.mark.django_db
def test_a_consumer_reads_in_pages_and_resumes_from_its_last_event_id():
    written = [write(n=n).event_id for n in range(7)]
    seen, cursor = read_all(limit=3)
    assert seen == written
    more = [write(n=n).event_id for n in range(7, 9)]
    again, cursor = read_all(after=cursor, limit=3)
    assert again == more
    assert feed_read(after=cursor).events == [] and feed_read(after=cursor).next_cursor == cursor


@pytest.mark.django_db
def test_the_type_filter_keeps_only_those_types_and_test_events_never_show():
    write("mentor.paused")
    resumed = write("mentor.resumed")
    write("webhook.test")
    assert [e.event_id for e in feed_read(after=None, types=["mentor.resumed"]).events] == [resumed.event_id]
    assert {e.type for e in feed_read(after=None).events} == {"mentor.paused", "mentor.resumed"}


@pytest.mark.django_db
def test_a_forged_cursor_is_refused_and_a_replayed_one_reads_the_same_events():
    first, second = write(), write()
    with pytest.raises(InvalidCursor):
        feed_read(after="evt_0000000000ZZ")
    replayed = [feed_read(after=first.event_id).events for _ in range(2)]
    assert [e.event_id for e in replayed[0]] == [e.event_id for e in replayed[1]] == [second.event_id]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_whose_transaction_commits_late_is_not_skipped():
    """Two transactions: the earlier event id commits after the later one, which a reader has already seen."""
    inserted, release = threading.Event(), threading.Event()
    late: dict[str, Event] = {}

    def slow_writer():
        try:
            with transaction.atomic():
                late["event"] = write(n="late")
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert inserted.wait(10)
    early = write(n="early")  # a later id, committed first
    assert early.pk > late["event"].pk
    seen, cursor = read_all()
    assert seen == [early.event_id]
    release.set()
    thread.join(10)
    seen_after, _ = read_all(after=cursor)
    assert seen_after == [late["event"].event_id]
    # In feed order the late event comes after the one it was inserted before.
    assert Event.objects.get(pk=late["event"].pk).sequence > Event.objects.get(pk=early.pk).sequence


@pytest.mark.django_db
def test_a_consumer_reading_between_writes_sees_every_event_once_in_order():
    """Writes and reads interleaved in one thread (SQLite serializes writers: this is its whole story)."""
    seen: list[str] = []
    cursor = None
    for n in range(12):
        for _ in range(n % 3):
            write(n=n)
        page, cursor = read_all(after=cursor, limit=2)
        seen += page
    assert len(seen) == len(set(seen)) == Event.objects.count()
    assert seen == list(Event.objects.order_by("sequence").values_list("event_id", flat=True))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_consumer_reading_while_writes_happen_sees_every_event_once_in_order():
    total = 60
    done = threading.Event()

    def writer():
        try:
            for n in range(total):
                with transaction.atomic():
                    write(n=n)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[str] = []
    cursor = None
    while True:
        finished = done.is_set()
        page, cursor = read_all(after=cursor, limit=7)
        seen += page
        if finished and not page:
            break
    thread.join(10)
    assert len(seen) == len(set(seen)) == total
    assert seen == list(Event.objects.order_by("sequence").values_list("event_id", flat=True))
