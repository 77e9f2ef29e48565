"""Reads shared by the admin, its dashboard and the API; no writes here.

Querysets that more than one entry point builds live here, so the list the
API renders and the list the admin shows join the same relations, and the
dashboard's figures are computed in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from certifications.dates import add_months, month_start
from certifications.models import (
    AutoPauseLog,
    Certification,
    ExpiryJobRun,
    JobState,
    Mentor,
    MentorStatus,
    PausedBy,
)

EXPIRING_SOON_DAYS = 30
CHART_MONTHS = 12


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
    paused_auto: int
    paused_staff: int
    last_run: ExpiryJobRun | None
    months: list[MonthBar]

    @property
    def busiest_month(self) -> int:
        return max((bar.count for bar in self.months), default=0)


def expirations_by_month(*, now: dt.datetime, months: int = CHART_MONTHS) -> list[MonthBar]:
    """Current certifications expiring in each month from ``now``'s month on, one query."""
    start = month_start(now)
    end = add_months(start, months)
    rows = (
        Certification.objects.current(now=now)
        .filter(expires_at__lt=end)
        .annotate(month=TruncMonth("expires_at", tzinfo=dt.UTC))
        .values("month")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts = {row["month"].date(): row["count"] for row in rows}
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
    """Every dashboard figure at ``now``, in a fixed handful of queries."""
    valid = Certification.objects.current(now=now).aggregate(
        valid=Count("pk"),
        expiring_soon=Count("pk", filter=Q(expires_at__lte=now + dt.timedelta(days=EXPIRING_SOON_DAYS))),
    )
    paused = Mentor.objects.filter(status=MentorStatus.PAUSED).aggregate(
        auto=Count("pk", filter=Q(paused_by=PausedBy.AUTO)),
        staff=Count("pk", filter=Q(paused_by=PausedBy.STAFF)),
    )
    return Dashboard(
        valid=valid["valid"],
        expiring_soon=valid["expiring_soon"],
        lapsed_awaiting_job=Certification.objects.due(now=now).count(),
        paused_auto=paused["auto"],
        paused_staff=paused["staff"],
        last_run=expiry_run_last(include_queued=False),
        months=expirations_by_month(now=now),
    )
