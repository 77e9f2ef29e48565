"""A realistic, deterministic data set, generated chunk by chunk (``DatasetStream``) or whole (``build``).

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

The same ``seed``, sizes and ``now`` give the same rows (ids included), whether
streamed or built whole. Streaming keeps only compact per-slot arrays, the drawn
ids (8 bytes each) and the pending log rows in memory, never the rows already
handed out, so ten million records fit in a few hundred megabytes.
"""

from __future__ import annotations

import datetime as dt
import random
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from certifications.demo.ids import IntSet, SeededIds
from certifications.demo.layout import (
    DELETED_OLD_RECORD_SHARE,
    REVOKED_THEN_REISSUED_SHARE,
    STAFF_PAUSED_SHARE,
    Chain,
    Layout,
    SeedSpec,
    plan,
)
from certifications.models import CertificationType

UTC = dt.UTC
DAY = 86_400
HOUR = 3_600
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

# fmt: off
FIRST_NAMES = (
    "Ada", "Amara", "Ben", "Chen", "Dara", "Eli", "Femi", "Grace", "Hana", "Ivan", "Jonas", "Kemi", "Leila", "Mateo",
    "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Vera", "Wen", "Xavier", "Yara", "Zane",
    "Ines", "Kofi", "Lena",
)
LAST_NAMES = (
    "Abbott", "Bakr", "Costa", "Diallo", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
    "Lopez", "Mensah", "Novak", "Okafor", "Patel", "Quispe", "Rossi", "Silva", "Tanaka", "Ueda", "Varga", "Wright",
    "Xu", "Yilmaz", "Zhou", "Moreau", "Berg",
)
# fmt: on

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


@dataclass
class SeedSummary:
    """How many rows of each table a data set holds, and what a job run at ``now`` should find."""

    mentor_count: int = 0
    certification_count: int = 0
    log_count: int = 0
    run_count: int = 0
    expected_due: int = 0
    expected_marked_expired: int = 0
    expected_auto_paused: int = 0
    expected_mentors_scanned: int = 0


@dataclass
class Dataset(SeedSummary):
    """A whole data set in memory: rows ready to load (tuples in the ``*_COLUMNS`` order) and its summary."""

    mentors: list[tuple] = field(default_factory=list)
    certifications: list[tuple] = field(default_factory=list)
    logs: list[tuple] = field(default_factory=list)
    runs: list[tuple] = field(default_factory=list)


def _timestamp(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


class DatasetStream:
    """The data set of ``spec`` as ``(table, rows)`` chunks, in load order; iterate it once.

    Mentors and their certifications come chunk by chunk (about ``chunk``
    records each), then the run records, then the log rows. The sizes are
    checked on creation (``SeedError``), before anything is generated;
    ``summary`` is complete once the stream has been read to its end.
    """

    def __init__(self, spec: SeedSpec, *, chunk: int = 20_000, progress: Callable[[int], None] | None = None) -> None:
        rng = random.Random(spec.seed)
        types = {t.code: (t.pk, round(t.validity_months * 365.25 / 12)) for t in CertificationType.objects.all()}
        basic, advanced = types["peer_mentor_basic"], types["peer_mentor_advanced"]
        self.summary = SeedSummary()
        self._layout = plan(spec, rng, basic[0], advanced[0])
        validity = {pk: days for pk, days in types.values()}
        self._writer = _Writer(spec, rng, validity, types, summary=self.summary, chunk=chunk, progress=progress)

    def __iter__(self) -> Iterator[tuple[str, list[tuple]]]:
        return self._writer.rows(self._layout)


def build(spec: SeedSpec, *, progress: Callable[[int], None] | None = None) -> Dataset:
    """Generate the data set of ``spec`` whole, in memory (deterministic; for small sets and tests)."""
    stream = DatasetStream(spec, progress=progress)
    data = Dataset()
    for table, rows in stream:
        getattr(data, table).extend(rows)
    for name in SeedSummary.__dataclass_fields__:
        setattr(data, name, getattr(stream.summary, name))
    return data


class _Writer:
    """Turns chains into rows; times are whole seconds since the epoch until the rows are made."""

    TIME_CACHE = 200_000

    def __init__(
        self,
        spec: SeedSpec,
        rng: random.Random,
        validity: dict[int, int],
        types: dict,
        *,
        summary: SeedSummary,
        chunk: int,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.rng = rng
        self.validity = validity
        self.codes = {pk: code for code, (pk, _) in types.items()}
        self.now = int(spec.now.timestamp())
        self.today = self.now // DAY
        self.stopped = self.now - spec.window_days * DAY  # the job's last run was at or before this
        self.last_run_day = (self.stopped - HOUR) // DAY
        self.cert_ids = SeededIds(rng, "cert_", 8, expected=spec.certs)
        self.log_ids = SeededIds(rng, "log_", 8)
        self.mentor_ids = SeededIds(rng, "mntr_", 10, expected=spec.mentor_count)
        self.summary = summary
        self.chunk = chunk
        self.progress = progress
        self._time_cache: dict[int, dt.datetime] = {}
        self.run_logs: dict[int, int] = defaultdict(int)
        self.run_paused: dict[int, int] = defaultdict(int)
        self.run_marked: dict[int, int] = defaultdict(int)
        # The log rows wait for the run records (and their ids are drawn last): one array per column.
        self.log_mentor, self.log_cert, self.log_at, self.log_reason = array("q"), array("q"), array("q"), array("l")
        self.reasons: dict[str, int] = {}
        self.due_records = 0

    def ts(self, seconds: int | None) -> dt.datetime | None:
        if seconds is None:
            return None
        value = self._time_cache.get(seconds)
        if value is None:
            if len(self._time_cache) >= self.TIME_CACHE:
                self._time_cache.clear()
            value = self._time_cache[seconds] = _timestamp(seconds)
        return value

    def rows(self, layout: Layout) -> Iterator[tuple[str, list[tuple]]]:
        """Mentors and certifications chunk by chunk, then the runs and the log rows."""
        mentor_rows: list[tuple] = []
        cert_rows: list[tuple] = []
        for mentor_index in range(layout.mentors):
            self._mentor(mentor_index, layout, mentor_rows, cert_rows)
            if len(cert_rows) >= self.chunk:
                yield from self._hand_out(mentor_rows, cert_rows)
                mentor_rows, cert_rows = [], []
        yield from self._hand_out(mentor_rows, cert_rows)
        self.summary.expected_due = self.due_records
        yield from self._runs_and_logs()

    def _hand_out(self, mentor_rows: list[tuple], cert_rows: list[tuple]) -> Iterator[tuple[str, list[tuple]]]:
        self.summary.mentor_count += len(mentor_rows)
        self.summary.certification_count += len(cert_rows)
        if mentor_rows:
            yield "mentors", mentor_rows
        if cert_rows:
            yield "certifications", cert_rows

    def _mentor(self, mentor_index: int, layout: Layout, mentor_rows: list[tuple], cert_rows: list[tuple]) -> None:
        """Append one mentor's row and its certifications' rows; note its pending log rows."""
        rng, summary = self.rng, self.summary
        mentor_pk = mentor_index + 1
        cert_pk = self.summary.certification_count + len(cert_rows)
        records: list[dict] = []
        applied_at: list[tuple[int, str]] = []
        has_due = False
        for chain in layout.chains(mentor_index):
            chain_records, lapse = self._chain(chain)
            for record in chain_records:
                cert_pk += 1
                record["pk"] = cert_pk
            records += chain_records
            if lapse is not None:
                applied_at.append(lapse)
                run_day = (lapse[0] - HOUR) // DAY
                for record in chain_records:
                    self.log_mentor.append(mentor_pk)
                    self.log_cert.append(record["pk"])
                    self.log_at.append(lapse[0])
                    self.log_reason.append(self.reasons.setdefault(record["reason"], len(self.reasons)))
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
            summary.expected_auto_paused += 1
        updated = max([created, paused_at or created, *(r["updated"] for r in records)])
        mentor_rows.append(
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
            summary.expected_mentors_scanned += 1
        for r in records:
            cert_rows.append(
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
                summary.expected_marked_expired += 1
        if self.progress is not None and records:
            self.progress(len(records))

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

    def _chain(self, chain: Chain) -> tuple[list[dict], tuple[int, str] | None]:
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

    def _runs_and_logs(self) -> Iterator[tuple[str, list[tuple]]]:
        """One succeeded run per day from the first applied lapse to the day the job stopped; then its log rows."""
        days = [*self.run_logs, *self.run_paused]
        first_day = min(days, default=self.last_run_day)
        runs: list[tuple] = []
        for pk, day in enumerate(range(first_day, self.last_run_day + 1), start=1):
            started = day * DAY + HOUR
            when = _timestamp(day * DAY)
            runs.append(
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
        self.summary.run_count = len(runs)
        if runs:
            yield "runs", runs
        reasons = list(self.reasons)
        self.log_ids.seen = IntSet(len(self.log_cert))
        logs: list[tuple] = []
        for index, at in enumerate(self.log_at):
            run_pk = (at - HOUR) // DAY - first_day + 1
            mentor_pk, cert_pk, reason = self.log_mentor[index], self.log_cert[index], reasons[self.log_reason[index]]
            logs.append((index + 1, self.log_ids.next(), mentor_pk, cert_pk, run_pk, "auto_pause", reason, self.ts(at)))
            if len(logs) >= self.chunk:
                self.summary.log_count += len(logs)
                yield "logs", logs
                logs = []
        self.summary.log_count += len(logs)
        if logs:
            yield "logs", logs


def _reason(code: str, record: dict) -> str:
    if record["status"] == "revoked" and record["revoked"] is not None:
        return f"Certification {code} revoked on {_timestamp(record['revoked']):%Y-%m-%d}"
    return f"Certification {code} expired on {_timestamp(record['expires']):%Y-%m-%d}"
