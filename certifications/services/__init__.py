"""Every write that carries a business rule.

``records`` creates, changes and deletes certifications; ``lapse`` holds the
lapse rule's writes: the expiry job and its auto-pause, and the per-mentor
pause writes (``lapse.pause``: auto-resume after a record write, staff pause
and resume); ``mentors`` a mentor's own details, ``types`` the certification
types, ``renewals`` the mentors' renewal requests. Every write takes ``by``
(``certifications.history.Actor``): who asked,
from where, and why, for the history row it writes. Writes return the small
results of ``results``. Views, admin actions, commands and tasks call these
and nothing else.
"""

from certifications.services.guards import check_not_erased, mentor_id_not_erased
from certifications.services.imports import ImportResult, certification_import
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
from certifications.services.mentors import EDITABLE_FIELDS as MENTOR_EDITABLE_FIELDS
from certifications.services.mentors import mentor_create, mentor_get_or_create, mentor_update
from certifications.services.personal_data import ErasureResult, mentor_erase, mentor_export
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
from certifications.services.renewals import (
    renewal_request_approve,
    renewal_request_reject,
    renewal_request_submit,
    renewal_request_validate,
    renewal_request_withdraw,
)
from certifications.services.results import CertificationWriteResult, MentorWriteResult
from certifications.services.types import FIELDS as CERTIFICATION_TYPE_FIELDS
from certifications.services.types import certification_type_create, certification_type_update

__all__ = [
    "CERTIFICATION_TYPE_FIELDS",
    "EXPIRY_TASK_EXPIRES_SECONDS",
    "EXPIRY_TASK_NAME",
    "MENTOR_EDITABLE_FIELDS",
    "CertificationWriteResult",
    "ErasureResult",
    "ExpiryPreviewItem",
    "ImportResult",
    "MentorWriteResult",
    "certification_create",
    "certification_delete",
    "certification_import",
    "certification_renew",
    "certification_restore",
    "certification_revoke",
    "certification_type_create",
    "certification_type_update",
    "certification_update",
    "certification_validate_create",
    "certification_validate_update",
    "check_not_erased",
    "expiry_job_enqueue",
    "expiry_job_preview",
    "expiry_job_run",
    "expiry_runs_reap",
    "mentor_auto_resume",
    "mentor_create",
    "mentor_erase",
    "mentor_export",
    "mentor_get_or_create",
    "mentor_id_not_erased",
    "mentor_pause",
    "mentor_resume",
    "mentor_update",
    "renewal_request_approve",
    "renewal_request_reject",
    "renewal_request_submit",
    "renewal_request_validate",
    "renewal_request_withdraw",
]
