"""A chain's records: one mentor's renewals of one type, from the first issue to how the chain ends.

Times are whole seconds since the epoch (``DAY``, ``HOUR``) until the rows are
made (``certifications.demo.dataset``). The daily run at 01:00 UTC marks a
record ``expired`` on its expiry day and flags a lapsed chain's records the day
after its lapse, until the job stopped ``window_days`` before ``now``;
``run_marked`` counts the records each day's run marked.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from certifications.demo.layout import DELETED_OLD_RECORD_SHARE, REVOKED_THEN_REISSUED_SHARE, Chain

UTC = dt.UTC
DAY = 86_400
HOUR = 3_600


def timestamp(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


class ChainRecords:
    """Draws each chain's records from the seeded generator (in the order the rows are made)."""

    def __init__(
        self, rng: random.Random, validity: dict[int, int], codes: dict[int, str], *, now: int, window_days: int
    ) -> None:
        self.rng = rng
        self.validity = validity
        self.codes = codes
        self.now = now
        self.today = now // DAY
        self.stopped = now - window_days * DAY  # the job's last run was at or before this
        self.last_run_day = (self.stopped - HOUR) // DAY
        self.run_marked: dict[int, int] = defaultdict(int)
        self.due_records = 0

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

    def records(self, chain: Chain) -> tuple[list[dict], tuple[int, str] | None]:
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


def _reason(code: str, record: dict) -> str:
    if record["status"] == "revoked" and record["revoked"] is not None:
        return f"Certification {code} revoked on {timestamp(record['revoked']):%Y-%m-%d}"
    return f"Certification {code} expired on {timestamp(record['expires']):%Y-%m-%d}"
