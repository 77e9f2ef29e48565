"""``/api/v1/webhooks/endpoints`` and ``/api/v1/webhooks/deliveries``: subscribers and what was sent to them.

Model permissions throughout (``view_``/``add_``/``change_``/``delete_webhookendpoint``,
``view_webhookdelivery``), credentials always. A secret is shown once: in the
answer to the create and to ``rotate-secret``.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.fields import UTCDateTimeField
from certhub.api.filters import FilterSet
from certhub.api.schema import error_responses
from certhub.api.serializers import StrictBooleanField, StrictSerializer
from events.api.fields import WebhookUrlField
from events.api.permissions import ModelPermissions
from events.endpoints import endpoint_create, endpoint_rotate_secret, endpoint_send_test, endpoint_update
from events.models import FEED_TYPES, DeliveryState, WebhookDelivery, WebhookEndpoint

TAG = ["webhooks"]


class EndpointSerializer(serializers.Serializer):
    endpoint_id = serializers.CharField()
    url = serializers.CharField()
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=FEED_TYPES))
    is_active = serializers.BooleanField()
    disabled_reason = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    previous_secret_valid_until = UTCDateTimeField(
        source="previous_secret_expires_at", allow_null=True, help_text="After a rotation: the old secret's end."
    )
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="Shown once: store it now.")


class EndpointCreateSerializer(StrictSerializer):
    url = WebhookUrlField()
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=FEED_TYPES), required=False, default=list, help_text="Empty: every type."
    )
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class EndpointUpdateSerializer(StrictSerializer):
    read_only_names = frozenset({"endpoint_id", "secret", "disabled_reason", "created_at", "updated_at"})

    url = WebhookUrlField(required=False)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=FEED_TYPES), required=False)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    is_active = StrictBooleanField(required=False)


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    attempted_at = UTCDateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    response_body = serializers.CharField(allow_blank=True, help_text="The first 1 KB of the answer.")
    error = serializers.CharField(allow_blank=True)


class DeliverySerializer(serializers.Serializer):
    delivery_id = serializers.CharField()
    event_id = serializers.CharField(source="event.event_id")
    event_type = serializers.CharField(source="event.type")
    endpoint_id = serializers.CharField(source="endpoint.endpoint_id")
    state = serializers.ChoiceField(choices=DeliveryState.choices)
    attempts = AttemptSerializer(many=True, source="attempt_log.all")
    next_attempt_at = UTCDateTimeField(allow_null=True)
    created_at = UTCDateTimeField()
    completed_at = UTCDateTimeField(allow_null=True)


class DeliveryFilter(FilterSet):
    endpoint_id = django_filters.CharFilter(field_name="endpoint__endpoint_id")
    event_id = django_filters.CharFilter(field_name="event__event_id")
    state = django_filters.ChoiceFilter(choices=DeliveryState.choices)

    class Meta:
        model = WebhookDelivery
        fields: list[str] = []


ENDPOINT_VALUE = {
    "endpoint_id": "whe_7K3M9Q2T",
    "url": "https://match.example.org/hooks/certhub",
    "event_types": ["mentor.paused", "mentor.resumed"],
    "is_active": True,
    "disabled_reason": "",
    "description": "Matching platform",
    "previous_secret_valid_until": None,
    "created_at": "2026-03-26T09:00:00Z",
    "updated_at": "2026-03-26T09:00:00Z",
}
CREATED_EXAMPLE = OpenApiExample(
    "Created (the secret, once)",
    value={**ENDPOINT_VALUE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwJb0Ai1ZlUz8="},
    response_only=True,
)
ENDPOINT_ID = OpenApiParameter("endpoint_id", OpenApiTypes.STR, OpenApiParameter.PATH)
DELIVERY_ID = OpenApiParameter("delivery_id", OpenApiTypes.STR, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints",
        tags=TAG,
        responses={200: EndpointSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="Get a webhook endpoint",
        tags=TAG,
        parameters=[ENDPOINT_ID],
        responses={200: EndpointSerializer, **error_responses(401, 403, 404)},
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint (and its deliveries)",
        tags=TAG,
        parameters=[ENDPOINT_ID],
        responses={204: None, **error_responses(401, 403, 404)},
    ),
)
class EndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """``/api/v1/webhooks/endpoints``: receivers of signed webhooks."""

    permission_classes = [ModelPermissions]
    serializer_class = EndpointSerializer
    filter_backends: list = []
    lookup_field = "endpoint_id"
    lookup_value_regex = "[^/]+"
    queryset = WebhookEndpoint.objects.none()  # for the model permissions

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.order_by("-created_at", "-endpoint_id")

    def get_object(self) -> WebhookEndpoint:
        return get_object_or_404(WebhookEndpoint, endpoint_id=self.kwargs["endpoint_id"])

    @extend_schema(
        summary="Create a webhook endpoint",
        description="The URL must resolve to public addresses only (and be https:// in production). "
        "The answer carries the signing secret: the only time it is shown.",
        tags=TAG,
        request=EndpointCreateSerializer,
        responses={201: EndpointWithSecretSerializer, **error_responses(400, 401, 403)},
        examples=[CREATED_EXAMPLE],
    )
    def create(self, request: Request) -> Response:
        body = EndpointCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = endpoint_create(**body.validated_data, now=timezone.now())
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a webhook endpoint",
        description="Any of url, event_types, description, is_active (true also clears disabled_reason).",
        tags=TAG,
        parameters=[ENDPOINT_ID],
        request=EndpointUpdateSerializer,
        responses={200: EndpointSerializer, **error_responses(400, 401, 403, 404)},
    )
    def partial_update(self, request: Request, endpoint_id: str) -> Response:
        endpoint = self.get_object()
        body = EndpointUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = endpoint_update(endpoint=endpoint, changes=dict(body.validated_data), now=timezone.now())
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Change a webhook endpoint",
        tags=TAG,
        parameters=[ENDPOINT_ID],
        request=EndpointUpdateSerializer,
        responses={200: EndpointSerializer, **error_responses(400, 401, 403, 404)},
    )
    def update(self, request: Request, endpoint_id: str) -> Response:
        return self.partial_update(request, endpoint_id)

    @extend_schema(
        summary="Rotate the signing secret",
        description="A new secret, shown once; the previous one keeps signing beside it for 24 hours. "
        "409 while an earlier rotation's old secret is still valid (`previous_secret_valid_until` says until when).",
        tags=TAG,
        parameters=[ENDPOINT_ID],
        request=None,
        responses={200: EndpointWithSecretSerializer, **error_responses(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, endpoint_id: str) -> Response:
        endpoint = endpoint_rotate_secret(endpoint=self.get_object(), now=timezone.now())
        return Response(EndpointWithSecretSerializer(endpoint).data)

    @extend_schema(
        summary="Send a test event",
        description="Queues a `webhook.test` event to this endpoint alone; follow it under deliveries.",
        tags=TAG,
        parameters=[ENDPOINT_ID],
        request=None,
        responses={202: DeliverySerializer, **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, endpoint_id: str) -> Response:
        delivery = endpoint_send_test(endpoint=self.get_object(), now=timezone.now())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        summary="List webhook deliveries",
        tags=TAG,
        responses={200: DeliverySerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="Get a webhook delivery with its attempts",
        tags=TAG,
        parameters=[DELIVERY_ID],
        responses={200: DeliverySerializer, **error_responses(401, 403, 404)},
    ),
)
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``/api/v1/webhooks/deliveries``: each event sent to each endpoint, with every attempt."""

    permission_classes = [ModelPermissions]
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    lookup_field = "delivery_id"
    lookup_value_regex = "[^/]+"
    queryset = WebhookDelivery.objects.none()  # for the model permissions

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        return (
            WebhookDelivery.objects.select_related("event", "endpoint")
            .prefetch_related("attempt_log")
            .order_by("-created_at", "-id")
        )

    def get_object(self) -> WebhookDelivery:
        return get_object_or_404(self.get_queryset(), delivery_id=self.kwargs["delivery_id"])

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset
