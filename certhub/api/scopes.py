"""The scopes of API keys: the vocabulary, and how a permission asks a request's key for one.

A key (``access.models.ApiKey``) carries a list of these names; every API
permission (``certhub.api.permissions.api_permission(scope=...)``) declares the
scope its reads and writes need. A request authenticated by a key needs that
scope *and* the user's permission; a session or a DRF token carries no scopes
(``request.auth`` has no ``scopes``) and is judged by the user's permissions alone.
"""

from __future__ import annotations

from rest_framework.exceptions import PermissionDenied

SCOPES: tuple[str, ...] = (
    "certifications:read",
    "certifications:write",
    "mentors:read",
    "mentors:write",
    "renewals:read",
    "renewals:write",
    "renewals:review",
    "events:read",
    "webhooks:manage",
    "notifications:read",
    "jobs:run",
    "personal_data:manage",
)
SCOPE_PREFIXES = frozenset(scope.partition(":")[0] for scope in SCOPES)


class InsufficientScope(PermissionDenied):
    """A key that lacks the scope an operation needs: a 403 that names the scope."""

    default_code = "insufficient_scope"

    def __init__(self, scope: str | None) -> None:
        if scope is None:
            message = "This operation does not accept API keys: use a session."
        else:
            message = f"This API key lacks the scope {scope}."
        super().__init__(message, code=self.default_code)


def scopes_of(request) -> frozenset[str] | None:
    """The scopes of the request's key, or None when no key authenticated it."""
    scopes = getattr(request.auth, "scopes", None)
    return None if scopes is None else frozenset(scopes)


def scope_for(declared: str | None, *, reading: bool) -> str | None:
    """The scope an operation needs: a full scope as declared, or ``<declared>:read`` / ``:write`` by the method."""
    if declared is None or ":" in declared:
        return declared
    return f"{declared}:{'read' if reading else 'write'}"


def check_scope(request, declared: str | None, *, reading: bool) -> None:
    """Refuse (403, naming the scope) a key without the operation's scope; nothing for other credentials."""
    granted = scopes_of(request)
    if granted is None:
        return
    needed = scope_for(declared, reading=reading)
    if needed is None or needed not in granted:
        raise InsufficientScope(needed)
