"""OpenAPI documentation of the notifications API (``notifications.api.views``), applied on import by the routes."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from certhub.api.schema import error_responses
from notifications.api.views import NotificationSerializer, NotificationViewSet

TAG = ["notifications"]

EXAMPLE = OpenApiExample(
    "One page",
    value={
        "notification_id": "ntf_7QK2M9XD",
        "kind": "expiry_reminder",
        "mentor_id": "mntr_01HX4V2K8P",
        "certification_id": "cert_PJRXH884",
        "cycle_expires_at": "2026-04-05T00:00:00Z",
        "offset_days": 30,
        "recipient": "ada@example.org",
        "subject": "Reminder: your Peer mentor (basic) certification expires on 2026-04-05",
        "state": "sent",
        "attempts": 1,
        "last_error": None,
        "created_at": "2026-03-26T08:00:02Z",
        "sent_at": "2026-03-26T08:00:03Z",
    },
    response_only=True,
)


extend_schema_view(
    list=extend_schema(
        summary="List notifications, newest first",
        description="Reminders, pause and resume notices and digests, with their delivery state. "
        "Needs `notifications.view_notification`.",
        tags=TAG,
        examples=[EXAMPLE],
        responses={200: NotificationSerializer(many=True), **error_responses(400, 401, 403)},
    )
)(NotificationViewSet)
