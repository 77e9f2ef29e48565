"""``/api/v1/mentors/{mentor_id}/export`` and ``…/erase``: a mentor's personal data, handed out or erased.

Both need ``certifications.manage_personal_data`` (an API key: the scope
``personal_data:manage``) whatever ``API_PUBLIC_READS`` says, and call the same
services as the admin's actions; each is recorded in the security log.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.fields import UTCDateTimeField
from certhub.api.permissions import api_permission
from certhub.api.serializers import StrictCharField, StrictSerializer
from certifications import services
from certifications.history import Actor
from certifications.services.personal_data import REASON_MAX

MANAGE_PERSONAL_DATA = "certifications.manage_personal_data"
PersonalDataPermission = api_permission(
    read=[MANAGE_PERSONAL_DATA], write=[MANAGE_PERSONAL_DATA], scope="personal_data:manage"
)


class EraseSerializer(StrictSerializer):
    reason = StrictCharField(max_length=REASON_MAX)


class ErasedSerializer(serializers.Serializer):
    mentor_id = serializers.CharField()
    erased_at = UTCDateTimeField()


class PersonalDataActions:
    """The export and erasure routes of the mentor viewset (``get_object`` finds the mentor, or a 404)."""

    @action(detail=True, methods=["get"], filterset_class=None, permission_classes=[PersonalDataPermission])
    def export(self, request: Request, mentor_id: str) -> StreamingHttpResponse:
        """Everything kept about the mentor, as a ZIP streamed while it is built."""
        mentor = self.get_object()
        stream = services.mentor_export(mentor=mentor, now=timezone.now(), by=Actor.api(request), request=request)
        response = StreamingHttpResponse(stream, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{mentor.mentor_id}-personal-data.zip"'
        response["Cache-Control"] = "private, no-store"
        return response

    @action(detail=True, methods=["post"], permission_classes=[PersonalDataPermission])
    def erase(self, request: Request, mentor_id: str) -> Response:
        """Erase the mentor's personal data (repeat-safe: a second call answers the first ``erased_at``)."""
        body = EraseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.mentor_erase(
            mentor=self.get_object(),
            reason=body.validated_data["reason"],
            now=timezone.now(),
            by=Actor.api(request),
            request=request,
        )
        return Response(ErasedSerializer(result.mentor).data)
