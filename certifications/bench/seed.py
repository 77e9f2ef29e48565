"""A realistic, deterministic data set, and the fast loaders that write it.

The data tells the story of a system that has been running: the expiry job ran
every day at 01:00 UTC until ``window_days`` before ``now``, then stopped.

- Each mentor holds one or two certification types; each (mentor, type) is a
  *chain* of records, every one a renewal of the one before (issued up to 60
  days before the previous one expired), so older records are superseded:
  ``expired`` (or still ``valid``), never lapsed, never due. A few were revoked
  before being reissued; a few are soft-deleted.
- Chains that lapsed before the job stopped are applied: every record of the
  chain flagged at that day's run, one ``auto_pause`` log row per record, the
  mentor paused (``auto``); one run record per day.
- Exactly ``due`` records lapsed since (expired or revoked inside the window):
  they are the due set at ``now``. Those that expired are still ``valid``, as the
  job has not marked them yet.
- A few mentors are paused by staff.

The same ``seed``, sizes and ``now`` give the same rows (ids included).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, models, transaction

from certhub.ids import CROCKFORD_ALPHABET
from certifications.bench.progress import Progress
from certifications.models import AutoPauseLog, Certification, CertificationType, ExpiryJobRun, JobLock, Mentor

UTC = dt.UTC
DAY = 86_400
HOUR = 3_600
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_PAIRS = [a + b for b in CROCKFORD_ALPHABET for a in CROCKFORD_ALPHABET]  # 10 bits -> 2 characters

FIRST_NAMES = [
    "Ada",
    "Amara",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Femi",
    "Grace",
    "Hana",
    "Ivan",
    "Jonas",
    "Kemi",
    "Leila",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tariq",
    "Uma",
    "Vera",
    "Wen",
    "Xavier",
    "Yara",
    "Zane",
    "Ines",
    "Kofi",
    "Lena",
]
LAST_NAMES = [
    "Abbott",
    "Bakr",
    "Costa",
    "Diallo",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Mensah",
    "Novak",
    "Okafor",
    "Patel",
    "Quispe",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Wright",
    "Xu",
    "Yilmaz",
    "Zhou",
    "Moreau",
    "Berg",
]

# Shares of the non-due chains by how they end.
APPLIED_EXPIRED_SHARE = 0.13
APPLIED_REVOKED_SHARE = 0.02
DELETED_ORPHAN_SHARE = 0.005
REVOKED_THEN_REISSUED_SHARE = 0.02
DELETED_OLD_RECORD_SHARE = 0.01
STAFF_PAUSED_SHARE = 0.005
TWO_TYPES_SHARE = 0.35

CERT_COLUMNS = (
    "id",
    "certification_id",
    "mentor_id",
    "certification_type_id",
    "issued_at",
    "expires_at",
    "status",
    "revoked_at",
    "revocation_reason",
    "auto_pause_applied",
    "auto_pause_applied_at",
    "created_at",
    "updated_at",
    "deleted_at",
)
MENTOR_COLUMNS = (
    "id",
    "mentor_id",
    "name",
    "email",
    "status",
    "paused_at",
    "pause_reason",
    "paused_by",
    "created_at",
    "updated_at",
)
LOG_COLUMNS = ("id", "log_id", "mentor_id", "certification_id", "job_run_id", "event", "reason", "applied_at")
RUN_COLUMNS = (
    "id",
    "job_run_id",
    "trigger",
    "dry_run",
    "created_at",
    "started_at",
    "completed_at",
    "state",
    "mentors_scanned",
    "expired_found",
    "auto_paused",
    "marked_expired",
    "failures",
    "error",
)
DOMAIN_MODELS = (AutoPauseLog, Certification, Mentor, ExpiryJobRun, JobLock)


class SeedError(ValueError):
    """The requested sizes cannot be laid out (e.g. more mentors than records)."""


@dataclass(frozen=True)
class SeedSpec:
    """What to generate."""

    certs: int
    due: int
    seed: int
    now: dt.datetime
    mentors: int | None = None
    window_days: int = 7

    @property
    def mentor_count(self) -> int:
        return self.mentors if self.mentors is not None else default_mentors(self.certs)


def default_mentors(certs: int) -> int:
    """About 2.5 records per mentor."""
    return max(1, certs * 2 // 5)


@dataclass
class Dataset:
    """Rows ready to load (tuples in the ``*_COLUMNS`` order) and what a job run at ``now`` should find."""

    mentors: list[tuple] = field(default_factory=list)
    certifications: list[tuple] = field(default_factory=list)
    logs: list[tuple] = field(default_factory=list)
    runs: list[tuple] = field(default_factory=list)
    expected_due: int = 0
    expected_marked_expired: int = 0
    expected_auto_paused: int = 0
    expected_mentors_scanned: int = 0


def _timestamp(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


class _Ids:
    """Unique random Crockford ids drawn from the seeded generator."""

    def __init__(self, rng: random.Random, prefix: str, length: int) -> None:
        self.rng, self.prefix, self.pairs = rng, prefix, length // 2
        self.seen: set[str] = set()

    def next(self) -> str:
        while True:
            bits = self.rng.getrandbits(10 * self.pairs)
            token = "".join(_PAIRS[(bits >> (10 * i)) & 1023] for i in range(self.pairs))
            if token not in self.seen:
                self.seen.add(token)
                return self.prefix + token


@dataclass
class _Chain:
    type_pk: int
    kind: str  # current | applied_expired | applied_revoked | deleted_orphan | due_expired | due_revoked
    length: int


def _lengths_summing_to(rng: random.Random, total: int, count: int) -> list[int]:
    """``count`` lengths of at least 1 summing to ``total``, the extra records spread at random."""
    lengths = [1] * count
    for index in rng.choices(range(count), k=total - count) if count else ():
        lengths[index] += 1
    return lengths


def _due_lengths(rng: random.Random, due: int) -> list[int]:
    lengths: list[int] = []
    left = due
    while left:
        pick = 1 if rng.random() < 0.75 else (2 if rng.random() < 0.8 else 3)
        pick = min(pick, left)
        lengths.append(pick)
        left -= pick
    return lengths


def build(spec: SeedSpec, *, progress: Callable[[int], None] | None = None) -> Dataset:
    """Generate the data set of ``spec`` in memory (deterministic)."""
    certs, due, mentors = spec.certs, spec.due, spec.mentor_count
    if certs < 1 or due < 0 or mentors < 1:
        raise SeedError("--certs and --mentors must be at least 1 and --due at least 0.")
    if due > certs:
        raise SeedError("--due cannot exceed --certs.")
    rng = random.Random(spec.seed)
    types = {t.code: (t.pk, round(t.validity_months * 365.25 / 12)) for t in CertificationType.objects.all()}
    basic, advanced = types["peer_mentor_basic"], types["peer_mentor_advanced"]
    validity = {pk: days for pk, days in types.values()}

    # Lay out (mentor, type) slots, then put the due chains and the other chains in them.
    two_types = [rng.random() < TWO_TYPES_SHARE for _ in range(mentors)]
    due_lengths = _due_lengths(rng, due)
    others_total = certs - due
    slots = mentors + sum(two_types)
    other_slots = slots - len(due_lengths)
    index = 0
    while other_slots > others_total and index < mentors:  # not enough records: fewer two-type mentors
        if two_types[index]:
            two_types[index] = False
            other_slots -= 1
        index += 1
    if other_slots > others_total or other_slots < 0 or (other_slots == 0 and others_total > 0):
        raise SeedError(
            f"Cannot lay out {certs} records ({due} due) over {mentors} mentors: "
            "every mentor needs a record; use fewer mentors or fewer due records."
        )
    slot_list: list[tuple[int, int]] = []
    for mentor_index, both in enumerate(two_types):
        if both:
            slot_list += [(mentor_index, basic[0]), (mentor_index, advanced[0])]
        else:
            slot_list.append((mentor_index, basic[0] if rng.random() < 0.75 else advanced[0]))
    rng.shuffle(slot_list)
    other_lengths = _lengths_summing_to(rng, others_total, other_slots)
    chains: dict[int, list[_Chain]] = defaultdict(list)
    for position, (mentor_index, type_pk) in enumerate(slot_list):
        if position < len(due_lengths):
            kind = "due_expired" if rng.random() < 0.8 else "due_revoked"
            chains[mentor_index].append(_Chain(type_pk, kind, due_lengths[position]))
            continue
        length = other_lengths[position - len(due_lengths)]
        roll = rng.random()
        if roll < APPLIED_EXPIRED_SHARE:
            kind = "applied_expired"
        elif roll < APPLIED_EXPIRED_SHARE + APPLIED_REVOKED_SHARE:
            kind = "applied_revoked"
        elif roll < APPLIED_EXPIRED_SHARE + APPLIED_REVOKED_SHARE + DELETED_ORPHAN_SHARE and length == 1:
            kind = "deleted_orphan"
        else:
            kind = "current"
        chains[mentor_index].append(_Chain(type_pk, kind, length))

    return _Writer(spec, rng, validity, types).write(chains, mentors, progress)


class _Writer:
    """Turns chains into rows; times are whole seconds since the epoch until the rows are made."""

    def __init__(self, spec: SeedSpec, rng: random.Random, validity: dict[int, int], types: dict) -> None:
        self.rng = rng
        self.validity = validity
        self.codes = {pk: code for code, (pk, _) in types.items()}
        self.now = int(spec.now.timestamp())
        self.today = self.now // DAY
        self.stopped = self.now - spec.window_days * DAY  # the job's last run was at or before this
        self.last_run_day = (self.stopped - HOUR) // DAY
        self.cert_ids = _Ids(rng, "cert_", 8)
        self.log_ids = _Ids(rng, "log_", 8)
        self.mentor_ids = _Ids(rng, "mntr_", 10)
        self.data = Dataset()
        self._time_cache: dict[int, dt.datetime] = {}
        self.run_logs: dict[int, int] = defaultdict(int)
        self.run_paused: dict[int, int] = defaultdict(int)
        self.run_marked: dict[int, int] = defaultdict(int)
        self.pending_logs: list[tuple[int, int, int, str, int]] = []  # mentor pk, cert pk, run day, reason, at
        self.due_records = 0

    def ts(self, seconds: int | None) -> dt.datetime | None:
        if seconds is None:
            return None
        value = self._time_cache.get(seconds)
        if value is None:
            value = self._time_cache[seconds] = _timestamp(seconds)
        return value

    def write(self, chains: dict[int, list[_Chain]], mentors: int, progress) -> Dataset:
        rng, data = self.rng, self.data
        cert_pk = 0
        for mentor_index in range(mentors):
            mentor_pk = mentor_index + 1
            records: list[dict] = []
            applied_at: list[tuple[int, str]] = []
            has_due = False
            for chain in chains.get(mentor_index, ()):
                chain_records, lapse = self._chain(chain)
                for record in chain_records:
                    cert_pk += 1
                    record["pk"] = cert_pk
                records += chain_records
                if lapse is not None:
                    applied_at.append(lapse)
                    run_day = (lapse[0] - HOUR) // DAY
                    for record in chain_records:
                        self.pending_logs.append((mentor_pk, record["pk"], run_day, record["reason"], lapse[0]))
                        self.run_logs[run_day] += 1
                has_due = has_due or chain.kind.startswith("due")
            mentor_id = self.mentor_ids.next()
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            created = min((r["created"] for r in records), default=self.now)
            status, paused_at, reason, paused_by = "active", None, "", ""
            if rng.random() < STAFF_PAUSED_SHARE:
                status, paused_by, reason = "paused", "staff", "Paused by staff: on leave"
                paused_at = max(created, self.now - rng.randint(1, 300) * DAY)
            elif applied_at:
                paused_at, reason = min(applied_at)
                status, paused_by = "paused", "auto"
                self.run_paused[(paused_at - HOUR) // DAY] += 1
            elif has_due:
                data.expected_auto_paused += 1
            updated = max([created, paused_at or created, *(r["updated"] for r in records)])
            data.mentors.append(
                (
                    mentor_pk,
                    mentor_id,
                    f"{first} {last}",
                    f"{first}.{last}.{mentor_pk}@example.org".lower(),
                    status,
                    self.ts(paused_at),
                    reason,
                    paused_by,
                    self.ts(created),
                    self.ts(updated),
                )
            )
            if any(r["deleted"] is None for r in records):
                data.expected_mentors_scanned += 1
            for r in records:
                data.certifications.append(
                    (
                        r["pk"],
                        self.cert_ids.next(),
                        mentor_pk,
                        r["type"],
                        self.ts(r["issued"]),
                        self.ts(r["expires"]),
                        r["status"],
                        self.ts(r["revoked"]),
                        "Withdrawn by the program" if r["revoked"] is not None else "",
                        r["applied"] is not None,
                        self.ts(r["applied"]),
                        self.ts(r["created"]),
                        self.ts(r["updated"]),
                        self.ts(r["deleted"]),
                    )
                )
                if r["deleted"] is None and r["status"] == "valid" and r["expires"] <= self.now:
                    data.expected_marked_expired += 1
            if progress is not None and records:
                progress(len(records))
        data.expected_due = self.due_records
        self._runs_and_logs()
        return data

    def _record(self, type_pk: int, issued_day: int, *, status: str = "expired") -> dict:
        issued = issued_day * DAY
        expires = (issued_day + self.validity[type_pk]) * DAY
        created = min(issued + self.rng.randint(0, 3) * DAY + 9 * HOUR, self.now)
        return {
            "type": type_pk,
            "issued": issued,
            "expires": expires,
            "status": status,
            "revoked": None,
            "applied": None,
            "created": created,
            "updated": created,
            "deleted": None,
            "reason": "",
        }

    def _older(
        self, type_pk: int, newer_issued_day: int, count: int, *, superseded: bool, expire_by: int | None = None
    ) -> list[dict]:
        """``count`` earlier records, each renewed up to 60 days before it expired (and by ``expire_by``)."""
        rng, records, next_issue = self.rng, [], newer_issued_day
        for _ in range(count):
            expiry_day = next_issue + rng.randint(0, 60)
            if expire_by is not None:
                expiry_day = min(expiry_day, expire_by)
            issued_day = expiry_day - self.validity[type_pk]
            record = self._record(type_pk, issued_day)
            if record["expires"] > self.stopped:
                record["status"] = "valid"  # expired after the job stopped (or not yet): not marked yet
            else:
                self._mark(record)
            if superseded and rng.random() < REVOKED_THEN_REISSUED_SHARE:
                span = max(1, next_issue - issued_day - 1)
                record["status"] = "revoked"
                record["revoked"] = (issued_day + rng.randint(1, span)) * DAY + 10 * HOUR
                record["updated"] = max(record["updated"], record["revoked"])
            if superseded and rng.random() < DELETED_OLD_RECORD_SHARE:
                record["deleted"] = min(record["created"] + 3 * DAY, self.now)
                record["updated"] = max(record["updated"], record["deleted"])
            records.append(record)
            next_issue = issued_day
        return records

    def _mark(self, record: dict) -> None:
        """The daily run at 01:00 on the day of expiry marked it ``expired``."""
        record["status"] = "expired"
        marked = record["expires"] + HOUR
        record["updated"] = max(record["updated"], marked)
        self.run_marked[record["expires"] // DAY] += 1

    def _chain(self, chain: _Chain) -> tuple[list[dict], tuple[int, str] | None]:
        """The records of one chain, newest first, and (applied at, reason) when its lapse was applied."""
        rng, type_pk, days = self.rng, chain.type_pk, self.validity[chain.type_pk]
        code = self.codes[type_pk]
        if chain.kind == "current":
            last = self._record(type_pk, self.today - rng.randint(0, days - 1), status="valid")
            return [last, *self._older(type_pk, last["issued"] // DAY, chain.length - 1, superseded=True)], None
        if chain.kind == "deleted_orphan":
            last = self._record(type_pk, self.today - days - rng.randint(10, 800))
            self._mark(last)
            last["deleted"] = last["created"] + DAY
            last["updated"] = max(last["updated"], last["deleted"])
            return [last], None
        if chain.kind in ("due_expired", "due_revoked"):
            if chain.kind == "due_expired":
                expiry_day = rng.randint(self.stopped // DAY + 1, self.today)
                last = self._record(type_pk, expiry_day - days, status="valid")
            else:
                revoked = self.stopped + rng.randint(1, self.now - self.stopped)
                last = self._record(type_pk, revoked // DAY - rng.randint(10, days - 1), status="revoked")
                last["revoked"] = revoked
                last["created"] = min(last["created"], revoked)
                last["updated"] = revoked
            older = self._older(
                type_pk, last["issued"] // DAY, chain.length - 1, superseded=False, expire_by=self.today
            )
            records = [last, *older]
            self.due_records += len(records)
            return records, None
        # An applied lapse: the run after it flagged every record of the chain and paused the mentor.
        if chain.kind == "applied_expired":
            expiry_day = self.last_run_day - rng.randint(0, 1500)
            last = self._record(type_pk, expiry_day - days)
            self._mark(last)
            lapse_at = last["expires"] + HOUR
        else:
            revoked_day = self.last_run_day - 1 - rng.randint(0, 1000)
            last = self._record(type_pk, revoked_day - rng.randint(10, days - 1), status="revoked")
            last["revoked"] = revoked_day * DAY + rng.randint(8 * HOUR, 17 * HOUR)
            last["created"] = min(last["created"], last["revoked"])
            lapse_at = (revoked_day + 1) * DAY + HOUR
        expire_by = (lapse_at - HOUR) // DAY - 1
        older = self._older(type_pk, last["issued"] // DAY, chain.length - 1, superseded=False, expire_by=expire_by)
        records = [last, *older]
        for record in records:
            record["applied"] = lapse_at
            record["updated"] = max(record["updated"], lapse_at)
            record["reason"] = _reason(code, record)
        return records, (lapse_at, records[0]["reason"])

    def _runs_and_logs(self) -> None:
        """One succeeded run per day from the first applied lapse to the day the job stopped; its log rows."""
        data = self.data
        days = [*self.run_logs, *self.run_paused]
        first_day = min(days, default=self.last_run_day)
        run_pk: dict[int, int] = {}
        for pk, day in enumerate(range(first_day, self.last_run_day + 1), start=1):
            run_pk[day] = pk
            started = day * DAY + HOUR
            when = _timestamp(day * DAY)
            data.runs.append(
                (
                    pk,
                    f"job_{when.day:02d}{MONTHS[when.month - 1]}{when.year}_01",
                    "schedule",
                    False,
                    self.ts(started),
                    self.ts(started),
                    self.ts(started + 2),
                    "succeeded",
                    0,
                    self.run_logs.get(day, 0),
                    self.run_paused.get(day, 0),
                    self.run_marked.get(day, 0),
                    "[]",
                    "",
                )
            )
        for pk, (mentor_pk, cert_pk, run_day, reason, at) in enumerate(self.pending_logs, start=1):
            data.logs.append(
                (pk, self.log_ids.next(), mentor_pk, cert_pk, run_pk[run_day], "auto_pause", reason, self.ts(at))
            )


def _reason(code: str, record: dict) -> str:
    if record["status"] == "revoked" and record["revoked"] is not None:
        return f"Certification {code} revoked on {_timestamp(record['revoked']):%Y-%m-%d}"
    return f"Certification {code} expired on {_timestamp(record['expires']):%Y-%m-%d}"


# --- Loading ----------------------------------------------------------------------------


def is_empty() -> bool:
    """True when there are no mentors, certifications or runs yet."""
    return not (Mentor.objects.exists() or Certification.objects.exists() or ExpiryJobRun.objects.exists())


def flush() -> None:
    """Delete every mentor, certification, log row, run and lock (the domain data, not types or users)."""
    if connection.vendor == "postgresql":
        tables = ", ".join(model._meta.db_table for model in DOMAIN_MODELS)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY")
        return
    with transaction.atomic():
        for model in DOMAIN_MODELS:
            model.objects.all()._raw_delete(using=connection.alias)


def _tables() -> list[tuple[type, Sequence[str], str]]:
    return [
        (Mentor, MENTOR_COLUMNS, "mentors"),
        (Certification, CERT_COLUMNS, "certifications"),
        (ExpiryJobRun, RUN_COLUMNS, "runs"),
        (AutoPauseLog, LOG_COLUMNS, "logs"),
    ]


@contextmanager
def deferred_indexes(models: Sequence[type]) -> Iterator[None]:
    """On PostgreSQL, drop the tables' secondary indexes, unique and foreign-key constraints, then rebuild them.

    Bulk loading then writes bare heaps, and each index is built once, sorted,
    instead of taking a million random insertions. Use inside a transaction;
    elsewhere this does nothing.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f') ORDER BY contype DESC",
            [tables],
        )
        constraints = cursor.fetchall()  # foreign keys first: they depend on the unique ones
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition, _ in reversed(constraints):
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def load(data: Dataset, *, show_progress: bool = False, chunk: int = 20_000) -> None:
    """Write ``data`` into empty tables: COPY on PostgreSQL, bulk inserts in big chunks elsewhere."""
    rows_of = {"mentors": data.mentors, "certifications": data.certifications, "runs": data.runs, "logs": data.logs}
    with transaction.atomic(), deferred_indexes([model for model, _, _ in _tables()]):
        for model, columns, key in _tables():
            rows = rows_of[key]
            bar = Progress(f"loading {key}", len(rows), enabled=show_progress)
            if connection.vendor == "postgresql":
                _copy(model, columns, rows, bar, chunk)
            else:
                _bulk_insert(model, columns, rows, bar, chunk)
            bar.finish()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model, _, _ in _tables():
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    )
    analyze()


def _copy(model, columns: Sequence[str], rows: list[tuple], bar: Progress, chunk: int) -> None:
    table = model._meta.db_table
    # The Django cursor wraps psycopg 3's, whose copy() streams rows in COPY's text format.
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for start in range(0, len(rows), chunk):
            for row in rows[start : start + chunk]:
                copy.write_row(row)
            bar.advance(min(chunk, len(rows) - start))


def _bulk_insert(model, columns: Sequence[str], rows: list[tuple], bar: Progress, chunk: int) -> None:
    attnames = [_attname(model, column) for column in columns]
    # Rows carry JSON columns as COPY text ('[]'); a model instance needs the value itself,
    # or the field would store the JSON *string* "[]".
    json_at = [i for i, column in enumerate(columns) if isinstance(_field(model, column), models.JSONField)]

    def instance(row: tuple):
        values = list(row)
        for i in json_at:
            if isinstance(values[i], str):
                values[i] = json.loads(values[i])
        return model(**dict(zip(attnames, values, strict=True)))

    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        model.objects.bulk_create([instance(row) for row in part], batch_size=chunk)
        bar.advance(len(part))


def _field(model, column: str):
    for fld in model._meta.concrete_fields:
        if fld.column == column:
            return fld
    raise LookupError(column)


def _attname(model, column: str) -> str:
    return _field(model, column).attname


def analyze() -> None:
    """Refresh the planner's statistics of the domain tables."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(model._meta.db_table for model in DOMAIN_MODELS)
            cursor.execute(f"ANALYZE {tables}")
        else:
            cursor.execute("ANALYZE")


def seed(spec: SeedSpec, *, show_progress: bool = False, replace: bool = False) -> Dataset:
    """Generate ``spec``'s data set and load it; refuses a database holding domain data unless ``replace``."""
    if not is_empty():
        if not replace:
            raise SeedError("The database already holds mentors, certifications or runs (use --flush to replace them).")
        flush()
    bar = Progress("generating", spec.certs, enabled=show_progress)
    data = build(spec, progress=bar.advance)
    bar.finish()
    load(data, show_progress=show_progress)
    return data
