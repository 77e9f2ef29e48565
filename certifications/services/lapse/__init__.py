"""The lapse rule's writes: the expiry job, auto-pause, auto-resume and staff pauses.

One concern per module:

- ``reasons``: the pause reason (a database expression) and the resume reason;
- ``pause``: one mentor's auto-resume, staff pause and staff resume;
- ``lock``: the lease lock that keeps to one non-dry run at a time;
- ``runs``: run records, queuing a run on the worker, and reaping runs that died;
- ``preview``: what a run would apply, without writing;
- ``engines``: one batch's writes, portable ORM or one PostgreSQL statement;
- ``job``: the expiry job itself (``expiry_job_run``).

The names below are what the rest of the project imports from
``certifications.services.lapse``.
"""

from certifications.services.lapse.job import expiry_job_run
from certifications.services.lapse.lock import LOCK_NAME, LeaseLost, lock_holder
from certifications.services.lapse.pause import mentor_auto_resume, mentor_pause, mentor_resume
from certifications.services.lapse.preview import ExpiryPreviewItem, expiry_job_preview
from certifications.services.lapse.reasons import UTCDay, pause_reason, resume_reason
from certifications.services.lapse.runs import (
    EXPIRY_TASK_EXPIRES_SECONDS,
    EXPIRY_TASK_NAME,
    expiry_job_enqueue,
    expiry_run_create,
    expiry_runs_reap,
)

__all__ = [
    "EXPIRY_TASK_EXPIRES_SECONDS",
    "EXPIRY_TASK_NAME",
    "LOCK_NAME",
    "ExpiryPreviewItem",
    "LeaseLost",
    "UTCDay",
    "expiry_job_enqueue",
    "expiry_job_preview",
    "expiry_job_run",
    "expiry_run_create",
    "expiry_runs_reap",
    "lock_holder",
    "mentor_auto_resume",
    "mentor_pause",
    "mentor_resume",
    "pause_reason",
    "resume_reason",
]
