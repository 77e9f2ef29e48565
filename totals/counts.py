"""The read side of the maintained totals: how many certifications match, exactly, without counting them.

A count is answered from the tallies when every condition is one the tallies
keep: live or deleted, type, status, and a range of ``expires_at``. Whole UTC
days of the range come from the tallies; the part of a day at either end of
the range is counted from the records themselves (an index range of at most
one day each). Anything else (a mentor, a flag, an issue date, a search) is
counted by the caller, from the records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Q, Sum

from certifications.models import Certification
from totals.models import CertificationTally
from totals.tallies import STATUSES

DAY = dt.timedelta(days=1)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _floor(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def _ceil(moment: dt.datetime) -> dt.date:
    day = _floor(moment)
    return day if _midnight(day) == moment else day + DAY


@dataclass(frozen=True)
class CertificationCount:
    """Which certifications to count. ``None`` means any; ``expires_from`` is inclusive, ``expires_before`` not."""

    deleted: bool | None = False
    statuses: Collection[str] | None = None
    type_ids: Collection[int] | None = None
    expires_from: dt.datetime | None = None
    expires_before: dt.datetime | None = None

    def records(self) -> Q:
        """The same conditions over the records themselves."""
        q = Q()
        if self.deleted is not None:
            q &= Q(deleted_at__isnull=not self.deleted)
        if self.statuses is not None:
            q &= Q(status__in=list(self.statuses))
        if self.type_ids is not None:
            q &= Q(certification_type_id__in=list(self.type_ids))
        return q

    def total(self) -> int:
        """How many records match, exactly: at most two queries (the tallies, and the range's partial days)."""
        low, high = self.expires_from, self.expires_before
        if low is not None and high is not None and low >= high:
            return 0
        first = _ceil(low) if low is not None else None  # the first whole day in range
        end = _floor(high) if high is not None else None  # the day after the last whole day
        edges = Q()
        if first is not None and end is not None and first > end:  # the range lies inside one day
            edges, first, end = Q(expires_at__gte=low, expires_at__lt=high), None, None
            whole_days = False
        else:
            whole_days = True
            if low is not None and _midnight(first) != low:
                edges |= Q(expires_at__gte=low, expires_at__lt=_midnight(first))
            if high is not None and _midnight(end) != high:
                edges |= Q(expires_at__gte=_midnight(end), expires_at__lt=high)
        total = 0
        if whole_days:
            total += self._from_tallies(first=first, end=end)
        if edges:
            total += Certification.objects.filter(self.records() & edges).count()
        return total

    def _from_tallies(self, *, first: dt.date | None, end: dt.date | None) -> int:
        rows = CertificationTally.objects.all()
        if self.deleted is not None:
            rows = rows.filter(deleted=self.deleted)
        if self.type_ids is not None:
            rows = rows.filter(certification_type_id__in=list(self.type_ids))
        if first is not None:
            rows = rows.filter(expires_on__gte=first)
        if end is not None:
            rows = rows.filter(expires_on__lt=end)
        statuses = [status for status in STATUSES if self.statuses is None or status in self.statuses]
        if not statuses:
            return 0
        sums = rows.aggregate(**{status: Sum(status) for status in statuses})
        return sum(value or 0 for value in sums.values())


def certification_total(**conditions) -> int:
    """``CertificationCount(**conditions).total()``."""
    return CertificationCount(**conditions).total()
