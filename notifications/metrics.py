"""The notices' gauges (registered in ``NotificationsConfig.ready()``), read from ``ntf_state_idx``.

Notifications are counted per state from the ``(state, created_at)`` index (an
index-only count of the whole table: notices are kept, so it grows with them; decision
0034 says when it moves to a tally); the oldest queued one
is the first entry of its range.
"""

from __future__ import annotations

import datetime as dt

from certhub.metrics.gauges import Gauge, age_seconds, counts_by
from notifications.models import Notification, NotificationState


def notifications(now: dt.datetime) -> dict[tuple[str], int]:
    return counts_by(Notification.objects.all(), "state")


def oldest_queued_age(now: dt.datetime) -> float:
    queued = Notification.objects.filter(state=NotificationState.QUEUED).order_by("created_at")
    return age_seconds(queued.values_list("created_at", flat=True).first(), now)


GAUGES = [
    Gauge(
        "certhub_notifications",
        "Notifications by state.",
        notifications,
        labels=("state",),
        values=[(state,) for state in NotificationState.values],
    ),
    Gauge(
        "certhub_notifications_oldest_queued_age_seconds",
        "Age of the oldest notification still queued (0 when none waits).",
        oldest_queued_age,
    ),
]
