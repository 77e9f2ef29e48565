"""Every write that carries a business rule.

``records`` creates, changes and deletes certifications; ``lapse`` holds the
lapse rule's writes: the expiry job and its auto-pause, and the per-mentor
pause writes (``lapse.pause``: auto-resume after a record write, staff pause
and resume). Writes return the small results of ``results``. Views, admin actions, commands and tasks call
these and nothing else.
"""

from certifications.services.lapse import (
    EXPIRY_TASK_EXPIRES_SECONDS,
    EXPIRY_TASK_NAME,
    ExpiryPreviewItem,
    expiry_job_enqueue,
    expiry_job_preview,
    expiry_job_run,
    expiry_runs_reap,
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
    certification_validate_create,
    certification_validate_update,
)
from certifications.services.results import CertificationWriteResult, MentorWriteResult

__all__ = [
    "EXPIRY_TASK_EXPIRES_SECONDS",
    "EXPIRY_TASK_NAME",
    "CertificationWriteResult",
    "ExpiryPreviewItem",
    "MentorWriteResult",
    "certification_create",
    "certification_delete",
    "certification_renew",
    "certification_restore",
    "certification_revoke",
    "certification_update",
    "certification_validate_create",
    "certification_validate_update",
    "expiry_job_enqueue",
    "expiry_job_preview",
    "expiry_job_run",
    "expiry_runs_reap",
    "mentor_auto_resume",
    "mentor_pause",
    "mentor_resume",
]
