"""Who asked for a write, from where, and why: what a history row says of its author."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models


class Source(models.TextChoices):
    """Where a write came from."""

    API = "api", "API"
    ADMIN = "admin", "Admin"
    IMPORT = "import", "Import"
    JOB = "job", "Expiry job"
    CLI = "cli", "Command line"
    MENTOR = "mentor", "Mentor's renewal link"


@dataclass(frozen=True)
class Actor:
    """The author of a write: ``user`` (None for the system), its ``source``, and a ``reason`` (may be empty)."""

    source: str
    user: Any = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.source not in Source.values:
            raise ValueError(f"Unknown source {self.source!r}; one of {', '.join(Source.values)}.")
        if self.user is not None and not getattr(self.user, "is_authenticated", False):
            object.__setattr__(self, "user", None)  # an anonymous user is no one

    @classmethod
    def api(cls, request: Any) -> Actor:
        """A write through the API by the request's user."""
        return cls(source=Source.API, user=getattr(request, "user", None))

    @classmethod
    def admin(cls, request: Any) -> Actor:
        """A write in the admin by the request's user."""
        return cls(source=Source.ADMIN, user=getattr(request, "user", None))

    @classmethod
    def importer(cls, request: Any) -> Actor:
        """An import (API or admin) by the request's user."""
        return cls(source=Source.IMPORT, user=getattr(request, "user", None))

    @classmethod
    def job(cls, job_run_id: str) -> Actor:
        """The expiry job's run ``job_run_id`` (the history's reason)."""
        return cls(source=Source.JOB, reason=job_run_id)

    @classmethod
    def mentor(cls) -> Actor:
        """The mentor, through their signed renewal link (no account)."""
        return cls(source=Source.MENTOR)

    @property
    def name(self) -> str:
        """The username, or ``system:<source>``."""
        if self.user is not None:
            return self.user.get_username()
        return f"system:{self.source}"
