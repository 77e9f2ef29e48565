"""What the change lists count and how they search, at any size.

A change list's count comes from the maintained totals (``totals.counts``)
when every parameter of the page is one they answer (status, type, deleted,
the *expiring* windows, the expiry date drill-down), exactly. Any other filter
or a search is counted up to ``COUNT_CAP`` rows and shown as "more than" past
it, so no page ever counts a whole table. Searches go through indexes: an id
(or its beginning) by the ids' own indexes, a name or an e-mail through the
mentors' trigram indexes on PostgreSQL (migration ``0010``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

from django.contrib.admin.views.main import ALL_VAR, IS_FACETS_VAR, ORDER_VAR, PAGE_VAR, SEARCH_VAR, ChangeList
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import cached_property

from certifications.models import CertificationStatus, Mentor, renewal_exists
from certifications.selectors import certification_list
from certifications.totals.counts import CertificationCount

MICROSECOND = dt.timedelta(microseconds=1)
# Parameters that choose a page or an order, not which rows: they change no count.
NEUTRAL = {PAGE_VAR, ORDER_VAR, ALL_VAR, IS_FACETS_VAR, "_changelist_filters", "_popup", "_to_field"}
EXPIRING_WINDOWS = {"30": 30, "60": 60, "90": 90}


class CountedPaginator(Paginator):
    """A paginator whose count is given (the maintained total, or a count capped at ``COUNT_CAP``).

    ``counter`` answers ``(count, more)``: ``more`` is True when there are more rows than ``count``.
    """

    def __init__(self, object_list, per_page, *, counter: Callable[[], tuple[int, bool]], **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self._counter = counter

    @cached_property
    def counted(self) -> tuple[int, bool]:
        return self._counter()

    @cached_property
    def count(self) -> int:
        return self.counted[0]

    @property
    def capped(self) -> bool:
        """True when there are more rows than ``count`` says (a capped count)."""
        return self.counted[1]


def _day_range(params: QueryDict, field: str) -> tuple[dt.datetime, dt.datetime] | None:
    """The date drill-down's ``<field>__year/month/day`` as a UTC range; None when absent or not a date."""
    year, month, day = (params.get(f"{field}__{part}") for part in ("year", "month", "day"))
    try:
        if year is None:
            return None
        if month is None:
            start = dt.datetime(int(year), 1, 1, tzinfo=dt.UTC)
            return start, start.replace(year=start.year + 1)
        if day is None:
            start = dt.datetime(int(year), int(month), 1, tzinfo=dt.UTC)
            return start, start + dt.timedelta(days=calendar.monthrange(start.year, start.month)[1])
        start = dt.datetime(int(year), int(month), int(day), tzinfo=dt.UTC)
        return start, start + dt.timedelta(days=1)
    except (ValueError, OverflowError):
        return None


def certification_tally_count(
    params: QueryDict, *, date_field: str, relaxed: bool = False
) -> CertificationCount | None:
    """The certification change list's count as a maintained count, or None when a parameter needs counting.

    ``relaxed``: leave out the parameters the tallies do not keep instead of
    answering None (for the date drill-down's choices, which need not be exact).
    """
    drill = {f"{date_field}__{part}" for part in ("year", "month", "day")}
    known = {"status__exact", "certification_type__id__exact", "deleted", "expiring", *drill}
    used = {key for key, value in params.items() if value != ""} - NEUTRAL
    if relaxed:
        used &= known
    elif used - known or params.get(SEARCH_VAR, "").strip():
        return None
    statuses: set[str] | None = None
    low = high = None
    if "status__exact" in used:
        statuses = {params["status__exact"]} & set(CertificationStatus.values)
    type_ids = None
    if "certification_type__id__exact" in used:
        raw = params["certification_type__id__exact"]
        if not raw.isdigit():
            return None
        type_ids = [int(raw)]
    deleted = {None: False, "yes": True, "any": None}.get(params.get("deleted"), False)
    if "expiring" in used:
        value, now = params["expiring"], timezone.now()
        if value != "current" and value not in EXPIRING_WINDOWS:
            return None
        # current(): valid with expires_at > now; a window adds expires_at <= now + N days.
        statuses = {CertificationStatus.VALID} if statuses is None else statuses & {CertificationStatus.VALID}
        low = now + MICROSECOND
        if value in EXPIRING_WINDOWS:
            high = now + dt.timedelta(days=EXPIRING_WINDOWS[value]) + MICROSECOND
    if used & drill:
        window = _day_range(params, date_field)
        if window is None:
            return None
        low = window[0] if low is None else max(low, window[0])
        high = window[1] if high is None else min(high, window[1])
    return CertificationCount(
        deleted=deleted, statuses=statuses, type_ids=type_ids, expires_from=low, expires_before=high
    )


class TallyDates:
    """What Django's date drill-down asks of ``cl.queryset`` (first and last date, dates of a kind), from tallies.

    Django's own answer reads every matching record (``SELECT DISTINCT
    date_trunc(...)``, ``MIN``/``MAX``). Here one query groups the tallies by
    month in the database (the years and the first and last month come from
    it: the drill-down compares only their year and month), and the day level
    one more, within the month shown.
    """

    def __init__(self, count: CertificationCount) -> None:
        self.count = count
        self._months: list[dt.date] | None = None

    def months(self) -> list[dt.date]:
        if self._months is None:
            self._months = self.count.periods("month")
        return self._months

    def aggregate(self, **_) -> dict[str, dt.datetime | None]:
        months = self.months()
        if not months:
            return {"first": None, "last": None}
        return {"first": _midnight(months[0]), "last": _midnight(months[-1])}

    def datetimes(self, field_name: str, kind: str) -> list[dt.datetime]:
        if kind == "day":
            return [_midnight(day) for day in self.count.periods("day")]
        months = self.months()
        if kind == "year":
            months = sorted({month.replace(month=1) for month in months})
        return [_midnight(month) for month in months]

    dates = datetimes


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class TallyDrillDown:
    """A change list as the date drill-down sees it: the same, but its ``queryset`` answered by ``TallyDates``."""

    def __init__(self, changelist, dates: TallyDates) -> None:
        self._changelist = changelist
        self.queryset = dates

    def __getattr__(self, name: str):
        return getattr(self._changelist, name)


class PageAnnotatedChangeList(ChangeList):
    """A change list whose rows get their lifecycle and ``renewed`` (the columns' subqueries) once paged.

    Annotated in the list's own query, the subqueries were planned for every
    row of the table (PostgreSQL hashed a third of a million current records
    for ``renewed`` to show fifty); on the page's primary keys they cost a few
    index probes per row.
    """

    def get_results(self, request):
        super().get_results(request)
        pks = [row.pk for row in self.result_list]
        now = timezone.now()
        annotated = (
            certification_list(include_deleted=True)
            .filter(pk__in=pks)
            .with_lifecycle(now=now)
            .annotate(renewed=renewal_exists(now=now))
            .in_bulk()
        )
        self.result_list = [annotated[pk] for pk in pks if pk in annotated]


# --- Search ---------------------------------------------------------------------------------------


def mentors_matching(term: str) -> QuerySet[Mentor]:
    """Mentors whose name or e-mail contains ``term`` (trigram indexes serve it on PostgreSQL)."""
    return Mentor.objects.filter(Q(name__icontains=term) | Q(email__icontains=term))


def id_prefix(term: str, prefix: str) -> str | None:
    """``term`` as an id (or its beginning) with ``prefix``, in the ids' case: the prefix lower, the rest upper."""
    term = term.strip()
    if not term.lower().startswith(prefix):
        return None
    return prefix + term[len(prefix) :].upper()
