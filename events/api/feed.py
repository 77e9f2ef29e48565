"""``GET /api/v1/events``: the event feed, in feed order after a cursor (``view_event``)."""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.fields import UTCDateTimeField
from certhub.api.permissions import VIEW, api_permission
from certhub.api.viewsets import ApiViewSet
from events.feed import DEFAULT_LIMIT, MAX_LIMIT, feed_read
from events.models import FEED_TYPES, Event

EVENT_ID_RE = re.compile(r"^evt_[0-9A-HJKMNP-TV-Z]{12}$")
# ``type``: feed types separated by commas (empty items are dropped), as a pattern for the schema.
_ANY_TYPE = "|".join(re.escape(each) for each in FEED_TYPES)
TYPES_PATTERN = rf"^,*(?:(?:{_ANY_TYPE}),*)*$"


class EventSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    sequence = serializers.IntegerField(help_text="The feed position: increasing in feed order.")
    type = serializers.ChoiceField(choices=FEED_TYPES)
    occurred_at = UTCDateTimeField()
    data = serializers.DictField(help_text="Ids, states and dates of what changed (per type: docs/api.md, events).")


# One page object, not a list of them: drf-spectacular would wrap a ``list`` action's answer in an array.
@extend_schema_serializer(many=False)
class FeedSerializer(serializers.Serializer):
    data = EventSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Send as `after` next time.")
    has_more = serializers.BooleanField(help_text="More events are available right now.")


class FeedQuerySerializer(serializers.Serializer):
    """The feed's query: a cursor, types and a limit, each checked (other parameters are ignored)."""

    after = serializers.RegexField(EVENT_ID_RE, required=False, error_messages={"invalid": "Not an event id."})
    type = serializers.CharField(required=False, allow_blank=True)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)

    def validate_type(self, value: str) -> list[str]:
        types = [each for each in value.split(",") if each]
        unknown = sorted(set(types) - set(FEED_TYPES))
        if unknown:
            raise serializers.ValidationError(f"Unknown event type: {', '.join(unknown)}.")
        return types


class EventViewSet(mixins.ListModelMixin, ApiViewSet):
    """``/api/v1/events``: every change, in feed order, after a cursor."""

    permission_classes = [api_permission(read=[VIEW], scope="events:read")]
    pagination_class = None
    filter_backends: list = []
    queryset = Event.objects.all()  # the model whose permissions apply; the page is read by ``feed_read``

    def list(self, request: Request) -> Response:
        # An empty value means the default, as in every filter (``?after=``: from the first event).
        query = FeedQuerySerializer(data={key: value for key, value in request.query_params.items() if value != ""})
        query.is_valid(raise_exception=True)
        page = feed_read(
            after=query.validated_data.get("after"),
            types=query.validated_data.get("type") or (),
            limit=query.validated_data["limit"],
        )
        return Response(
            {
                "data": EventSerializer(page.events, many=True).data,
                "next_cursor": page.next_cursor,
                "has_more": page.has_more,
            }
        )
