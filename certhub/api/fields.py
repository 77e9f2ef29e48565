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


def format_utc(value: dt.datetime | None) -> str | None:
    """Render an aware datetime as ``2026-03-26T11:30:00Z`` (None stays None)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    try:
        value = value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("Timestamp is out of range.") from None
    if value.year < 1900 or value.year > 9998:
        raise ValueError("Timestamp is out of range (years 1900 to 9998).")
    return value


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
