"""OpenAPI hooks of the domain: the schema names the certification types the API accepts."""

from __future__ import annotations

from django.db import DatabaseError

from certifications.models import CertificationType

# Request bodies that take a type: only an active type may be written.
WRITE_COMPONENTS = ("CertificationCreateRequest", "CertificationUpdateRequest", "PatchedCertificationUpdateRequest")


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
