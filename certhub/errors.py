"""Domain errors raised by services and rendered by every entry point.

The API turns them into the error envelope (``certhub.api.errors``); the admin
shows their message. Each carries the envelope code and HTTP status it maps to.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a rule of the domain."""

    status_code = 400
    code = "validation_error"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.extra = extra


class RuleViolation(DomainError):
    """Input that is well-formed but not allowed (400 ``validation_error``)."""


class NotFound(DomainError):
    """The record does not exist, or no longer does (404 ``not_found``)."""

    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """A write that collides with an existing record (409 ``conflict``)."""

    status_code = 409
    code = "conflict"


class JobAlreadyRunning(DomainError):
    """A non-dry expiry run was asked for while another one holds the lock (409)."""

    status_code = 409
    code = "job_already_running"


class ServiceUnavailable(DomainError):
    """A dependency (database, broker) is unreachable (503)."""

    status_code = 503
    code = "service_unavailable"
