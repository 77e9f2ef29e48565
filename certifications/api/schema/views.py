"""OpenAPI documentation of the certification and expiry-job views (``certifications.api.views``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from certhub.api.schema import error_responses
from certhub.idempotency import IDEMPOTENCY_KEY_PARAMETER
from certifications.api.history import HistoryEntrySerializer
from certifications.api.serializers import (
    AutoPauseLogSerializer,
    CertificationCreateSerializer,
    CertificationDeletedSerializer,
    CertificationSerializer,
    CertificationUpdateSerializer,
    ExpiryJobRunRequestSerializer,
    ExpiryJobRunResultSerializer,
    ExpiryJobRunSerializer,
)
from certifications.api.views import (
    DETAIL_DESCRIPTION,
    LIST_DESCRIPTION,
    AutoPauseLogViewSet,
    CertificationViewSet,
    ExpiryJobRunViewSet,
    ExpiryJobViewSet,
)

TAG_CERTS = ["certifications"]
TAG_JOB = ["expiry job"]

# Declared so the schema says "a string" rather than repeat the lookup's pattern.
CERTIFICATION_ID = OpenApiParameter("certification_id", OpenApiTypes.STR, OpenApiParameter.PATH)
JOB_RUN_ID = OpenApiParameter("job_run_id", OpenApiTypes.STR, OpenApiParameter.PATH)

HISTORY_EXAMPLE = OpenApiExample(
    "A renewal that resumed the mentor",
    value=[
        {
            "history_id": 42,
            "at": "2026-03-27T09:30:00Z",
            "actor": "coordinator",
            "source": "api",
            "change": "changed",
            "changes": {"expires_at": ["2026-03-01T00:00:00Z", "2029-03-01T00:00:00Z"], "status": ["expired", "valid"]},
            "reason": "renewed",
        },
        {
            "history_id": 17,
            "at": "2026-03-26T01:00:00Z",
            "actor": "system:job",
            "source": "job",
            "change": "changed",
            "changes": {"auto_pause_applied": [False, True]},
            "reason": "job_26MAR2026_01",
        },
    ],
    response_only=True,
)


def history_schema(*, summary: str, perm: str, tags: list[str], parameter, note: str = "") -> dict:
    """The ``extend_schema`` arguments of a history action (``note`` is added to its description)."""
    return {
        "summary": summary,
        "description": f"Every change, newest first. Needs `{perm}`, whatever `API_PUBLIC_READS` says.{note}",
        "tags": tags,
        "parameters": [parameter],
        "request": None,
        "responses": {200: HistoryEntrySerializer(many=True), **error_responses(400, 401, 403, 404)},
        "examples": [HISTORY_EXAMPLE],
    }


extend_schema_view(
    list=extend_schema(
        summary="List mentor certifications with optional filters",
        description=LIST_DESCRIPTION,
        tags=TAG_CERTS,
        responses={200: CertificationSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    create=extend_schema(
        summary="Record a new certification for a mentor",
        description=LIST_DESCRIPTION,
        tags=TAG_CERTS,
        request=CertificationCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={201: CertificationSerializer, **error_responses(400, 401, 403, 409, 422)},
        examples=[
            OpenApiExample(
                "Record an advanced certification",
                request_only=True,
                value={
                    "mentor_id": "mntr_01HX4V2K8P",
                    "certification_type": "peer_mentor_advanced",
                    "issued_at": "2026-03-26T00:00:00Z",
                    "expires_at": "2028-03-26T00:00:00Z",
                },
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get a specific certification record",
        description=DETAIL_DESCRIPTION,
        tags=TAG_CERTS,
        parameters=[CERTIFICATION_ID],
        responses={200: CertificationSerializer, **error_responses(401, 403, 404)},
    ),
    update=extend_schema(
        summary="Update a certification record (e.g. renew expiry date)",
        description="A partial update, as in the contract: send only the fields to change. PATCH behaves the same.",
        tags=TAG_CERTS,
        parameters=[CERTIFICATION_ID],
        request=CertificationUpdateSerializer,
        responses={200: CertificationSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
    partial_update=extend_schema(
        summary="Update a certification record (same as PUT)",
        description=DETAIL_DESCRIPTION,
        tags=TAG_CERTS,
        parameters=[CERTIFICATION_ID],
        request=CertificationUpdateSerializer,
        responses={200: CertificationSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
    destroy=extend_schema(
        summary="Remove a certification record",
        description="A soft delete: the record is gone from the API (404) but staff can restore it in the admin.",
        tags=TAG_CERTS,
        parameters=[CERTIFICATION_ID],
        responses={200: CertificationDeletedSerializer, **error_responses(401, 403, 404)},
    ),
    history=extend_schema(
        **history_schema(
            summary="The history of a certification",
            perm="certifications.view_certification",
            tags=TAG_CERTS,
            parameter=CERTIFICATION_ID,
            note=" A deleted record's history is served to users who may restore it (`delete_certification`);"
            " to others it is a 404.",
        )
    ),
)(CertificationViewSet)

extend_schema_view(
    run=extend_schema(
        summary="Manually trigger the certification expiry auto-pause job",
        description=(
            "Runs synchronously and answers 200 with the counters; a run still going after "
            "`EXPIRY_JOB_SYNC_WAIT_SECONDS` (20 s) answers 202 with the run in state `running` and goes on. "
            "`dry_run: true` computes the counters "
            "and changes nothing. `async: true` queues the run on the worker and answers 202 with the run "
            "in state `queued`; follow it at `expiry-job/runs/{job_run_id}`. Needs the "
            "`certifications.run_expiry_job` permission. A non-dry run while another one runs is a 409 "
            "`job_already_running`."
        ),
        tags=TAG_JOB,
        request=ExpiryJobRunRequestSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            200: ExpiryJobRunResultSerializer,
            202: OpenApiResponse(
                ExpiryJobRunSerializer,
                description=(
                    "Queued on the worker (`async`), or a synchronous run still going after "
                    "`EXPIRY_JOB_SYNC_WAIT_SECONDS` (state `running`): it goes on, follow it at "
                    "`expiry-job/runs/{job_run_id}`."
                ),
            ),
            **error_responses(400, 401, 403, 409, 422, 503),
        },
    ),
)(ExpiryJobViewSet)

extend_schema_view(
    list=extend_schema(
        summary="List auto-pause event logs from expiry job runs",
        description=(
            "Newest first. Holds `auto_pause` rows written by the job and `auto_resume` rows written by renewals."
        ),
        tags=TAG_JOB,
        responses={200: AutoPauseLogSerializer(many=True), **error_responses(400, 401, 403)},
    )
)(AutoPauseLogViewSet)

extend_schema_view(
    list=extend_schema(
        summary="List expiry job runs, newest first",
        description="``GET /api/v1/certifications/expiry-job/runs``.",
        tags=TAG_JOB,
        responses={200: ExpiryJobRunSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="Get one expiry job run with its state",
        description="``GET /api/v1/certifications/expiry-job/runs/{job_run_id}``.",
        tags=TAG_JOB,
        parameters=[JOB_RUN_ID],
        responses={200: ExpiryJobRunSerializer, **error_responses(401, 403, 404)},
    ),
)(ExpiryJobRunViewSet)
