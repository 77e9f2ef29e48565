"""OpenAPI documentation of the events API: the feed (``events.api.feed``) and webhooks (``events.api.webhooks``).

Applied to the views when imported; ``events.api.urls`` imports it with the routes.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view

from certhub.api.schema import error_responses
from events.api.feed import EVENT_ID_RE, TYPES_PATTERN, EventViewSet, FeedSerializer
from events.api.webhooks import (
    DeliverySerializer,
    DeliveryViewSet,
    EndpointCreateSerializer,
    EndpointSerializer,
    EndpointUpdateSerializer,
    EndpointViewSet,
    EndpointWithSecretSerializer,
)
from events.feed import DEFAULT_LIMIT, MAX_LIMIT
from events.models import FEED_TYPES

TAG = ["webhooks"]

FEED_EXAMPLE = OpenApiExample(
    "A page of the feed",
    value={
        "data": [
            {
                "event_id": "evt_01J8ZK4M2Q7R",
                "sequence": 1041,
                "type": "mentor.paused",
                "occurred_at": "2026-03-26T01:00:00Z",
                "data": {
                    "mentor_id": "mntr_02BY7M3RL",
                    "status": "paused",
                    "paused_by": "auto",
                    "paused_at": "2026-03-26T01:00:00Z",
                    "job_run_id": "job_26MAR2026_01",
                },
            }
        ],
        "next_cursor": "evt_01J8ZK4M2Q7R",
        "has_more": False,
    },
    response_only=True,
)

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


extend_schema_view(
    list=extend_schema(
        summary="Read the event feed",
        description=(
            "Events in feed order after the event `after` (from the first without it). Read until "
            "`has_more` is false, keep `next_cursor`, and send it as `after` next time: every event is "
            "served once, in order, including those whose transaction committed late. An `after` that "
            "names no event of the feed is a 400; once events older than `RETENTION_EVENTS_DAYS` have been "
            "deleted, an `after` naming one of them is a 410 `cursor_expired`: read again without `after`, "
            "from the oldest event kept. Needs `events.view_event`."
        ),
        tags=["events"],
        parameters=[
            OpenApiParameter(
                "after", OpenApiTypes.STR, description="The last event id you read.", pattern=EVENT_ID_RE.pattern
            ),
            OpenApiParameter(
                "type",
                {"type": "string", "pattern": TYPES_PATTERN},
                description="Comma-separated event types: " + ", ".join(FEED_TYPES) + ".",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                description=f"Events per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
            ),
        ],
        responses={200: FeedSerializer, **error_responses(400, 401, 403, 410)},
        examples=[FEED_EXAMPLE],
    ),
)(EventViewSet)

extend_schema_view(
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
    create=extend_schema(
        summary="Create a webhook endpoint",
        description="The URL must resolve to public addresses only (and be https:// in production). "
        "The answer carries the signing secret: the only time it is shown.",
        tags=TAG,
        request=EndpointCreateSerializer,
        responses={201: EndpointWithSecretSerializer, **error_responses(400, 401, 403)},
        examples=[CREATED_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change a webhook endpoint",
        description="Any of url, event_types, description, is_active (true also clears disabled_reason).",
        tags=TAG,
        parameters=[ENDPOINT_ID],
        request=EndpointUpdateSerializer,
        responses={200: EndpointSerializer, **error_responses(400, 401, 403, 404)},
    ),
    update=extend_schema(
        summary="Change a webhook endpoint",
        tags=TAG,
        parameters=[ENDPOINT_ID],
        request=EndpointUpdateSerializer,
        responses={200: EndpointSerializer, **error_responses(400, 401, 403, 404)},
    ),
    rotate_secret=extend_schema(
        summary="Rotate the signing secret",
        description="A new secret, shown once; the previous one keeps signing beside it for 24 hours. "
        "409 while an earlier rotation's old secret is still valid (`previous_secret_valid_until` says until when).",
        tags=TAG,
        parameters=[ENDPOINT_ID],
        request=None,
        responses={200: EndpointWithSecretSerializer, **error_responses(401, 403, 404, 409)},
    ),
    test=extend_schema(
        summary="Send a test event",
        description="Queues a `webhook.test` event to this endpoint alone; follow it under deliveries.",
        tags=TAG,
        parameters=[ENDPOINT_ID],
        request=None,
        responses={202: DeliverySerializer, **error_responses(401, 403, 404)},
    ),
)(EndpointViewSet)

extend_schema_view(
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
)(DeliveryViewSet)
