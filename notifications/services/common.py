"""Expressions every kind of notice shares: recipient, state and a UTC day as text."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, CharField, F, Value, When
from django.db.models.functions import Cast, TruncDate

from notifications.models import NO_EMAIL, NotificationState


def utc_day(field: str) -> Cast:
    """A timestamp's UTC day as ``YYYY-MM-DD`` text, computed by the database."""
    return Cast(TruncDate(field, tzinfo=dt.UTC), output_field=CharField())


def addressed(email_field: str) -> dict:
    """The recipient, state and error of a notice to the address in ``email_field``: ``skipped`` without one."""
    no_email = {email_field: ""}
    return {
        "ntf_recipient": F(email_field),
        "ntf_state": Case(
            When(**no_email, then=Value(NotificationState.SKIPPED.value)),
            default=Value(NotificationState.QUEUED.value),
            output_field=CharField(),
        ),
        "ntf_error": Case(When(**no_email, then=Value(NO_EMAIL)), default=Value(""), output_field=CharField()),
    }
