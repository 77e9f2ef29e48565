"""Settings of retention: how long each kind of kept data lives (``manage.py apply_retention``, daily).

Imported by name into ``config.settings``; every variable is in docs/configuration.md.
DESIGN "Personal data"; docs/personal-data.md "Retention" says what each kind keeps.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

RETENTION = {
    # Delivered webhook deliveries (and their attempts), this many days after they were created.
    "DELIVERIES_DAYS": int(os.environ.get("RETENTION_DELIVERIES_DAYS", "90")),
    # Events, this many days after they occurred (never one unpublished or with a delivery still pending).
    "EVENTS_DAYS": int(os.environ.get("RETENTION_EVENTS_DAYS", "400")),
    # Notifications' recipients, subjects and errors are blanked this many days after they were written.
    "NOTIFICATIONS_DAYS": int(os.environ.get("RETENTION_NOTIFICATIONS_DAYS", "730")),
    # Renewal requests' evidence files, this many days after the decision.
    "EVIDENCE_DAYS": int(os.environ.get("RETENTION_EVIDENCE_DAYS", "90")),
    # Failed sign-ins (the security log's rows and the login limits' counters), this many days after.
    "LOGIN_FAILURES_DAYS": int(os.environ.get("RETENTION_LOGIN_FAILURES_DAYS", "30")),
    # Ids walked per batch: each batch is one short transaction over at most this many rows of one table.
    "BATCH_SIZE": int(os.environ.get("RETENTION_BATCH_SIZE", "2000")),
    # Milliseconds of rest after each batch that changed rows: leaves the machine to the API on a busy host.
    "BATCH_PAUSE_MS": int(os.environ.get("RETENTION_BATCH_PAUSE_MS", "0")),
    # And this many times as long as the batch itself took (1: work at most half the time).
    "BATCH_REST_FACTOR": float(os.environ.get("RETENTION_BATCH_REST_FACTOR", "1")),
}
_RESTS = ("BATCH_PAUSE_MS", "BATCH_REST_FACTOR")
if (
    min(value for key, value in RETENTION.items() if key not in _RESTS) < 1
    or RETENTION["BATCH_PAUSE_MS"] < 0
    or not 0 <= RETENTION["BATCH_REST_FACTOR"] <= 100
):
    raise ImproperlyConfigured(
        "Every RETENTION_* setting must be at least 1 (days, or ids per batch); a pause 0 or more; "
        "a rest factor from 0 to 100."
    )
