"""Domain errors raised by services: each names what went wrong, nothing about transport.

Every entry point renders them its own way: the API maps each class to an HTTP
status and an envelope code (``certhub.api.errors.DOMAIN_ERRORS``), the admin
shows the message, a command prints it.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a rule of the domain.

    ``fields`` names the input fields at fault (field -> messages); ``extra``
    carries facts a caller may act on, such as the id of a record in the way.
    """

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.extra = extra


class RuleViolation(DomainError):
    """Input that is well-formed but not allowed."""


class NotFound(DomainError):
    """The record does not exist, or no longer does."""


class Conflict(DomainError):
    """A write that collides with an existing record."""


class StillLapsed(Conflict):
    """A mentor paused automatically cannot be resumed while a certification of theirs is still lapsed."""


class PendingRequestExists(Conflict):
    """A renewal request of the same mentor and type is already waiting for a decision."""


class MentorErased(Conflict):
    """A write that names a mentor whose personal data was erased: nothing may be recorded of them again."""


class AlreadyDecided(Conflict):
    """A renewal request was already approved, rejected or withdrawn."""


class CursorExpired(DomainError):
    """A feed cursor that names an event retention has since deleted: the reader starts again from what is kept."""


class JobAlreadyRunning(DomainError):
    """A non-dry expiry run was asked for while another one holds the lock."""


class TooLarge(DomainError):
    """A request bigger than the service accepts (an import's bytes or rows)."""


class ServiceUnavailable(DomainError):
    """A dependency (database, broker) is unreachable."""
