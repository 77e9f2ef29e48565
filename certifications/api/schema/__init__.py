"""The OpenAPI documentation of the domain's API: each view's operations, and the hook naming the types.

Each module documents the view module of its name (``views``: certifications
and the expiry job; ``mentors``; ``imports``: the import and the export; ``renewals``) by
applying drf-spectacular's ``extend_schema_view`` to its views when imported.
The routes (``certifications.api.urls``) import this package, so a view is
documented wherever it is served.
"""

from __future__ import annotations

from django.db import DatabaseError

from certifications.api.schema import imports, mentors, renewals, views  # noqa: F401  (they document the views)
from certifications.models import CertificationType

# Request bodies that take a type: only an active type may be written.
WRITE_COMPONENTS = (
    "CertificationCreateRequest",
    "CertificationUpdateRequest",
    "PatchedCertificationUpdateRequest",
    "RenewalRequestCreateRequest",
)


def describe_certification_types(result: dict, **kwargs) -> dict:
    """``certification_type`` as an enum: the active types in writes, every type in the list filter.

    The schema is built per request from the database, so a type staff add or
    retire in the admin shows in ``/api/schema/`` at once.
    """
    try:
        codes = dict(CertificationType.objects.order_by("code").values_list("code", "is_active"))
    except DatabaseError:
        # No database to ask (``manage.py check`` before ``migrate``): the schema names no types.
        return result
    active = [code for code, is_active in codes.items() if is_active]
    schemas = result.get("components", {}).get("schemas", {})
    for name in WRITE_COMPONENTS:
        field = schemas.get(name, {}).get("properties", {}).get("certification_type")
        if field is not None:
            field["enum"] = active
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter["name"] == "certification_type":
                    parameter["schema"]["enum"] = list(codes)
    return result
