"""The event feed: positions given in commit order by one publisher, and reads after a cursor.

An event's ``id`` is drawn when its transaction inserts it, not when it
commits: a transaction that started earlier can commit later, so a reader
that moved past ``id`` 11 would never see an ``id`` 10 committed after it.
The feed therefore serves ``sequence``, a position given only to committed
events, by one publisher at a time (a PostgreSQL advisory lock; SQLite
serializes writers anyway), each new position above every earlier one. An
event committed late is published late, after the events a reader has already
seen, so a reader that resumes from its last event id misses nothing and sees
nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction

from certhub.errors import CursorExpired, RuleViolation
from certhub.sql import dialect
from events.models import FEED_TYPES, Event

# The publisher's advisory lock key (an arbitrary constant: "evts" in ASCII).
PUBLISH_LOCK_KEY = 0x65767473
# Events published per call: the feed publishes before every read, so a backlog drains over a few reads.
PUBLISH_CHUNK = 10_000
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

_PUBLISH_SQL = """
UPDATE {table} SET sequence = published.position
FROM (
    SELECT id, (SELECT COALESCE(MAX(sequence), 0) FROM {table}) + ROW_NUMBER() OVER (ORDER BY id) AS position
    FROM {table} WHERE sequence IS NULL ORDER BY id LIMIT %s
) AS published
WHERE {table}.id = published.id
"""


class InvalidCursor(RuleViolation):
    """An ``after`` cursor that names no published event."""


@dataclass(frozen=True)
class FeedPage:
    events: list[Event]
    next_cursor: str | None
    has_more: bool


def events_publish(*, chunk: int = PUBLISH_CHUNK) -> int:
    """Give the committed, unpublished events their feed positions, in insertion order; return how many.

    One statement under the publisher's lock: it sees only committed rows, and
    every position it gives is above the highest given so far.
    """
    if not Event.objects.filter(sequence__isnull=True).exists():
        return 0
    table = connection.ops.quote_name(Event._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        dialect().lock_transaction(cursor, PUBLISH_LOCK_KEY)
        cursor.execute(_PUBLISH_SQL.format(table=table), [chunk])
        return cursor.rowcount


def feed_read(*, after: str | None, types: Sequence[str] = (), limit: int = DEFAULT_LIMIT) -> FeedPage:
    """The published events after the event ``after`` (from the start without it), in feed order.

    ``types`` keeps only those types (empty: every feed type). ``next_cursor``
    is the last event served, or ``after`` again when there is nothing new: the
    cursor to send next time. An ``after`` that names no published event is
    refused (``InvalidCursor``): a forged cursor cannot read from a guessed position.
    Once retention has deleted the feed's first events, such a cursor may name
    one of them: it answers ``CursorExpired`` (410), and the reader starts again
    from the oldest event kept (``feed_expired``).
    """
    events_publish()
    position = 0
    if after:
        found = Event.objects.filter(event_id=after, sequence__isnull=False).values_list("sequence", flat=True).first()
        if found is None and feed_expired():
            raise CursorExpired(
                "after names an event the feed no longer keeps (events older than RETENTION_EVENTS_DAYS are "
                "deleted): read the feed again from the beginning of what is kept, without after.",
                fields={"after": ["Expired: this event is no longer kept."]},
            )
        if found is None:
            raise InvalidCursor(
                "after names no event of this feed: send an event_id the feed served.",
                fields={"after": ["Unknown event."]},
            )
        position = found
    rows = Event.objects.filter(sequence__gt=position, type__in=list(types or FEED_TYPES)).order_by("sequence")
    page = list(rows[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    return FeedPage(events=page, next_cursor=page[-1].event_id if page else after, has_more=has_more)


def feed_expired() -> bool:
    """Whether the feed's first events have been deleted: the oldest kept position is past the first one.

    One lookup of the lowest ``sequence`` in its unique index. Positions start
    at 1 and retention always keeps the newest published event, so they never
    start again.
    """
    oldest = Event.objects.filter(sequence__isnull=False).order_by("sequence").values_list("sequence", flat=True)
    first = oldest.first()
    return first is not None and first > 1
