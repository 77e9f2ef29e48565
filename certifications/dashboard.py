"""Read-only figures for the admin dashboard: what a coordinator checks first each day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from certifications.models import Certification, ExpiryJobRun, JobState, Mentor, MentorStatus, PausedBy
from certifications.services.records import add_months

EXPIRING_SOON_DAYS = 30
CHART_MONTHS = 12


@dataclass(frozen=True)
class MonthBar:
    """Valid certifications expiring in one calendar month (UTC)."""

    month: dt.date
    count: int
    percent: int  # bar height relative to the busiest month


@dataclass(frozen=True)
class Dashboard:
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


def month_start(value: dt.datetime) -> dt.datetime:
    """Midnight UTC on the first day of ``value``'s month."""
    value = value.astimezone(dt.UTC)
    return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


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
        last_run=ExpiryJobRun.objects.filter(dry_run=False)
        .exclude(state=JobState.QUEUED)
        .select_related("requested_by")
        .order_by("-created_at", "-id")
        .first(),
        months=expirations_by_month(now=now),
    )
