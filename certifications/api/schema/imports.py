"""OpenAPI documentation of the import and the export (``certifications.api.imports``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from certhub.api.schema import error_responses
from certhub.idempotency import IDEMPOTENCY_KEY_PARAMETER
from certifications.api.imports import (
    CertificationExportViewSet,
    CertificationImportViewSet,
    ImportResultSerializer,
    ImportUploadSerializer,
)

TAG = ["certifications"]

IMPORT_CSV_EXAMPLE = OpenApiExample(
    "Two rows",
    request_only=True,
    media_type="text/csv",
    value=(
        "mentor_id,certification_type,issued_at,expires_at,mentor_name,mentor_email,action,revocation_reason\n"
        "mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,,Ada Lovelace,ada@example.org,,\n"
        "mntr_01HX4V2K8Q,peer_mentor_advanced,2025-06-01T00:00:00Z,2027-06-01T00:00:00Z,,,revoke,Audit\n"
    ),
)
IMPORT_RESULT_EXAMPLE = OpenApiExample(
    "One new row, one invalid",
    response_only=True,
    value={
        "dry_run": False,
        "applied": False,
        "totals": {"new": 1, "updated": 0, "skipped": 0, "invalid": 1},
        "rows": [
            {"line": 2, "action": "new", "certification_id": None, "errors": {}},
            {"line": 3, "action": "invalid", "certification_id": None, "errors": {"issued_at": ["Required."]}},
        ],
    },
)
FLAGS = [
    OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Validate and report; apply nothing."),
    OpenApiParameter(
        "partial", OpenApiTypes.BOOL, description="Apply the valid rows even when some are invalid (default: none)."
    ),
]


extend_schema_view(
    create=extend_schema(
        summary="Import certifications from a CSV file",
        description=(
            "Columns: `mentor_id, certification_type, issued_at, expires_at?, mentor_name?, mentor_email?, "
            "action?` (`upsert` or `revoke`), `revocation_reason?`. A live record with the same mentor, type and "
            "`issued_at` is updated if the row differs, skipped if identical; otherwise a record is created. "
            "One invalid row applies nothing unless `partial=true`. Line numbers count the header as line 1. "
            "Needs `add_certification` and `change_certification`; a row that changes an existing mentor's name or "
            "email also needs `change_mentor`, else it is invalid."
        ),
        tags=TAG,
        parameters=[*FLAGS, IDEMPOTENCY_KEY_PARAMETER],
        request={"text/csv": {"type": "string", "minLength": 1}, "multipart/form-data": ImportUploadSerializer},
        responses={200: ImportResultSerializer, **error_responses(400, 401, 403, 409, 413, 415, 422)},
        examples=[IMPORT_CSV_EXAMPLE, IMPORT_RESULT_EXAMPLE],
    ),
)(CertificationImportViewSet)

extend_schema_view(
    list=extend_schema(
        summary="Export certifications as CSV",
        description=(
            "The list's filters; every matching row, streamed: the import's columns plus `certification_id` and "
            "`status`. A cell a spreadsheet would run as a formula is prefixed with `'`. The rows hold mentors' "
            "names and addresses: needs `view_certification` and `view_mentor`, whatever `API_PUBLIC_READS` says."
        ),
        tags=TAG,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file."),
            **error_responses(400, 401, 403),
        },
    ),
)(CertificationExportViewSet)
