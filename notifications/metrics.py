"""The notices' gauges (registered in ``NotificationsConfig.ready()``).

Notifications per state come from their maintained tally (``totals.states``, decision
0044: a few rows, however many notices are kept); the oldest queued one is the first
entry of its range of ``ntf_state_idx``.
"""

from __future__ import annotations

import datetime as dt

from certhub.metrics.gauges import Gauge, age_seconds
from certifications.totals.states import state_gauge
from notifications.models import Notification, NotificationState


def oldest_queued_age(now: dt.datetime) -> float:
    queued = Notification.objects.filter(state=NotificationState.QUEUED).order_by("created_at")
    return age_seconds(queued.values_list("created_at", flat=True).first(), now)


GAUGES = [
    Gauge(
        "certhub_notifications",
        "Notifications by state.",
        state_gauge(Notification),
        labels=("state",),
        values=[(state,) for state in NotificationState.values],
    ),
    Gauge(
        "certhub_notifications_oldest_queued_age_seconds",
        "Age of the oldest notification still queued (0 when none waits).",
        oldest_queued_age,
    ),
]
