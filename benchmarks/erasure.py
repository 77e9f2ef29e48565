"""What ``bench_erasure`` adds to a seeded data set so that an erasure has something to find (PostgreSQL).

The seed writes mentors and certifications only. An erasure reads and writes
the history, the notifications and the renewal requests by mentor, so those
tables get rows at the scale of the data set, set-based: a ``created``
history row per certification and per mentor (the mentor's carries the name
and email, as the services write it), a name edit per mentor, and a sent
notice per mentor naming them.
"""

from __future__ import annotations

from django.db import connection

from certifications.history.models import HistoryEntry
from certifications.models import Certification, Mentor
from notifications.models import Notification

HISTORY = HistoryEntry._meta.db_table
CERTS = Certification._meta.db_table
MENTORS = Mentor._meta.db_table
NOTICES = Notification._meta.db_table
MARK = "bench_erasure"  # the filler's history reason: it is added once

FILL = [
    f"""INSERT INTO {HISTORY} (subject, object_pk, at, actor, source, change, changes, reason)
        SELECT 'certification', id, created_at, 'system:cli', 'cli', 'created',
               jsonb_build_object('status', jsonb_build_array(NULL, status)), '{MARK}'
        FROM {CERTS}""",
    f"""INSERT INTO {HISTORY} (subject, object_pk, at, actor, source, change, changes, reason)
        SELECT 'mentor', id, created_at, 'system:cli', 'cli', 'created',
               jsonb_build_object('name', jsonb_build_array(NULL, name), 'email', jsonb_build_array(NULL, email),
                                  'status', jsonb_build_array(NULL, status)), '{MARK}'
        FROM {MENTORS}""",
    f"""INSERT INTO {HISTORY} (subject, object_pk, at, actor, source, change, changes, reason)
        SELECT 'mentor', id, updated_at, 'system:cli', 'cli', 'changed',
               jsonb_build_object('name', jsonb_build_array('Former ' || name, name)), '{MARK}'
        FROM {MENTORS}""",
    f"""INSERT INTO {NOTICES} (notification_id, kind, mentor_id, recipient, subject, state, attempts, last_error,
                               created_at, sent_at)
        SELECT 'ntfb' || lpad(id::text, 8, '0'), 'mentor_paused', id, email, 'Paused: ' || name, 'sent', 1, '',
               updated_at, updated_at
        FROM {MENTORS}""",
    f"ANALYZE {HISTORY}",
    f"ANALYZE {NOTICES}",
]


def fill() -> bool:
    """Add the history and notices once (False when a previous run added them)."""
    if HistoryEntry.objects.filter(reason=MARK).exists():
        return False
    with connection.cursor() as cursor:
        for statement in FILL:
            cursor.execute(statement)
    return True


def busiest_mentors(count: int) -> list[Mentor]:
    """The ``count`` mentors not yet erased holding the most certifications (the worst case of an erasure)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.mentor_id FROM {CERTS} c JOIN {MENTORS} m ON m.id = c.mentor_id WHERE m.erased_at IS NULL "
            "GROUP BY c.mentor_id ORDER BY COUNT(*) DESC, c.mentor_id LIMIT %s",
            [count],
        )
        pks = [pk for (pk,) in cursor.fetchall()]
    return list(Mentor.objects.filter(pk__in=pks))
