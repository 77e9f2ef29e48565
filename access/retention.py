"""What retention takes of the security log: failed sign-ins, ``RETENTION_LOGIN_FAILURES_DAYS`` after.

A failed sign-in's row holds the username typed and the client's address; it
goes (as does a refused second-factor code's) after the window. Every other
row of the log (sign-ins, keys, exports, erasures) is the audit and stays.
Decision 0042.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from access.models import SecurityEvent, SecurityEventKind
from certhub.retention import RetentionKind, delete_rows

FAILED = (SecurityEventKind.SIGN_IN_FAILED, SecurityEventKind.FACTOR_FAILED)


def failed_sign_ins(rows: QuerySet, cutoff: dt.datetime) -> QuerySet:
    return rows.filter(kind__in=FAILED, occurred_at__lt=cutoff)


KINDS = (
    RetentionKind(
        name="security_log_failed_sign_ins",
        model=SecurityEvent,
        window="LOGIN_FAILURES_DAYS",
        action="deleted",
        select=failed_sign_ins,
        apply=delete_rows,
    ),
)
