"""``/api/v1/mentors``: mentors, staff pause and resume, and eligibility for a match period.

Mentor data is personal: every route needs an authenticated user holding
``certifications.view_mentor`` (writes: ``change_mentor``), whatever
``API_PUBLIC_READS`` says. Pause and resume call the same services as the
admin's actions.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.fields import DATE_OR_DATE_TIME_SCHEMA, DistinctListField, UTCDateTimeField, parse_timestamp
from certhub.api.filters import FilterSet, TieBreakOrderingFilter
from certhub.api.permissions import check_method
from certhub.api.schema import error_responses
from certhub.api.serializers import StrictCharField, StrictSerializer
from certifications import services
from certifications.api.history import history_action_schema, history_response
from certifications.api.serializers import MentorIdField
from certifications.eligibility import mentors_eligibility
from certifications.history import Actor
from certifications.models import Mentor, MentorStatus, PausedBy

TAG = ["mentors"]
MAX_BATCH = 500


class MentorPermissions(DjangoModelPermissions):
    """``view_mentor`` to read, ``change_mentor`` to pause or resume; credentials always."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.change_%(model_name)s"],
    }

    # POSTs that only read (a batch question sent as a body): they need the view permission.
    read_actions = ("eligibility_batch",)

    def has_permission(self, request, view) -> bool:
        check_method(request, view)
        if getattr(view, "action", None) in self.read_actions:
            user = request.user
            return bool(user and user.is_authenticated and user.has_perm("certifications.view_mentor"))
        return super().has_permission(request, view)


class MentorSerializer(serializers.Serializer):
    mentor_id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    status = serializers.CharField()
    paused_by = serializers.CharField(allow_null=True)
    paused_at = UTCDateTimeField(allow_null=True)
    pause_reason = serializers.CharField(allow_null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    def to_representation(self, instance: Mentor) -> dict:
        data = super().to_representation(instance)
        data["paused_by"] = instance.paused_by or None
        data["pause_reason"] = instance.pause_reason or None
        return data


class PauseSerializer(StrictSerializer):
    reason = StrictCharField(max_length=255, allow_blank=True, required=False, default="")


@extend_schema_field(DATE_OR_DATE_TIME_SCHEMA)
class ThroughField(serializers.Field):
    """A zoned timestamp or a bare date (midnight UTC), not earlier than now."""

    def to_internal_value(self, data):
        try:
            value = parse_timestamp(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        if value < timezone.now():
            raise serializers.ValidationError("through must not be earlier than now.")
        return value


class ThroughSerializer(serializers.Serializer):
    """The query of one mentor's eligibility (other query parameters are ignored, as on every list)."""

    through = ThroughField(required=False)


class EligibilityBatchSerializer(StrictSerializer):
    mentor_ids = DistinctListField(child=MentorIdField(), min_length=1, max_length=MAX_BATCH)
    through = ThroughField(required=False)


class HeldCertificationSerializer(serializers.Serializer):
    certification_id = serializers.CharField()
    certification_type = serializers.CharField()
    expires_at = UTCDateTimeField()
    lifecycle = serializers.CharField()
    grace_until = UTCDateTimeField()


class EligibilitySerializer(serializers.Serializer):
    mentor_id = serializers.CharField()
    eligible = serializers.BooleanField()
    eligible_through = UTCDateTimeField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    paused_by = serializers.CharField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
    certifications = HeldCertificationSerializer(many=True)


class EligibilityBatchAnswerSerializer(serializers.Serializer):
    data = EligibilitySerializer(many=True)


class MentorFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=MentorStatus.choices)
    paused_by = django_filters.ChoiceFilter(choices=PausedBy.choices)
    ordering = TieBreakOrderingFilter(
        fields=("created_at", "updated_at"), tie_break="mentor_id", help_text="created_at or updated_at; - descends."
    )

    class Meta:
        model = Mentor
        fields: list[str] = []


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


@extend_schema_view(
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
)
class MentorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``/api/v1/mentors``: mentors, staff pause and resume, eligibility."""

    permission_classes = [MentorPermissions]
    serializer_class = MentorSerializer
    filterset_class = MentorFilter
    lookup_field = "mentor_id"
    lookup_value_regex = "[^/]+"
    queryset = Mentor.objects.none()  # for the model permissions; get_queryset is the real one

    def get_queryset(self) -> QuerySet[Mentor]:
        return Mentor.objects.order_by("-created_at", "-mentor_id")

    def get_object(self) -> Mentor:
        return get_object_or_404(Mentor, mentor_id=self.kwargs["mentor_id"])

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @history_action_schema(
        summary="The history of a mentor", perm="certifications.view_mentor", tags=TAG, parameter=MENTOR_ID
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def history(self, request: Request, mentor_id: str) -> Response:
        """Every change of the mentor, newest first (envelope)."""
        return history_response(self, request, self.get_object())

    @extend_schema(
        summary="Pause a mentor (staff)",
        description="A staff pause, never lifted automatically. Needs `certifications.change_mentor`.",
        tags=TAG,
        parameters=[MENTOR_ID],
        request=PauseSerializer,
        responses={200: MentorSerializer, **error_responses(400, 401, 403, 404)},
        examples=[PAUSE_EXAMPLE, MENTOR_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, mentor_id: str) -> Response:
        body = PauseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"]
        result = services.mentor_pause(
            mentor=self.get_object(), now=timezone.now(), reason=reason, by=Actor.api(request)
        )
        return Response(MentorSerializer(result.mentor).data)

    @extend_schema(
        summary="Resume a mentor (staff)",
        description="Lifts a staff pause, or an automatic one once no certification is lapsed (409 `still_lapsed`).",
        tags=TAG,
        parameters=[MENTOR_ID],
        request=None,
        responses={200: MentorSerializer, **error_responses(401, 403, 404, 409)},
        examples=[RESUMED_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, mentor_id: str) -> Response:
        result = services.mentor_resume(mentor=self.get_object(), now=timezone.now(), by=Actor.api(request))
        return Response(MentorSerializer(result.mentor).data)

    @extend_schema(
        summary="Is this mentor eligible, and through when?",
        tags=TAG,
        parameters=[MENTOR_ID, THROUGH],
        responses={200: EligibilitySerializer, **error_responses(400, 401, 403, 404)},
        examples=[ELIGIBLE_EXAMPLE],
    )
    @action(detail=True, methods=["get"])
    def eligibility(self, request: Request, mentor_id: str) -> Response:
        # An empty value means the default, as in every filter (``?through=``: now).
        query = ThroughSerializer(data={key: value for key, value in request.query_params.items() if value != ""})
        query.is_valid(raise_exception=True)
        mentor = self.get_object()
        [answer] = mentors_eligibility(
            mentor_ids=[mentor.mentor_id], now=timezone.now(), through=query.validated_data.get("through")
        )
        return Response(EligibilitySerializer(answer).data)

    @extend_schema(
        summary="Eligibility of up to 500 mentors, in request order",
        description="Unknown ids are answered with the reason `unknown_mentor`. A constant number of queries.",
        tags=TAG,
        request=EligibilityBatchSerializer,
        responses={200: EligibilityBatchAnswerSerializer, **error_responses(400, 401, 403)},
        examples=[BATCH_REQUEST_EXAMPLE, BATCH_ANSWER_EXAMPLE],
    )
    @action(detail=False, methods=["post"], url_path="eligibility")
    def eligibility_batch(self, request: Request) -> Response:
        body = EligibilityBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answers = mentors_eligibility(
            mentor_ids=body.validated_data["mentor_ids"], now=timezone.now(), through=body.validated_data.get("through")
        )
        return Response({"data": EligibilitySerializer(answers, many=True).data})
