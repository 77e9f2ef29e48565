"""``GET /api/v1/certifications/{id}/history`` and ``GET /api/v1/mentors/{id}/history``: an object's changes.

Each item is ``{history_id, at, actor, source, change, changes: {field: [old, new]}, reason}``,
newest first, in the list envelope. History names the users who made each change:
it needs an authenticated user with the object's view permission, whatever
``API_PUBLIC_READS`` says.
"""

from __future__ import annotations

from django.db.models import Model
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.fields import UTCDateTimeField
from certifications.history.actor import Source
from certifications.history.models import Change, HistoryEntry
from certifications.history.record import SUBJECTS


class HistoryEntrySerializer(serializers.Serializer):
    history_id = serializers.IntegerField(source="id")
    at = UTCDateTimeField()
    actor = serializers.CharField(help_text="The username, or `system:<source>`.")
    source = serializers.ChoiceField(choices=Source.choices)
    change = serializers.ChoiceField(choices=Change.choices)
    changes = serializers.DictField(
        child=serializers.ListField(min_length=2, max_length=2, child=serializers.JSONField(allow_null=True)),
        help_text="Each changed field: `[old, new]`, rendered as the API renders that field.",
    )
    reason = serializers.CharField(allow_blank=True)


def history_response(view, request: Request, obj: Model) -> Response:
    """The envelope of ``obj``'s history rows, newest first (``page``, ``limit`` as on every list)."""
    rows = HistoryEntry.objects.filter(subject=SUBJECTS[type(obj)], object_pk=obj.pk).order_by("-at", "-id")
    page = view.paginate_queryset(rows)
    return view.get_paginated_response(HistoryEntrySerializer(page, many=True).data)
