"""The read side of the maintained totals: how many certifications match, exactly, without counting them.

A count is answered from the tallies when every condition is one the tallies
keep: live or deleted, type, status, and a range of ``expires_at``. Whole UTC
months of the range come from the month rows of the tallies and its other whole
UTC days from the day rows; the part of a day at either end of the range is
counted from the records themselves (an index range of at most one day each).
Anything else (a mentor, a flag, an issue date, a search) is counted by the
caller, from the records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncMonth

from certifications.models import Certification
from certifications.totals.models import CertificationTally, Span
from certifications.totals.tallies import STATUSES, TABLE

DAY = dt.timedelta(days=1)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _floor(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _ceil(moment: dt.datetime) -> dt.date:
    day = _floor(moment)
    return day if _midnight(day) == moment else day + DAY


def _month_ceil(day: dt.date) -> dt.date:
    """The first day of a month on or after ``day``."""
    if day.day == 1:
        return day
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _whole_months(first: dt.date | None, end: dt.date | None) -> tuple[dt.date | None, dt.date | None] | None:
    """The whole months in the days ``[first, end)`` as month starts ``[from, to)``, or None when there are none."""
    low = _month_ceil(first) if first is not None else None
    high = end.replace(day=1) if end is not None else None
    if low is not None and high is not None and low >= high:
        return None
    return low, high


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

    def _split(self) -> tuple[bool, dt.date | None, dt.date | None, Q]:
        """The range as whole days ``[first, end)`` for the tallies and the partial days' condition on records.

        Returns ``(use_tallies, first, end, edges)``; ``edges`` is an empty ``Q``
        when the range starts and ends on day boundaries.
        """
        low, high = self.expires_from, self.expires_before
        first = _ceil(low) if low is not None else None  # the first whole day in range
        end = _floor(high) if high is not None else None  # the day after the last whole day
        if first is not None and end is not None and first > end:  # the range lies inside one day
            return False, None, None, Q(expires_at__gte=low, expires_at__lt=high)
        edges = Q()
        if low is not None and _midnight(first) != low:
            edges |= Q(expires_at__gte=low, expires_at__lt=_midnight(first))
        if high is not None and _midnight(end) != high:
            edges |= Q(expires_at__gte=_midnight(end), expires_at__lt=high)
        return True, first, end, edges

    def _empty(self) -> bool:
        low, high = self.expires_from, self.expires_before
        return (self.statuses is not None and not self.statuses) or (
            low is not None and high is not None and low >= high
        )

    def total(self) -> int:
        """How many records match, exactly: at most two queries (the tallies, and the range's partial days)."""
        if self._empty():
            return 0
        use_tallies, first, end, edges = self._split()
        total = 0
        if use_tallies:
            total += self._tally_sum(first=first, end=end)
        if edges:
            total += Certification.objects.filter(self.records() & edges).count()
        return total

    def by_month(self) -> dict[dt.date, int]:
        """The matching records per UTC calendar month of ``expires_at`` (months with none left out); two queries."""
        counts: dict[dt.date, int] = {}
        if self._empty():
            return counts
        use_tallies, first, end, edges = self._split()
        if use_tallies:
            total = sum((F(s) for s in self._statuses()), Value(0))
            rows = (
                self._tallies(first=first, end=end)
                .annotate(month=TruncMonth("expires_on"))
                .values("month")
                .annotate(n=Sum(total))
                .order_by()
            )
            for row in rows:
                counts[row["month"]] = counts.get(row["month"], 0) + (row["n"] or 0)
        if edges:
            rows = (
                Certification.objects.filter(self.records() & edges)
                .annotate(month=TruncMonth("expires_at", tzinfo=dt.UTC))
                .values("month")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for row in rows:
                month = row["month"].date()
                counts[month] = counts.get(month, 0) + row["n"]
        return {month: n for month, n in counts.items() if n}

    def periods(self, kind: str) -> list[dt.date]:
        """The first day of each UTC month or day (``kind``) on which matching records expire; one query.

        Read from the tallies alone, grouped in the database: a day the range
        covers only in part is listed when the tallies hold records on it at
        all (this drives a date drill-down, not a count).
        """
        if self._empty():
            return []
        period = {"month": TruncMonth("expires_on"), "day": F("expires_on")}[kind]
        rows = self._day_rows().annotate(period=period).values("period")
        found = rows.annotate(n=Sum(self._sum())).filter(n__gt=0).order_by("period")
        return [_as_date(row["period"]) for row in found]

    def _day_rows(self) -> QuerySet[CertificationTally]:
        low, high = self.expires_from, self.expires_before
        return self._tallies(first=_floor(low) if low else None, end=_ceil(high) if high else None)

    def _sum(self):
        return sum((F(s) for s in self._statuses()), Value(0))

    def _statuses(self) -> list[str]:
        return [status for status in STATUSES if self.statuses is None or status in self.statuses]

    def _tally_sum(self, *, first: dt.date | None, end: dt.date | None) -> int:
        """The tallies summed over the days ``[first, end)``: whole months from the month rows, other days' day rows.

        One statement, written out: the ORM's aggregate costs several times more
        to build than this sum of a few hundred rows costs to run, on every list.
        """
        statuses = self._statuses()
        type_ids = None if self.type_ids is None else list(self.type_ids)
        if not statuses or type_ids == []:
            return 0
        where, params = [], []
        if self.deleted is not None:
            where.append("deleted = %s")
            params.append(self.deleted)
        if type_ids is not None:
            where.append(f"certification_type_id IN ({', '.join(['%s'] * len(type_ids))})")
            params += type_ids
        covered = []
        for span, low, high in _span_ranges(first, end):
            clause = ["span = %s"]
            params.append(span)
            for bound, day in ((">=", low), ("<", high)):
                if day is not None:
                    clause.append(f"expires_on {bound} %s")
                    params.append(connection.ops.adapt_datefield_value(day))
            covered.append(" AND ".join(clause))
        where.append("(" + " OR ".join(f"({clause})" for clause in covered) + ")")
        sql = f"SELECT COALESCE(SUM({' + '.join(statuses)}), 0) FROM {TABLE} WHERE {' AND '.join(where)}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.fetchone()[0])

    def _tallies(self, *, first: dt.date | None, end: dt.date | None) -> QuerySet[CertificationTally]:
        """The day rows of the days ``[first, end)`` that match."""
        rows = CertificationTally.objects.filter(span=Span.DAY)
        if self.deleted is not None:
            rows = rows.filter(deleted=self.deleted)
        if self.type_ids is not None:
            rows = rows.filter(certification_type_id__in=list(self.type_ids))
        if first is not None:
            rows = rows.filter(expires_on__gte=first)
        if end is not None:
            rows = rows.filter(expires_on__lt=end)
        return rows


def _span_ranges(first: dt.date | None, end: dt.date | None) -> list[tuple[str, dt.date | None, dt.date | None]]:
    """The days ``[first, end)`` as tally spans, each once: ``(span, from, before)``, whole months as month rows."""
    months = _whole_months(first, end)
    if months is None:
        return [(Span.DAY, first, end)]
    low, high = months
    ranges = [(Span.MONTH, low, high)]
    if first is not None and first != low:
        ranges.append((Span.DAY, first, low))
    if end is not None and end != high:
        ranges.append((Span.DAY, high, end))
    return ranges


def certification_total(**conditions) -> int:
    """``CertificationCount(**conditions).total()``."""
    return CertificationCount(**conditions).total()
