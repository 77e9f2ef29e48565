"""Every write that carries a business rule.

``records`` creates, changes and deletes certifications; ``lapse`` holds the
lapse rule's writes: the expiry job, auto-pause, auto-resume and staff pauses.
Views, admin actions, commands and tasks call these and nothing else.
"""

from certifications.services.lapse import (
    EXPIRY_TASK_EXPIRES_SECONDS,
    EXPIRY_TASK_NAME,
    ExpiryPreviewItem,
    expiry_job_enqueue,
    expiry_job_preview,
    expiry_job_run,
    mentor_auto_resume,
    mentor_pause,
    mentor_resume,
)
from certifications.services.records import (
    certification_create,
    certification_delete,
    certification_renew,
    certification_restore,
    certification_revoke,
    certification_update,
)

__all__ = [
    "EXPIRY_TASK_EXPIRES_SECONDS",
    "EXPIRY_TASK_NAME",
    "ExpiryPreviewItem",
    "certification_create",
    "certification_delete",
    "certification_renew",
    "certification_restore",
    "certification_revoke",
    "certification_update",
    "expiry_job_enqueue",
    "expiry_job_preview",
    "expiry_job_run",
    "mentor_auto_resume",
    "mentor_pause",
    "mentor_resume",
]
