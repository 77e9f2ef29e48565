"""OpenAPI documentation of the mentor views (``certifications.api.mentors``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from certhub.api.fields import DATE_OR_DATE_TIME_SCHEMA
from certhub.api.schema import error_responses
from certifications.api.mentors import (
    EligibilityBatchAnswerSerializer,
    EligibilityBatchSerializer,
    EligibilitySerializer,
    MentorSerializer,
    MentorViewSet,
    PauseSerializer,
)
from certifications.api.personal_data import ErasedSerializer, EraseSerializer
from certifications.api.schema.views import history_schema

TAG = ["mentors"]

THROUGH = OpenApiParameter(
    "through",
    DATE_OR_DATE_TIME_SCHEMA,
    description="Eligible through this moment too (a zoned timestamp or a date, not earlier than now).",
)
MENTOR_ID = OpenApiParameter("mentor_id", OpenApiTypes.STR, OpenApiParameter.PATH)
ELIGIBLE_EXAMPLE = OpenApiExample(
    "Eligible, renewal due",
    value={
        "mentor_id": "mntr_01HX4V2K8P",
        "eligible": True,
        "eligible_through": "2026-06-01T00:00:00Z",
        "status": "active",
        "paused_by": None,
        "reasons": [],
        "warnings": ["renewal_due:peer_mentor_basic"],
        "certifications": [
            {
                "certification_id": "cert_PJRXH884",
                "certification_type": "peer_mentor_basic",
                "expires_at": "2026-06-01T00:00:00Z",
                "lifecycle": "renewal_due",
                "grace_until": "2026-06-01T00:00:00Z",
            }
        ],
    },
    response_only=True,
)


MENTOR_VALUE = {
    "mentor_id": "mntr_01HX4V2K8P",
    "name": "Ada Okafor",
    "email": "ada@example.org",
    "status": "paused",
    "paused_by": "staff",
    "paused_at": "2026-03-26T09:00:00Z",
    "pause_reason": "On leave until May",
    "created_at": "2025-01-10T08:00:00Z",
    "updated_at": "2026-03-26T09:00:00Z",
    "erased_at": None,
}
MENTOR_EXAMPLE = OpenApiExample("A mentor paused by staff", value=MENTOR_VALUE, response_only=True)
# A list's example is one item; the schema shows it inside the envelope.
LIST_EXAMPLE = OpenApiExample("One page", value=MENTOR_VALUE, response_only=True)
PAUSE_EXAMPLE = OpenApiExample("Pause", value={"reason": "On leave until May"}, request_only=True)
RESUMED_EXAMPLE = OpenApiExample(
    "Resumed",
    value={**MENTOR_VALUE, "status": "active", "paused_by": None, "paused_at": None, "pause_reason": None},
    response_only=True,
)
ERASE_EXAMPLE = OpenApiExample("Erase", value={"reason": "Asked to be forgotten (ticket 4127)"}, request_only=True)
ERASED_EXAMPLE = OpenApiExample(
    "Erased", value={"mentor_id": "mntr_01HX4V2K8P", "erased_at": "2026-12-04T18:30:00Z"}, response_only=True
)
BATCH_REQUEST_EXAMPLE = OpenApiExample(
    "Two mentors through a match period",
    value={"mentor_ids": ["mntr_01HX4V2K8P", "mntr_02BY7M3RL"], "through": "2027-06-01"},
    request_only=True,
)
BATCH_ANSWER_EXAMPLE = OpenApiExample(
    "One eligible, one not",
    value={
        "data": [
            {**ELIGIBLE_EXAMPLE.value, "warnings": []},
            {
                "mentor_id": "mntr_02BY7M3RL",
                "eligible": False,
                "eligible_through": None,
                "status": "paused",
                "paused_by": "auto",
                "reasons": ["paused_auto", "lapsed:peer_mentor_basic"],
                "warnings": [],
                "certifications": [
                    {
                        "certification_id": "cert_Y362QP37",
                        "certification_type": "peer_mentor_basic",
                        "expires_at": "2026-03-01T00:00:00Z",
                        "lifecycle": "lapsed",
                        "grace_until": "2026-03-01T00:00:00Z",
                    }
                ],
            },
        ]
    },
    response_only=True,
)


extend_schema_view(
    list=extend_schema(
        summary="List mentors",
        tags=TAG,
        examples=[LIST_EXAMPLE],
        responses={200: MentorSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="Get a mentor",
        tags=TAG,
        examples=[MENTOR_EXAMPLE],
        parameters=[MENTOR_ID],
        responses={200: MentorSerializer, **error_responses(401, 403, 404)},
    ),
    history=extend_schema(
        **history_schema(
            summary="The history of a mentor", perm="certifications.view_mentor", tags=TAG, parameter=MENTOR_ID
        )
    ),
    pause=extend_schema(
        summary="Pause a mentor (staff)",
        description="A staff pause, never lifted automatically. Needs `certifications.change_mentor`.",
        tags=TAG,
        parameters=[MENTOR_ID],
        request=PauseSerializer,
        responses={200: MentorSerializer, **error_responses(400, 401, 403, 404)},
        examples=[PAUSE_EXAMPLE, MENTOR_EXAMPLE],
    ),
    resume=extend_schema(
        summary="Resume a mentor (staff)",
        description="Lifts a staff pause, or an automatic one once no certification is lapsed (409 `still_lapsed`).",
        tags=TAG,
        parameters=[MENTOR_ID],
        request=None,
        responses={200: MentorSerializer, **error_responses(401, 403, 404, 409)},
        examples=[RESUMED_EXAMPLE],
    ),
    eligibility=extend_schema(
        summary="Is this mentor eligible, and through when?",
        tags=TAG,
        parameters=[MENTOR_ID, THROUGH],
        responses={200: EligibilitySerializer, **error_responses(400, 401, 403, 404)},
        examples=[ELIGIBLE_EXAMPLE],
    ),
    export=extend_schema(
        summary="Export a mentor's personal data (ZIP)",
        description="A ZIP streamed as it is built: `mentor.json`, `certifications.csv`, `history.json`, "
        "`notifications.json` (recipients, subjects and bodies as sent), `renewal_requests.json` with the "
        "evidence files under `evidence/`, and `events.json` (the events about the mentor). Needs "
        "`certifications.manage_personal_data`; recorded in the security log.",
        tags=TAG,
        parameters=[MENTOR_ID],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The archive."),
            **error_responses(401, 403, 404),
        },
    ),
    erase=extend_schema(
        summary="Erase a mentor's personal data",
        description="In one transaction: the name and email become empty, notices and history lose their copies, "
        "queued notices are skipped, evidence files are deleted after commit, a `mentor.erased` event is written. "
        "Ids, dates, states, the auto-pause log and every total stay. A repeat answers the first `erased_at`; "
        "every later write naming the mentor answers 409 `mentor_erased`. Needs "
        "`certifications.manage_personal_data`; recorded in the security log.",
        tags=TAG,
        parameters=[MENTOR_ID],
        request=EraseSerializer,
        responses={200: ErasedSerializer, **error_responses(400, 401, 403, 404)},
        examples=[ERASE_EXAMPLE, ERASED_EXAMPLE],
    ),
    eligibility_batch=extend_schema(
        summary="Eligibility of up to 500 mentors, in request order",
        description="Unknown ids are answered with the reason `unknown_mentor`. A constant number of queries.",
        tags=TAG,
        request=EligibilityBatchSerializer,
        responses={200: EligibilityBatchAnswerSerializer, **error_responses(400, 401, 403)},
        examples=[BATCH_REQUEST_EXAMPLE, BATCH_ANSWER_EXAMPLE],
    ),
)(MentorViewSet)
