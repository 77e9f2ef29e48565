"""Every write of the notifications: the reminder scan, the pause and resume notices, the digest, sending.

``reminders`` (the scan and its preview), ``notices`` (pause, resume, a decided renewal request),
``digest``, ``sending`` (the guarded send, resend, the stale nudge) and
``bulk`` (the set-based insert they share). Tasks, the admin, the command and
``certifications.services.effects`` call these.
"""

from notifications.services.digest import DigestResult, digests_create
from notifications.services.notices import (
    pause_notices_create,
    pause_notices_part,
    renewal_notice_create,
    resume_notice_create,
)
from notifications.services.reminders import (
    ReminderScanResult,
    UpcomingReminder,
    reminder_candidates,
    reminders_scan,
    reminders_upcoming,
)
from notifications.services.sending import (
    FAN_OUT_TASK_NAME,
    SEND_TASK_NAME,
    SendOutcome,
    notification_resend,
    notification_send,
    notifications_requeue_stale,
    notifications_send,
)

__all__ = [
    "FAN_OUT_TASK_NAME",
    "SEND_TASK_NAME",
    "DigestResult",
    "ReminderScanResult",
    "SendOutcome",
    "UpcomingReminder",
    "digests_create",
    "notification_resend",
    "notification_send",
    "notifications_requeue_stale",
    "notifications_send",
    "pause_notices_create",
    "pause_notices_part",
    "reminder_candidates",
    "reminders_scan",
    "reminders_upcoming",
    "renewal_notice_create",
    "resume_notice_create",
]
