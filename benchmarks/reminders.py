"""The reminder scan against a hand-written set-based SQL floor that inserts the same rows (PostgreSQL).

Each contender runs in a transaction that is rolled back afterwards, so every
round starts from the same rows and nothing is sent (the send tasks are
registered for the commit that never comes). Inside it, the inserted rows are
fingerprinted (everything but the random ids) to check that both wrote the same.

The floor states the rule its own way: ``days_left = ceil(epoch(expires_at - now) / 86400)``
and the smallest offset ``>= days_left`` from the type's ``reminder_days`` array,
in one ``INSERT ... SELECT``; the product derives ranges of ``expires_at`` from
the offsets in Python and lets the database pick the window with a ``CASE``.
"""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc
from dataclasses import dataclass

from django.db import connection, transaction

from certhub.ids import CROCKFORD_ALPHABET
from certifications.models import Certification, CertificationType, Mentor, newer_current_exists
from notifications.models import Notification
from notifications.services import reminders_scan

CERT = Certification._meta.db_table
MENTOR = Mentor._meta.db_table
CTYPE = CertificationType._meta.db_table
NTF = Notification._meta.db_table

FLOOR_SQL = f"""
    INSERT INTO "{NTF}" (notification_id, kind, mentor_id, certification_id, cycle_expires_at, offset_days,
                         recipient, subject, state, attempts, last_error, created_at)
    SELECT 'ntf_' || (SELECT string_agg(substr('{CROCKFORD_ALPHABET}', 1 + floor(random() * 32)::int, 1), '')
                      FROM generate_series(1, 8) WHERE w.id IS NOT NULL),
           'expiry_reminder', w.mentor_id, w.id, w.expires_at, w.d, m.email,
           'Reminder: your ' || t.name || ' certification expires on '
               || to_char(w.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
           CASE WHEN m.email = '' THEN 'skipped' ELSE 'queued' END, 0,
           CASE WHEN m.email = '' THEN 'no email address' ELSE '' END, %(now)s
    FROM (
        SELECT c.id, c.mentor_id, c.certification_type_id, c.expires_at,
               (SELECT min(o) FROM unnest(p.offsets) o
                WHERE o >= ceil(extract(epoch FROM c.expires_at - %(now)s) / 86400)) AS d
        FROM "{CERT}" c
        JOIN (
            SELECT id, array(SELECT jsonb_array_elements_text(reminder_days::jsonb)::int) AS offsets,
                   (SELECT max(x::int) FROM jsonb_array_elements_text(reminder_days::jsonb) x) AS widest
            FROM "{CTYPE}" WHERE jsonb_array_length(reminder_days::jsonb) > 0
        ) p ON p.id = c.certification_type_id
        WHERE c.deleted_at IS NULL AND c.status = 'valid' AND c.expires_at > %(now)s
          AND c.expires_at <= %(now)s + p.widest * interval '1 day'
          AND NOT EXISTS (
              SELECT 1 FROM "{CERT}" n
              WHERE n.mentor_id = c.mentor_id AND n.certification_type_id = c.certification_type_id
                AND n.deleted_at IS NULL AND n.status = 'valid' AND n.expires_at > %(now)s
                AND n.issued_at > c.issued_at
          )
    ) w
    JOIN "{MENTOR}" m ON m.id = w.mentor_id
    JOIN "{CTYPE}" t ON t.id = w.certification_type_id
    WHERE NOT EXISTS (
        SELECT 1 FROM "{NTF}" r
        WHERE r.kind = 'expiry_reminder' AND r.certification_id = w.id AND r.cycle_expires_at = w.expires_at
          AND r.offset_days <= w.d
    )
    ON CONFLICT DO NOTHING
"""

FINGERPRINT_SQL = f"""
    SELECT count(*), md5(coalesce(string_agg(
        concat_ws('|', certification_id, offset_days, cycle_expires_at, mentor_id, recipient, subject, state,
                  last_error, created_at),
        ',' ORDER BY certification_id, offset_days), ''))
    FROM "{NTF}" WHERE kind = 'expiry_reminder'
"""


@dataclass(frozen=True)
class Round:
    seconds: float
    rows: int
    fingerprint: str


def _fingerprint() -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(FINGERPRINT_SQL)
        return cursor.fetchone()


def in_window(*, now: dt.datetime) -> int:
    """How many reminders a scan at ``now`` owes (the product's own candidate query, counted)."""
    return reminders_scan(now=now, dry_run=True).created


def offsets_for(*, now: dt.datetime, target: int) -> list[int]:
    """Reminder days whose widest window holds about ``target`` records owed a reminder at ``now`` (widest, 1/2, 1/4).

    Counts the current records no newer one supersedes, as the scan does (the
    demo data renews many records before they expire).
    """
    nth = (
        Certification.objects.current(now=now)
        .filter(~newer_current_exists(now=now))
        .order_by("expires_at")
        .values_list("expires_at", flat=True)[max(target - 1, 0) : target]
    )
    last = next(iter(nth), None)
    widest = max(1, -(-(last - now) // dt.timedelta(days=1))) if last else 1
    return sorted({widest, max(1, widest // 2), max(1, widest // 4)}, reverse=True)


def scan_round(*, now: dt.datetime) -> Round:
    """The product's scan, timed, in a transaction rolled back afterwards."""
    with transaction.atomic():
        started = time.perf_counter()
        result = reminders_scan(now=now)
        seconds = time.perf_counter() - started
        rows, fingerprint = _fingerprint()
        assert rows == result.created, (rows, result.created)
        transaction.set_rollback(True)
    return Round(seconds=seconds, rows=rows, fingerprint=fingerprint)


def floor_round(*, now: dt.datetime) -> Round:
    """The hand-written floor, timed, in a transaction rolled back afterwards."""
    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, {"now": now})
        seconds = time.perf_counter() - started
        rows, fingerprint = _fingerprint()
        transaction.set_rollback(True)
    return Round(seconds=seconds, rows=rows, fingerprint=fingerprint)


def scan_peak_python_mb(*, now: dt.datetime) -> float:
    """Peak Python memory allocated during one scan (traced, not timed), in MB."""
    with transaction.atomic():
        tracemalloc.start()
        try:
            reminders_scan(now=now)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        transaction.set_rollback(True)
    return peak / 1e6
