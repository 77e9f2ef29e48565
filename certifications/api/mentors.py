"""``/api/v1/mentors``: mentors, staff pause and resume, and eligibility for a match period.

Mentor data is personal: every route needs an authenticated user holding
``certifications.view_mentor`` (writes: ``change_mentor``), whatever
``API_PUBLIC_READS`` says. Pause and resume call the same services as the
admin's actions.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.fields import (
    DATE_OR_DATE_TIME_SCHEMA,
    DistinctListField,
    UTCDateTimeField,
    format_utc,
    parse_timestamp,
)
from certhub.api.filters import FilterSet, TieBreakOrderingFilter
from certhub.api.permissions import CHANGE, VIEW, api_permission
from certhub.api.responses import ReleasingResponse
from certhub.api.serializers import StrictCharField, StrictSerializer
from certhub.api.viewsets import ApiViewSet
from certhub.ids import MENTOR_ID_RE
from certifications import services
from certifications.api.history import history_response
from certifications.api.personal_data import PersonalDataActions
from certifications.api.serializers import MentorIdField
from certifications.eligibility import Eligibility, mentors_eligibility
from certifications.history import Actor
from certifications.models import Mentor, MentorStatus, PausedBy

MAX_BATCH = 500


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
    erased_at = UTCDateTimeField(allow_null=True)

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


class MentorIdsField(DistinctListField):
    """Mentor ids, each once; a list of well-formed ids is taken as it is, without a field run per id."""

    def run_child_validation(self, data: list) -> list:
        # What MentorIdField returns for such a string is the string itself (nothing to trim, nothing
        # refused); any other list goes through it, id by id, for the errors it names.
        if all(type(item) is str and MENTOR_ID_RE.fullmatch(item) for item in data):
            return list(data)
        return super().run_child_validation(data)


class EligibilityBatchSerializer(StrictSerializer):
    mentor_ids = MentorIdsField(child=MentorIdField(), min_length=1, max_length=MAX_BATCH)
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


def eligibility_data(answer: Eligibility) -> dict:
    """One answer as ``EligibilitySerializer`` renders it, built directly.

    The serializer declares the shape (for the schema); a batch of 500 answers is
    rendered here in a few milliseconds rather than the serializer's ~100, field by field.
    """
    return {
        "mentor_id": answer.mentor_id,
        "eligible": answer.eligible,
        "eligible_through": format_utc(answer.eligible_through),
        "status": answer.status,
        "paused_by": answer.paused_by,
        "reasons": answer.reasons,
        "warnings": answer.warnings,
        "certifications": [
            {
                "certification_id": held.certification_id,
                "certification_type": held.certification_type,
                "expires_at": format_utc(held.expires_at),
                "lifecycle": held.lifecycle,
                "grace_until": format_utc(held.grace_until),
            }
            for held in answer.certifications
        ],
    }


class MentorFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=MentorStatus.choices)
    paused_by = django_filters.ChoiceFilter(choices=PausedBy.choices)
    ordering = TieBreakOrderingFilter(
        fields=("created_at", "updated_at"), tie_break="mentor_id", help_text="created_at or updated_at; - descends."
    )

    class Meta:
        model = Mentor
        fields: list[str] = []


class MentorViewSet(PersonalDataActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """``/api/v1/mentors``: mentors, staff pause and resume, eligibility, personal data (export, erasure)."""

    # Credentials always; POST (pause, resume) needs change_mentor, a question sent as a body view_mentor.
    permission_classes = [
        api_permission(read=[VIEW], write={"POST": [CHANGE]}, read_actions=["eligibility_batch"], scope="mentors"),
    ]
    serializer_class = MentorSerializer
    filterset_class = MentorFilter
    lookup_field = "mentor_id"

    def get_queryset(self) -> QuerySet[Mentor]:
        return Mentor.objects.order_by("-created_at", "-mentor_id")

    @action(detail=True, methods=["get"], filterset_class=None)
    def history(self, request: Request, mentor_id: str) -> Response:
        """Every change of the mentor, newest first (envelope)."""
        return history_response(self, request, self.get_object())

    @action(detail=True, methods=["post"])
    def pause(self, request: Request, mentor_id: str) -> Response:
        body = PauseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"]
        result = services.mentor_pause(
            mentor=self.get_object(), now=timezone.now(), reason=reason, by=Actor.api(request)
        )
        return Response(MentorSerializer(result.mentor).data)

    @action(detail=True, methods=["post"])
    def resume(self, request: Request, mentor_id: str) -> Response:
        result = services.mentor_resume(mentor=self.get_object(), now=timezone.now(), by=Actor.api(request))
        return Response(MentorSerializer(result.mentor).data)

    @action(detail=True, methods=["get"])
    def eligibility(self, request: Request, mentor_id: str) -> Response:
        # An empty value means the default, as in every filter (``?through=``: now).
        query = ThroughSerializer(data={key: value for key, value in request.query_params.items() if value != ""})
        query.is_valid(raise_exception=True)
        mentor = self.get_object()
        [answer] = mentors_eligibility(
            mentor_ids=[mentor.mentor_id], now=timezone.now(), through=query.validated_data.get("through")
        )
        return Response(eligibility_data(answer))

    @action(detail=False, methods=["post"], url_path="eligibility")
    def eligibility_batch(self, request: Request) -> Response:
        body = EligibilityBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answers = mentors_eligibility(
            mentor_ids=body.validated_data["mentor_ids"], now=timezone.now(), through=body.validated_data.get("through")
        )
        return ReleasingResponse({"data": [eligibility_data(answer) for answer in answers]})
