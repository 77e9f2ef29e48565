"""OpenAPI documentation of the renewal request views (``certifications.api.renewals``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from certhub.api.schema import error_responses
from certhub.idempotency import IDEMPOTENCY_KEY_PARAMETER
from certifications.api.renewals import (
    NoBodySerializer,
    RenewalRequestApproveSerializer,
    RenewalRequestCreateSerializer,
    RenewalRequestRejectSerializer,
    RenewalRequestSerializer,
    RenewalRequestViewSet,
)
from certifications.renewals.evidence import KINDS

TAG = ["renewal requests"]
EVIDENCE_TYPES = [kind.content_type for kind in KINDS]
REQUEST_ID = OpenApiParameter("renewal_request_id", OpenApiTypes.STR, OpenApiParameter.PATH)
PENDING_VALUE = {
    "renewal_request_id": "rnw_04QR8TZ2KM",
    "mentor_id": "mntr_01HX4V2K8P",
    "certification_type": "peer_mentor_basic",
    "issued_at": "2026-03-20T00:00:00Z",
    "expires_at": None,
    "state": "pending",
    "submitted_via": "mentor_link",
    "note": "Renewed at the March workshop.",
    "evidence_content_type": "application/pdf",
    "evidence_size": 183204,
    "decided_by": None,
    "decided_at": None,
    "decision_reason": None,
    "certification_id": None,
    "created_at": "2026-03-26T11:30:00Z",
}
APPROVED_VALUE = {
    **PENDING_VALUE,
    "state": "approved",
    "decided_by": "coordinator",
    "decided_at": "2026-03-27T09:00:00Z",
    "certification_id": "cert_PJRXH884",
}
PENDING_EXAMPLE = OpenApiExample("Pending", value=PENDING_VALUE, response_only=True)
CREATE_EXAMPLE = OpenApiExample(
    "A PDF certificate",
    request_only=True,
    media_type="multipart/form-data",
    value={
        "mentor_id": "mntr_01HX4V2K8P",
        "certification_type": "peer_mentor_basic",
        "issued_at": "2026-03-20",
        "note": "Renewed at the March workshop.",
        "evidence": "(the file)",
    },
)
APPROVE_EXAMPLE = OpenApiExample("A corrected issue date", value={"issued_at": "2026-03-19"}, request_only=True)
APPROVED_EXAMPLE = OpenApiExample("Approved", value=APPROVED_VALUE, response_only=True)
REJECT_EXAMPLE = OpenApiExample("Unreadable", value={"reason": "The scan is unreadable."}, request_only=True)
REJECTED_EXAMPLE = OpenApiExample(
    "Rejected",
    value={
        **PENDING_VALUE,
        "state": "rejected",
        "decided_by": "coordinator",
        "decided_at": "2026-03-27T09:00:00Z",
        "decision_reason": "The scan is unreadable.",
    },
    response_only=True,
)
WITHDRAWN_EXAMPLE = OpenApiExample(
    "Withdrawn",
    value={**PENDING_VALUE, "state": "withdrawn", "decided_by": "hr-sync", "decided_at": "2026-03-26T12:00:00Z"},
    response_only=True,
)
ALREADY_DECIDED = "A decided request (approved, rejected, withdrawn) answers 409 `already_decided`."

extend_schema_view(
    list=extend_schema(
        summary="List renewal requests, oldest first",
        description="Filters `state`, `mentor_id`, `certification_type`. Needs `certifications.view_renewalrequest`.",
        tags=TAG,
        examples=[OpenApiExample("One page", value=PENDING_VALUE, response_only=True)],
        responses={200: RenewalRequestSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    create=extend_schema(
        summary="Submit a renewal request with its evidence",
        description=(
            "Multipart: `mentor_id`, `certification_type` (a type the mentor holds or held), `issued_at` (not in "
            "the future), `expires_at` (optional: the type's validity from `issued_at`; it must be later than "
            "`issued_at` and than now), `note`, and one `evidence` file: PDF, PNG or JPEG judged by its content "
            "(400 otherwise), at most `RENEWAL_EVIDENCE_MAX_BYTES` (413, refused from `Content-Length` before the "
            "body is read). A second pending request of the mentor and type is a 409 `pending_request_exists`. "
            "Needs `certifications.add_renewalrequest`. A refused request stores nothing, its file included."
        ),
        tags=TAG,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request={"multipart/form-data": RenewalRequestCreateSerializer},
        responses={201: RenewalRequestSerializer, **error_responses(400, 401, 403, 409, 413, 415, 422)},
        examples=[CREATE_EXAMPLE, PENDING_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="Get a renewal request (no file bytes)",
        tags=TAG,
        parameters=[REQUEST_ID],
        examples=[PENDING_EXAMPLE],
        responses={200: RenewalRequestSerializer, **error_responses(401, 403, 404)},
    ),
    evidence=extend_schema(
        summary="Download a renewal request's evidence",
        description="The file as an attachment (`Content-Disposition: attachment`, `X-Content-Type-Options: nosniff`).",
        tags=TAG,
        parameters=[REQUEST_ID],
        responses={
            **{
                (200, content_type): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")
                for content_type in EVIDENCE_TYPES
            },
            **error_responses(401, 403, 404),
        },
    ),
    approve=extend_schema(
        summary="Approve: record the renewal",
        description=(
            "Records a new certification (superseding the old one, resuming an auto-paused mentor), with the "
            "reviewer in its history; the reviewer may correct the dates. Needs "
            f"`certifications.review_renewalrequest`. {ALREADY_DECIDED}"
        ),
        tags=TAG,
        parameters=[REQUEST_ID],
        request=RenewalRequestApproveSerializer,
        responses={200: RenewalRequestSerializer, **error_responses(400, 401, 403, 404, 409)},
        examples=[APPROVE_EXAMPLE, APPROVED_EXAMPLE],
    ),
    reject=extend_schema(
        summary="Reject, with a reason",
        description=f"The mentor is told the reason. Needs `certifications.review_renewalrequest`. {ALREADY_DECIDED}",
        tags=TAG,
        parameters=[REQUEST_ID],
        request=RenewalRequestRejectSerializer,
        responses={200: RenewalRequestSerializer, **error_responses(400, 401, 403, 404, 409)},
        examples=[REJECT_EXAMPLE, REJECTED_EXAMPLE],
    ),
    withdraw=extend_schema(
        summary="Withdraw a pending request",
        description=f"Needs `certifications.change_renewalrequest`. {ALREADY_DECIDED}",
        tags=TAG,
        parameters=[REQUEST_ID],
        request=NoBodySerializer,
        responses={200: RenewalRequestSerializer, **error_responses(400, 401, 403, 404, 409)},
        examples=[WITHDRAWN_EXAMPLE],
    ),
)(RenewalRequestViewSet)
