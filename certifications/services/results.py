"""What a write returns: the record it wrote and every consequence it had.

An entry point reads these to report a write (e.g. the admin's "Resumed 1
auto-paused mentor") instead of comparing the database before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

from certifications.models import AutoPauseLog, Certification, Mentor


@dataclass(frozen=True)
class MentorWriteResult:
    """A write to a mentor: the mentor as it now is, whether its state changed, the log rows written."""

    mentor: Mentor
    changed: bool
    logs: tuple[AutoPauseLog, ...] = ()


@dataclass(frozen=True)
class CertificationWriteResult:
    """A write to a certification: the record as written, the mentor it resumed (if any), the log rows written."""

    certification: Certification
    resumed_mentor: Mentor | None = None
    logs: tuple[AutoPauseLog, ...] = ()
