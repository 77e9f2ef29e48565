"""Calendar arithmetic in UTC, shared by the writes (renewals) and the reads (the dashboard's months)."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(value: dt.datetime, months: int) -> dt.datetime:
    """Add calendar months, clamping the day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = value.month - 1 + months
    year = value.year + month_index // 12
    month = month_index % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def month_start(value: dt.datetime) -> dt.datetime:
    """Midnight UTC on the first day of ``value``'s month."""
    value = value.astimezone(dt.UTC)
    return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
