"""Timestamp handling shared by every serializer.

Input must carry a zone (``Z`` or an offset); a bare date means midnight UTC; a
naive date-time is refused. Output is always UTC, to the second, with ``Z``.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

BARE_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UTC = dt.UTC
# The years a timestamp may be written in (its own year, before conversion to UTC, so
# the range is what a client sees). Within it every offset converts to a UTC instant
# Python and both databases can hold, and the year renders as four digits.
MIN_YEAR, MAX_YEAR = 1900, 9998
# The same range as a pattern, for the schema: 1900-1999, 2000-8999, 9000-9899, 9900-9989, 9990-9998.
YEAR_PATTERN = r"^(19\d\d|[2-8]\d\d\d|9[0-8]\d\d|99[0-8]\d|999[0-8])-"
# What a timestamp input takes, as a schema: a zoned date-time or a bare date (midnight UTC).
DATE_OR_DATE_TIME_SCHEMA = {
    "anyOf": [
        {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN},
        {"type": "string", "format": "date", "pattern": YEAR_PATTERN},
    ]
}


def format_utc(value: dt.datetime | None) -> str | None:
    """Render an aware datetime as ``2026-03-26T11:30:00Z`` (None stays None; the year always four digits)."""
    if value is None:
        return None
    # isoformat pads the year to four digits and, to the second, drops (never rounds) the fraction;
    # it is several times faster than strftime, which counts when a batch renders thousands.
    return value.astimezone(UTC).isoformat(timespec="seconds")[:19] + "Z"


def parse_timestamp(raw: object) -> dt.datetime:
    """Parse an ISO 8601 timestamp with a zone, or a bare date (midnight UTC).

    Raises ``ValueError`` with a client-facing message.
    """
    if not isinstance(raw, str):
        raise ValueError("Expected an ISO 8601 string such as 2026-03-26T00:00:00Z.")
    text = raw.strip()
    try:
        if BARE_DATE_RE.match(text):
            value = dt.datetime.fromisoformat(text).replace(tzinfo=UTC)
        else:
            value = parse_datetime(text)
    except (ValueError, OverflowError):
        value = None
    if value is None:
        raise ValueError("Not a valid ISO 8601 timestamp; use e.g. 2026-03-26T00:00:00Z.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("A timestamp needs a zone: end it with Z or an offset such as +02:00.")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"Timestamp is out of range (years {MIN_YEAR} to {MAX_YEAR}).")
    return value.astimezone(UTC)


@extend_schema_field(OpenApiTypes.DATETIME)
class UTCDateTimeField(serializers.Field):
    """A timestamp: zone-aware ISO 8601 in, UTC ``...Z`` to the second out."""

    def to_internal_value(self, data: object) -> dt.datetime:
        try:
            return parse_timestamp(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: dt.datetime) -> str | None:
        return format_utc(value)


class DistinctListField(serializers.ListField):
    """A list whose items must all differ; the schema says so (``uniqueItems``)."""

    def to_internal_value(self, data):
        """The list's items, validated; a repeated item is a 400 naming it."""
        items = super().to_internal_value(data)
        seen: set = set()
        repeated = sorted({item for item in items if item in seen or seen.add(item)})
        if repeated:
            raise serializers.ValidationError(f"Each item once: repeated {', '.join(map(str, repeated[:10]))}.")
        return items
