"""``GET /api/v1/notifications``: every message CertHub sent or decided not to send, newest first.

Notifications name mentors and addresses: the list needs an authenticated user
holding ``notifications.view_notification``, whatever ``API_PUBLIC_READS`` says.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from rest_framework import mixins, serializers

from certhub.api.fields import UTCDateTimeField, format_utc
from certhub.api.filters import ChoiceInFilter, FilterSet, TimestampFilter
from certhub.api.permissions import VIEW, api_permission
from certhub.api.viewsets import ApiViewSet
from certifications.models import mentor_id_validator
from notifications.models import Notification, NotificationKind, NotificationState

TIMESTAMP_HELP = "ISO 8601 with Z or an offset, or a bare date (midnight UTC)."


class NotificationSerializer(serializers.Serializer):
    notification_id = serializers.CharField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    mentor_id = serializers.CharField(allow_null=True)
    certification_id = serializers.CharField(allow_null=True)
    cycle_expires_at = UTCDateTimeField(allow_null=True)
    offset_days = serializers.IntegerField(allow_null=True)
    recipient = serializers.CharField()
    subject = serializers.CharField()
    state = serializers.ChoiceField(choices=NotificationState.choices)
    attempts = serializers.IntegerField()
    last_error = serializers.CharField(allow_null=True)
    created_at = UTCDateTimeField()
    sent_at = UTCDateTimeField(allow_null=True)

    def to_representation(self, row: Notification) -> dict:
        return {
            "notification_id": row.notification_id,
            "kind": row.kind,
            "mentor_id": row.mentor.mentor_id if row.mentor_id else None,
            "certification_id": row.certification.certification_id if row.certification_id else None,
            "cycle_expires_at": format_utc(row.cycle_expires_at),
            "offset_days": row.offset_days,
            "recipient": row.recipient,
            "subject": row.subject,
            "state": row.state,
            "attempts": row.attempts,
            "last_error": row.last_error or None,
            "created_at": format_utc(row.created_at),
            "sent_at": format_utc(row.sent_at),
        }


class NotificationFilter(FilterSet):
    """Filters of ``GET /api/v1/notifications``. ``created_after`` is inclusive, ``created_before`` exclusive."""

    mentor_id = django_filters.CharFilter(
        field_name="mentor__mentor_id", validators=[mentor_id_validator], help_text="One mentor, e.g. mntr_01HX4V2K8P."
    )
    certification_id = django_filters.CharFilter(
        field_name="certification__certification_id", help_text="One record, e.g. cert_PJRXH884."
    )
    kind = ChoiceInFilter(choices=NotificationKind.choices, help_text="Comma-separated, e.g. expiry_reminder.")
    state = ChoiceInFilter(choices=NotificationState.choices, help_text="Comma-separated, e.g. failed,skipped.")
    created_after = TimestampFilter(
        field_name="created_at", lookup_expr="gte", help_text="created at or after this (inclusive); " + TIMESTAMP_HELP
    )
    created_before = TimestampFilter(
        field_name="created_at", lookup_expr="lt", help_text="created earlier than this (exclusive); " + TIMESTAMP_HELP
    )

    class Meta:
        model = Notification
        fields: list[str] = []


class NotificationViewSet(mixins.ListModelMixin, ApiViewSet):
    """``GET /api/v1/notifications``."""

    permission_classes = [api_permission(read=[VIEW], scope="notifications:read")]
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.select_related("mentor", "certification").order_by("-created_at", "-id")
