"""Reads shared by the admin, its dashboard and the API; no writes here.

Querysets that more than one entry point builds live here, so the list the
API renders and the list the admin shows join the same relations, and the
dashboard's figures are computed in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from certifications.dates import add_months, month_start
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    ExpiryJobRun,
    JobState,
    Mentor,
    MentorStatus,
    PausedBy,
)
from certifications.totals.counts import CertificationCount

EXPIRING_SOON_DAYS = 30
CHART_MONTHS = 12
# A figure the maintained totals cannot give is counted this far and no further (20 admin pages of 50).
COUNT_CAP = 1000


def capped_count(queryset: QuerySet) -> tuple[int, bool]:
    """Rows of ``queryset`` up to ``COUNT_CAP``, and whether there are more."""
    found = queryset.order_by()[: COUNT_CAP + 1].count()
    return min(found, COUNT_CAP), found > COUNT_CAP


# --- Lists ---------------------------------------------------------------------------------


def certification_list(*, include_deleted: bool = False) -> QuerySet[Certification]:
    """Certifications with the mentor and type every representation shows, in one query; live ones unless asked."""
    records = Certification.objects.select_related("mentor", "certification_type")
    return records if include_deleted else records.alive()


def auto_pause_log_list() -> QuerySet[AutoPauseLog]:
    """Auto-pause log rows with their mentor, certification and run, in one query."""
    return AutoPauseLog.objects.select_related("mentor", "certification", "job_run")


def expiry_run_last(*, include_queued: bool = True) -> ExpiryJobRun | None:
    """The latest non-dry run (with who asked for it); a queued one counts unless ``include_queued`` is False."""
    runs = ExpiryJobRun.objects.filter(dry_run=False)
    if not include_queued:
        runs = runs.exclude(state=JobState.QUEUED)
    return runs.select_related("requested_by").order_by("-created_at", "-id").first()


# --- The admin dashboard ---------------------------------------------------------------------


@dataclass(frozen=True)
class MonthBar:
    """Valid certifications expiring in one calendar month (UTC)."""

    month: dt.date
    count: int
    percent: int  # bar height relative to the busiest month


@dataclass(frozen=True)
class Dashboard:
    """What a coordinator checks first each day."""

    valid: int
    expiring_soon: int
    lapsed_awaiting_job: int
    lapsed_awaiting_job_more: bool  # more than ``lapsed_awaiting_job`` (a capped count)
    paused_auto: int
    paused_staff: int
    last_run: ExpiryJobRun | None
    months: list[MonthBar]

    @property
    def busiest_month(self) -> int:
        return max((bar.count for bar in self.months), default=0)


def _current(*, now: dt.datetime, before: dt.datetime | None = None) -> CertificationCount:
    """``Certification.objects.current(now=now)`` (expiring before ``before``) as a maintained count."""
    return CertificationCount(
        statuses=[CertificationStatus.VALID], expires_from=now + dt.timedelta(microseconds=1), expires_before=before
    )


def expirations_by_month(*, now: dt.datetime, months: int = CHART_MONTHS) -> list[MonthBar]:
    """Current certifications expiring in each month from ``now``'s month on, from the maintained totals."""
    start = month_start(now)
    end = add_months(start, months)
    counts = _current(now=now, before=end).by_month()
    keys = [add_months(start, offset).date() for offset in range(months)]
    busiest = max(counts.values(), default=0)
    return [
        MonthBar(
            month=key,
            count=counts.get(key, 0),
            percent=round(100 * counts.get(key, 0) / busiest) if busiest else 0,
        )
        for key in keys
    ]


def dashboard_summary(*, now: dt.datetime) -> Dashboard:
    """Every dashboard figure at ``now``, in a fixed handful of queries; the record counts are maintained totals."""
    soon = now + dt.timedelta(days=EXPIRING_SOON_DAYS, microseconds=1)  # expires_at <= now + 30 days
    # "Due" depends on every record's renewals at this moment: no total keeps it, so it is counted, capped.
    due, more_due = capped_count(Certification.objects.due(now=now))
    paused = Mentor.objects.filter(status=MentorStatus.PAUSED).aggregate(
        auto=Count("pk", filter=Q(paused_by=PausedBy.AUTO)),
        staff=Count("pk", filter=Q(paused_by=PausedBy.STAFF)),
    )
    return Dashboard(
        valid=_current(now=now).total(),
        expiring_soon=_current(now=now, before=soon).total(),
        lapsed_awaiting_job=due,
        lapsed_awaiting_job_more=more_due,
        paused_auto=paused["auto"],
        paused_staff=paused["staff"],
        last_run=expiry_run_last(include_queued=False),
        months=expirations_by_month(now=now),
    )
