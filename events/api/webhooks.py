"""``/api/v1/webhooks/endpoints`` and ``/api/v1/webhooks/deliveries``: subscribers and what was sent to them.

Model permissions throughout (``view_``/``add_``/``change_``/``delete_webhookendpoint``,
``view_webhookdelivery``), credentials always. A secret is shown once: in the
answer to the create and to ``rotate-secret``.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.fields import UTCDateTimeField
from certhub.api.filters import FilterSet
from certhub.api.permissions import VIEW, api_permission
from certhub.api.serializers import StrictBooleanField, StrictSerializer
from certhub.api.viewsets import ApiViewSet
from events.api.fields import WebhookUrlField
from events.endpoints import (
    endpoint_create,
    endpoint_delete,
    endpoint_rotate_secret,
    endpoint_send_test,
    endpoint_update,
)
from events.models import FEED_TYPES, DeliveryState, WebhookDelivery, WebhookEndpoint


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


class EndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ApiViewSet):
    """``/api/v1/webhooks/endpoints``: receivers of signed webhooks."""

    permission_classes = [api_permission(read=[VIEW], scope="webhooks:manage")]
    serializer_class = EndpointSerializer
    filter_backends: list = []
    lookup_field = "endpoint_id"

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.order_by("-created_at", "-endpoint_id")

    def create(self, request: Request) -> Response:
        body = EndpointCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = endpoint_create(**body.validated_data, now=timezone.now())
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, endpoint_id: str) -> Response:
        endpoint = self.get_object()
        body = EndpointUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = endpoint_update(endpoint=endpoint, changes=dict(body.validated_data), now=timezone.now())
        return Response(EndpointSerializer(endpoint).data)

    def update(self, request: Request, endpoint_id: str) -> Response:
        return self.partial_update(request, endpoint_id)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        endpoint_delete(endpoint=instance)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, endpoint_id: str) -> Response:
        endpoint = endpoint_rotate_secret(endpoint=self.get_object(), now=timezone.now())
        return Response(EndpointWithSecretSerializer(endpoint).data)

    @action(detail=True, methods=["post"])
    def test(self, request: Request, endpoint_id: str) -> Response:
        delivery = endpoint_send_test(endpoint=self.get_object(), now=timezone.now())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """``/api/v1/webhooks/deliveries``: each event sent to each endpoint, with every attempt."""

    permission_classes = [api_permission(read=[VIEW], scope="webhooks:manage")]
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    lookup_field = "delivery_id"

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        return (
            WebhookDelivery.objects.select_related("event", "endpoint")
            .prefetch_related("attempt_log")
            .order_by("-created_at", "-id")
        )
