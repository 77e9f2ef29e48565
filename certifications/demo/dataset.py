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

from certifications.demo.chains import DAY, HOUR, ChainRecords, timestamp
from certifications.demo.ids import IntSet, SeededIds
from certifications.demo.layout import STAFF_PAUSED_SHARE, Layout, SeedSpec, plan
from certifications.models import CertificationType

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
        self.now = int(spec.now.timestamp())
        codes = {pk: code for code, (pk, _) in types.items()}
        self.chains = ChainRecords(rng, validity, codes, now=self.now, window_days=spec.window_days)
        self.last_run_day = self.chains.last_run_day
        self.cert_ids = SeededIds(rng, "cert_", 8, expected=spec.certs)
        self.log_ids = SeededIds(rng, "log_", 8)
        self.mentor_ids = SeededIds(rng, "mntr_", 10, expected=spec.mentor_count)
        self.summary = summary
        self.chunk = chunk
        self.progress = progress
        self._time_cache: dict[int, dt.datetime] = {}
        self.run_logs: dict[int, int] = defaultdict(int)
        self.run_paused: dict[int, int] = defaultdict(int)
        # The log rows wait for the run records (and their ids are drawn last): one array per column.
        self.log_mentor, self.log_cert, self.log_at, self.log_reason = array("q"), array("q"), array("q"), array("l")
        self.reasons: dict[str, int] = {}

    def ts(self, seconds: int | None) -> dt.datetime | None:
        if seconds is None:
            return None
        value = self._time_cache.get(seconds)
        if value is None:
            if len(self._time_cache) >= self.TIME_CACHE:
                self._time_cache.clear()
            value = self._time_cache[seconds] = timestamp(seconds)
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
        self.summary.expected_due = self.chains.due_records
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
            chain_records, lapse = self.chains.records(chain)
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

    def _runs_and_logs(self) -> Iterator[tuple[str, list[tuple]]]:
        """One succeeded run per day from the first applied lapse to the day the job stopped; then its log rows."""
        days = [*self.run_logs, *self.run_paused]
        first_day = min(days, default=self.last_run_day)
        runs: list[tuple] = []
        for pk, day in enumerate(range(first_day, self.last_run_day + 1), start=1):
            started = day * DAY + HOUR
            when = timestamp(day * DAY)
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
                    self.chains.run_marked.get(day, 0),
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
