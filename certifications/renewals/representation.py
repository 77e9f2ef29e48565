"""A renewal request's representation, said once: the API row, and the event payload as a named subset of it.

The event payload is thin (ids, states, dates): no note, no reason, no file,
nothing a mentor wrote. The API row adds those and the evidence's type and
size (never its bytes or its storage name).
"""

from __future__ import annotations

from typing import Any

from certhub.api.fields import format_utc
from certifications.models import RenewalRequest

API = (
    "renewal_request_id",
    "mentor_id",
    "certification_type",
    "issued_at",
    "expires_at",
    "state",
    "submitted_via",
    "note",
    "evidence_content_type",
    "evidence_size",
    "decided_by",
    "decided_at",
    "decision_reason",
    "certification_id",
    "created_at",
)
EVENT = (
    "renewal_request_id",
    "mentor_id",
    "certification_type",
    "issued_at",
    "expires_at",
    "state",
    "submitted_via",
    "decided_at",
    "certification_id",
)


def _value(request: RenewalRequest, name: str) -> Any:
    if name == "mentor_id":
        return request.mentor.mentor_id
    if name == "certification_type":
        return request.certification_type.code
    if name == "decided_by":
        return request.decided_by.get_username() if request.decided_by_id else None
    if name == "certification_id":
        return request.certification.certification_id if request.certification_id else None
    if name == "decision_reason":
        return request.decision_reason or None
    value = getattr(request, name)
    return format_utc(value) if name.endswith("_at") else value


def represent(request: RenewalRequest, fields: tuple[str, ...] = API) -> dict[str, Any]:
    """``request`` as the named ``fields`` (``API`` or ``EVENT``), in their order."""
    return {name: _value(request, name) for name in fields}
