"""``/api/v1/renewal-requests``: a mentor's proof of a new certificate, and the coordinator's decision.

Requests hold personal data (a certificate, a note): every route needs an
authenticated user with ``view_renewalrequest``, whatever ``API_PUBLIC_READS``
says; create needs ``add_renewalrequest``, withdraw ``change_renewalrequest``,
approve and reject ``review_renewalrequest``. Create is a multipart upload,
refused with a 413 from its ``Content-Length`` before the body is read when it
cannot fit the evidence limit. Every write calls one service of
``certifications.services.renewals``.
"""

from __future__ import annotations

import hashlib

import django_filters
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.fields import UTCDateTimeField
from certhub.api.filters import FilterSet
from certhub.api.permissions import CHANGE, VIEW, api_permission
from certhub.api.serializers import StrictCharField, StrictSerializer
from certhub.api.viewsets import ApiViewSet
from certhub.errors import NotFound, RuleViolation
from certhub.idempotency import idempotent
from certifications import services
from certifications.api.serializers import MentorIdField
from certifications.history import Actor
from certifications.models import CertificationType, RenewalRequest, RenewalState, mentor_id_validator
from certifications.renewals import representation
from certifications.renewals.download import evidence_response
from certifications.renewals.evidence import evidence_body_too_large, evidence_too_large
from certifications.renewals.queue import renewal_page, renewal_rows
from certifications.services.renewals import NOTE_MAX, REASON_MAX

REVIEW = "certifications.review_renewalrequest"


class EvidenceMultiPartParser(MultiPartParser):
    """Multipart, refused from ``Content-Length`` (a 413) before a byte is read when the body cannot fit the limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        if evidence_body_too_large(parser_context["request"].META):
            raise evidence_too_large()
        return super().parse(stream, media_type, parser_context)


@extend_schema_field({"type": "string", "format": "binary", "minLength": 1})
class EvidenceField(serializers.FileField):
    """The certificate: a PDF, PNG or JPEG file (judged by its content)."""


class RenewalRequestSerializer(serializers.Serializer):
    """A renewal request as the API renders it (``certifications.renewals.representation.API``)."""

    renewal_request_id = serializers.CharField()
    mentor_id = serializers.CharField()
    certification_type = serializers.CharField()
    issued_at = UTCDateTimeField()
    expires_at = UTCDateTimeField(allow_null=True, help_text="Empty: the type's validity from issued_at.")
    state = serializers.ChoiceField(choices=RenewalState.choices)
    submitted_via = serializers.CharField()
    note = serializers.CharField()
    evidence_content_type = serializers.CharField()
    evidence_size = serializers.IntegerField()
    decided_by = serializers.CharField(allow_null=True)
    decided_at = UTCDateTimeField(allow_null=True)
    decision_reason = serializers.CharField(allow_null=True)
    certification_id = serializers.CharField(allow_null=True, help_text="The record an approval created.")
    created_at = UTCDateTimeField()

    def to_representation(self, instance: RenewalRequest) -> dict:
        return representation.represent(instance, representation.API)


class RenewalRequestCreateSerializer(StrictSerializer):
    mentor_id = MentorIdField()
    certification_type = StrictCharField(max_length=50)
    issued_at = UTCDateTimeField()
    expires_at = UTCDateTimeField(required=False)
    note = StrictCharField(required=False, allow_blank=True, max_length=NOTE_MAX, default="")
    evidence = EvidenceField(help_text="The new certificate: PDF, PNG or JPEG, judged by its content.")


class RenewalRequestApproveSerializer(StrictSerializer):
    issued_at = UTCDateTimeField(required=False, help_text="A corrected issue date.")
    expires_at = UTCDateTimeField(required=False, help_text="A corrected expiry.")


class RenewalRequestRejectSerializer(StrictSerializer):
    reason = StrictCharField(max_length=REASON_MAX, help_text="Why; the mentor's notice says it.")


class NoBodySerializer(StrictSerializer):
    """An action that takes no body: any field sent is unknown."""


class RenewalRequestFilter(FilterSet):
    state = django_filters.ChoiceFilter(choices=RenewalState.choices)
    mentor_id = django_filters.CharFilter(
        field_name="mentor__mentor_id", validators=[mentor_id_validator], help_text="One mentor."
    )
    certification_type = django_filters.ModelChoiceFilter(
        field_name="certification_type",
        to_field_name="code",
        queryset=CertificationType.objects.all(),
        help_text="A certification type code; an unknown code is a 400.",
    )

    class Meta:
        model = RenewalRequest
        fields: list[str] = []


def _fingerprint(request: Request) -> dict:
    """A submission is the same request when its fields and its file's bytes are."""
    fields = {name: value for name, value in request.data.items() if name != "evidence"}
    evidence = request.data.get("evidence")
    digest = hashlib.sha256()
    if hasattr(evidence, "chunks"):
        for chunk in evidence.chunks():
            digest.update(chunk)
        evidence.seek(0)
    return {**fields, "evidence_sha256": digest.hexdigest()}


def _body(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


class RenewalRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """``/api/v1/renewal-requests``: submit, list (oldest first), read, download the evidence, decide."""

    permission_classes = [api_permission(read=[VIEW], scope="renewals")]
    serializer_class = RenewalRequestSerializer
    filterset_class = RenewalRequestFilter
    lookup_field = "renewal_request_id"

    def get_queryset(self) -> QuerySet[RenewalRequest]:
        """Reads join what the representation shows; a decision's service reads the request afresh under a lock."""
        if self.action in ("list", "retrieve"):
            return renewal_rows(RenewalRequest.objects.all())
        return RenewalRequest.objects.all()

    def list_page(self, queryset: QuerySet[RenewalRequest], *, offset: int, limit: int) -> list[RenewalRequest]:
        """A page's ids from the queue's index, then their rows (``certifications.renewals.queue``)."""
        return renewal_page(queryset, offset=offset, limit=limit)

    def get_parsers(self):
        """Create takes a multipart upload (within its limit); the decisions take JSON."""
        request = getattr(self, "request", None)  # None while the schema is generated
        if request is None or self.action_map.get(request.method.lower()) == "create":
            return [EvidenceMultiPartParser()]
        return super().get_parsers()

    @idempotent("renewal-request-create", fingerprint_data=_fingerprint)
    def create(self, request: Request) -> Response:
        if len(request.FILES.getlist("evidence")) > 1:
            raise RuleViolation("Send one evidence file.", fields={"evidence": ["One file only."]})
        data = _body(RenewalRequestCreateSerializer, request)
        created = services.renewal_request_submit(**data, now=timezone.now(), by=Actor.api(request))
        return Response(RenewalRequestSerializer(created).data, status=201)

    @action(detail=True, methods=["get"], filterset_class=None)
    def evidence(self, request: Request, renewal_request_id: str) -> FileResponse:
        """The evidence file, as an attachment that no browser runs or sniffs."""
        response = evidence_response(self.get_object())
        if response is None:
            raise NotFound("The evidence file is no longer kept.")
        return response

    @action(
        detail=True,
        methods=["post"],
        permission_classes=[api_permission(read=[VIEW], write=[REVIEW], scope="renewals:review")],
    )
    def approve(self, request: Request, renewal_request_id: str) -> Response:
        dates = _body(RenewalRequestApproveSerializer, request)
        decided = services.renewal_request_approve(
            renewal_request=self.get_object(), **dates, now=timezone.now(), by=Actor.api(request)
        )
        return Response(RenewalRequestSerializer(decided).data)

    @action(
        detail=True,
        methods=["post"],
        permission_classes=[api_permission(read=[VIEW], write=[REVIEW], scope="renewals:review")],
    )
    def reject(self, request: Request, renewal_request_id: str) -> Response:
        reason = _body(RenewalRequestRejectSerializer, request)["reason"]
        decided = services.renewal_request_reject(
            renewal_request=self.get_object(), reason=reason, now=timezone.now(), by=Actor.api(request)
        )
        return Response(RenewalRequestSerializer(decided).data)

    @action(
        detail=True,
        methods=["post"],
        permission_classes=[api_permission(read=[VIEW], write=[CHANGE], scope="renewals:write")],
    )
    def withdraw(self, request: Request, renewal_request_id: str) -> Response:
        _body(NoBodySerializer, request)
        decided = services.renewal_request_withdraw(
            renewal_request=self.get_object(), now=timezone.now(), by=Actor.api(request)
        )
        return Response(RenewalRequestSerializer(decided).data)
