"""The certification domain: types, mentors, certifications, expiry runs and the auto-pause log.

Models hold data and invariants (choices, check and unique constraints,
indexes that match the queries). Rules that change data live in
``certifications.services``; reusable reads are QuerySet methods here.

One module per concern, every name re-exported here (``from
certifications.models import X`` is the way in): ``types`` (certification
types and their policy), ``mentors``, ``records`` (certifications, their
lifecycle and reads), ``runs`` (the expiry job's runs, lock and log), ``renewals`` (mentors' renewal
requests). The
history table lives in its own module of this app (``certifications.history``).
"""

# isort: off
# In the order the models were declared when this was one module (the app registry's order).
from certifications.models.types import CertificationType, validate_reminder_days
from certifications.models.mentors import Mentor, MentorStatus, PausedBy, mentor_id_validator
from certifications.models.records import (
    LIVE,
    Certification,
    CertificationQuerySet,
    CertificationStatus,
    DaysAfter,
    Lifecycle,
    grace_ends_at,
    lifecycle_condition,
    lifecycle_state,
    newer_current_exists,
    renewal_exists,
    renewal_window_opens,
)
from certifications.models.runs import AutoPauseLog, ExpiryJobRun, JobLock, JobState, JobTrigger, LogEvent
from certifications.history.models import HistoryEntry
from certifications.models.renewals import RenewalRequest, RenewalState, SubmittedVia
# isort: on

__all__ = [
    "LIVE",
    "AutoPauseLog",
    "Certification",
    "CertificationQuerySet",
    "CertificationStatus",
    "CertificationType",
    "DaysAfter",
    "ExpiryJobRun",
    "HistoryEntry",
    "JobLock",
    "JobState",
    "JobTrigger",
    "Lifecycle",
    "LogEvent",
    "Mentor",
    "MentorStatus",
    "PausedBy",
    "RenewalRequest",
    "RenewalState",
    "SubmittedVia",
    "grace_ends_at",
    "lifecycle_condition",
    "lifecycle_state",
    "mentor_id_validator",
    "newer_current_exists",
    "renewal_exists",
    "renewal_window_opens",
    "validate_reminder_days",
]
