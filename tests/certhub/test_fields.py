"""Timestamps out: UTC, to the second, ``Z``, the year in four digits."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from certhub.api.fields import format_utc

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.datetime(2026, 3, 26, 11, 30, tzinfo=dt.UTC), "2026-03-26T11:30:00Z"),
        (dt.datetime(2026, 3, 26, 11, 30, 59, 999_999, tzinfo=dt.UTC), "2026-03-26T11:30:59Z"),  # dropped, not rounded
        (dt.datetime(2026, 7, 1, 1, 0, 5, tzinfo=PARIS), "2026-06-30T23:00:05Z"),
        (dt.datetime(2026, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))), "2025-12-31T19:00:00Z"),
        (dt.datetime(999, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "0999-01-02T03:04:05Z"),
        (None, None),
    ],
)
def test_format_utc(value, text):
    assert format_utc(value) == text
