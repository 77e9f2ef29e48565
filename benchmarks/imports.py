"""The import against a floor: a generated CSV applied by the product, and loaded with ``COPY`` and set-based SQL.

- ``write_file`` writes ``rows`` new certifications (one per mentor, each
  with a name and an email) as the import's CSV.
- ``import_run`` is the product: ``iter_csv`` (the file streamed) then ``services.certification_import``
  (new records take its bulk road: set-based writes with their history rows,
  events and tallies), as the API runs it.
- ``floor_run`` loads the same file with ``COPY`` into a temporary table and
  writes the same rows set-based: the mentors, the certifications (ids drawn
  in SQL, the expiry from the type's validity), the history rows of both, the
  ``certification.created`` events and the tally deltas (of records and of mentors).
- ``contents`` digests each table's rows with natural keys in place of ids:
  the command checks both contenders left identical rows, table by table.
- Each runs in a process of its own (``benchmarks.run_import``, ``DEBUG`` off)
  on an emptied database, so the time and peak memory are the contender's own.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from benchmarks.children import production_env
from benchmarks.expiry import postgres_url
from certhub.ids import CROCKFORD_ALPHABET, new_id
from certifications.demo.loader import flush
from certifications.history.models import HistoryEntry
from certifications.models import Certification, CertificationType, Mentor
from certifications.totals.models import CertificationTally, MentorTally, Span
from certifications.totals.tallies import states_rebuild
from events.models import Event, WebhookAttempt, WebhookDelivery

HEADER = "mentor_id,certification_type,issued_at,expires_at,mentor_name,mentor_email"
TYPES = ("peer_mentor_basic", "peer_mentor_advanced")
CERT, MENTOR, CTYPE = Certification._meta.db_table, Mentor._meta.db_table, CertificationType._meta.db_table
HISTORY = HistoryEntry._meta.db_table
EVENT, TALLY, MENTOR_TALLY = Event._meta.db_table, CertificationTally._meta.db_table, MentorTally._meta.db_table
UTC_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'  # as the API renders a timestamp


def _mentor_id(number: int) -> str:
    digits = "".join(CROCKFORD_ALPHABET[(number >> (5 * i)) & 31] for i in range(10))
    return "mntr_" + digits[::-1]


def write_file(path: Path, *, rows: int) -> None:
    """``rows`` new certifications as the import's CSV: one per mentor, issued on one of 1,000 days."""
    start = dt.date(2024, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        for number in range(rows):
            issued = start + dt.timedelta(days=number % 1000)
            out.write(
                f"{_mentor_id(number)},{TYPES[number % 2]},{issued.isoformat()},,"
                f"Mentor {number},mentor{number}@example.org\n"
            )


def import_run(path: Path, *, now: dt.datetime) -> dict:
    """The product's import of ``path``; its counts."""
    from certifications.bulk.rows import iter_csv
    from certifications.history import Actor, Source
    from certifications.services import certification_import

    with path.open("rb") as source:
        rows = iter_csv(source, max_rows=10**9)
        result = certification_import(rows=rows, now=now, by=Actor(source=Source.IMPORT))
    if not result.applied:
        raise RuntimeError(f"the import applied nothing: {result.totals}")
    return result.totals


FLOOR_SQL = f"""
WITH mentors AS (
    INSERT INTO {MENTOR} (mentor_id, name, email, status, paused_by, pause_reason, created_at, updated_at)
    SELECT DISTINCT ON (mentor_id) mentor_id, mentor_name, mentor_email, 'active', '', '', %(now)s, %(now)s
    FROM bench_import ORDER BY mentor_id
    RETURNING id, mentor_id, name, email
),
mentor_history AS (
    INSERT INTO {HISTORY} (object_pk, subject, at, actor, source, change, reason, changes)
    SELECT id, 'mentor', %(now)s, 'system:import', 'import', 'created', '',
           jsonb_build_object('name', jsonb_build_array(NULL, name), 'email', jsonb_build_array(NULL, email),
                              'status', jsonb_build_array(NULL, 'active'))
    FROM mentors
),
certs AS (
    INSERT INTO {CERT} (certification_id, mentor_id, certification_type_id, issued_at, expires_at, status,
                        revocation_reason, auto_pause_applied, created_at, updated_at)
    SELECT (%(cert_ids)s::text[])[i.n], m.id, t.id, i.issued_at::timestamptz,
           i.issued_at::timestamptz + t.validity_months * INTERVAL '1 month',
           CASE WHEN i.issued_at::timestamptz + t.validity_months * INTERVAL '1 month' > %(now)s
                THEN 'valid' ELSE 'expired' END,
           '', false, %(now)s, %(now)s
    FROM bench_import i JOIN mentors m ON m.mentor_id = i.mentor_id  -- the rows just inserted
    JOIN {CTYPE} t ON t.code = i.certification_type
    RETURNING id, certification_id, mentor_id, certification_type_id, issued_at, expires_at, status
),
cert_history AS (
    INSERT INTO {HISTORY} (object_pk, subject, at, actor, source, change, reason, changes)
    SELECT c.id, 'certification', %(now)s, 'system:import', 'import', 'created', '',
           jsonb_build_object(
               'certification_type', jsonb_build_array(NULL, t.code),
               'issued_at', jsonb_build_array(NULL, to_char(c.issued_at AT TIME ZONE 'UTC', '{UTC_FORMAT}')),
               'expires_at', jsonb_build_array(NULL, to_char(c.expires_at AT TIME ZONE 'UTC', '{UTC_FORMAT}')),
               'status', jsonb_build_array(NULL, c.status),
               'auto_pause_applied', jsonb_build_array(NULL, false))
    FROM certs c JOIN {CTYPE} t ON t.id = c.certification_type_id
),
mentor_tally AS (
    INSERT INTO {MENTOR_TALLY} (status, paused_by, mentors) SELECT 'active', '', count(*) FROM mentors
),
cert_events AS (
    INSERT INTO {EVENT} (event_id, type, occurred_at, data)
    SELECT (%(event_ids)s::text[])[row_number() OVER ()], 'certification.created', %(now)s,
           jsonb_build_object(
               'certification_id', c.certification_id, 'mentor_id', m.mentor_id, 'certification_type', t.code,
               'status', c.status,
               'issued_at', to_char(c.issued_at AT TIME ZONE 'UTC', '{UTC_FORMAT}'),
               'expires_at', to_char(c.expires_at AT TIME ZONE 'UTC', '{UTC_FORMAT}'),
               'revoked_at', NULL, 'deleted_at', NULL)
    FROM certs c JOIN mentors m ON m.id = c.mentor_id JOIN {CTYPE} t ON t.id = c.certification_type_id
)
INSERT INTO {TALLY} (certification_type_id, deleted, span, expires_on, valid, expired, revoked)
SELECT certification_type_id, false, span, on_day,
       count(*) FILTER (WHERE status = 'valid'), count(*) FILTER (WHERE status = 'expired'), 0
FROM certs CROSS JOIN LATERAL (VALUES
    ('day', (expires_at AT TIME ZONE 'UTC')::date),
    ('month', date_trunc('month', expires_at AT TIME ZONE 'UTC')::date)) AS s (span, on_day)
GROUP BY 1, 3, 4
"""


def _distinct_ids(prefix: str, length: int, count: int) -> list[str]:
    ids: set[str] = set()
    while len(ids) < count:
        ids.add(new_id(prefix, length))
    return list(ids)


def floor_run(path: Path, *, now: dt.datetime) -> dict:
    """``COPY`` the file into a temporary table, then write mentors, records and history rows set-based."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_import (mentor_id text, certification_type text, issued_at text, "
            "expires_at text, mentor_name text, mentor_email text, n serial) ON COMMIT DROP"
        )
        with (
            path.open("rb") as source,
            cursor.copy(
                "COPY bench_import (mentor_id, certification_type, issued_at, expires_at, mentor_name, mentor_email) "
                "FROM STDIN WITH (FORMAT csv, HEADER)"
            ) as copy,
        ):
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        cursor.execute("SELECT count(*) FROM bench_import")
        (rows,) = cursor.fetchone()
        # Ids drawn as the product draws them (random Crockford characters, distinct; the tables start empty).
        cert_ids, event_ids = _distinct_ids("cert_", 8, rows), _distinct_ids("evt_", 12, rows)
        cursor.execute(FLOOR_SQL, {"now": now, "cert_ids": cert_ids, "event_ids": event_ids})
    return {"new": Certification.objects.count()}


def counts() -> dict[str, int]:
    return {
        "certifications": Certification.objects.count(),
        "mentors": Mentor.objects.count(),
        "history": HistoryEntry.objects.count(),
        "events": Event.objects.count(),
        "tallied": sum(CertificationTally.objects.filter(span=Span.DAY).values_list("valid", flat=True))
        + sum(CertificationTally.objects.filter(span=Span.DAY).values_list("expired", flat=True)),
    }


# Each table's rows as one digest, with the random and sequence ids replaced by natural keys
# (a record is its mentor, type and issue time; an event's data loses its record id), so that the
# import and the floor compare table by table. Tallies are compared summed per key.
CERT_KEY = "concat_ws('/', m.mentor_id, c.certification_type_id, c.issued_at)"
CONTENTS = {
    "mentors": f"SELECT concat_ws('|', mentor_id, name, email, status, paused_by, pause_reason, created_at, "
    f"updated_at) FROM {MENTOR}",
    "certifications": f"SELECT concat_ws('|', {CERT_KEY}, c.expires_at, c.status, c.revocation_reason, "
    f"c.auto_pause_applied, c.created_at, c.updated_at) FROM {CERT} c JOIN {MENTOR} m ON m.id = c.mentor_id",
    "history": f"SELECT concat_ws('|', h.subject, COALESCE(m.mentor_id, {CERT_KEY}), h.at, h.actor, h.source, "
    f"h.change, h.reason, h.changes::text) FROM {HISTORY} h "
    f"LEFT JOIN {CERT} c ON h.subject = 'certification' AND c.id = h.object_pk "
    f"LEFT JOIN {MENTOR} m ON m.id = CASE WHEN h.subject = 'mentor' THEN h.object_pk ELSE c.mentor_id END",
    "events": f"SELECT concat_ws('|', type, occurred_at, (data - 'certification_id')::text) FROM {EVENT}",
    "tallies": f"SELECT concat_ws('|', certification_type_id, deleted, span, expires_on, sum(valid), sum(expired), "
    f"sum(revoked)) FROM {TALLY} GROUP BY certification_type_id, deleted, span, expires_on",
    "mentor_tallies": f"SELECT concat_ws('|', status, paused_by, sum(mentors)) FROM {MENTOR_TALLY} "
    f"GROUP BY status, paused_by",
}


def contents() -> dict[str, str]:
    """A digest of each table's rows (``CONTENTS``): equal digests, identical rows."""
    digests = {}
    with connection.cursor() as cursor:
        for table, rows in CONTENTS.items():
            cursor.execute(f"SELECT md5(COALESCE(string_agg(r, E'\\n' ORDER BY r), '')) FROM ({rows}) AS t (r)")
            (digests[table],) = cursor.fetchone()
    return digests


def run_in_subprocess(path: Path, *, now: dt.datetime, contender: str) -> dict:
    """Empty the domain tables, then run ``contender`` on ``path`` in a fresh process; its figures."""
    flush()
    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {WebhookAttempt._meta.db_table}, {WebhookDelivery._meta.db_table}, {EVENT}, {TALLY}, "
            f"{MENTOR_TALLY}"
        )
    with transaction.atomic(), connection.cursor() as cursor:
        states_rebuild(cursor)  # the deliveries and notices just emptied
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {CERT}, {MENTOR}, {HISTORY}")
    env = production_env(DATABASE_URL=postgres_url())
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run_import",
            "--file",
            str(path),
            "--now",
            now.isoformat(),
            "--contender",
            contender,
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=7200,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {contender} process failed:\n{done.stderr[-4000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_s"] = time.perf_counter() - started
    return figures | {"left": counts(), "contents": contents()}
