"""``GET /api/v1/certifications/{id}/history`` and ``GET /api/v1/mentors/{id}/history``: an object's changes.

Each item is ``{history_id, at, actor, source, change, changes: {field: [old, new]}, reason}``,
newest first, in the list envelope. History names the users who made each change:
it needs an authenticated user with the object's view permission, whatever
``API_PUBLIC_READS`` says.
"""

from __future__ import annotations

from django.db.models import Model
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.fields import UTCDateTimeField
from certhub.api.permissions import require_perms_to_read
from certhub.api.schema import error_responses
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


def history_view_permission(perm: str) -> type[BasePermission]:
    """An authenticated user holding ``perm`` (the object's view permission), whatever the public-read setting."""
    return require_perms_to_read(perm)


def history_response(view, request: Request, obj: Model) -> Response:
    """The envelope of ``obj``'s history rows, newest first (``page``, ``limit`` as on every list)."""
    rows = HistoryEntry.objects.filter(subject=SUBJECTS[type(obj)], object_pk=obj.pk).order_by("-at", "-id")
    page = view.paginate_queryset(rows)
    return view.get_paginated_response(HistoryEntrySerializer(page, many=True).data)


HISTORY_EXAMPLE = OpenApiExample(
    "A renewal that resumed the mentor",
    value=[
        {
            "history_id": 42,
            "at": "2026-03-27T09:30:00Z",
            "actor": "coordinator",
            "source": "api",
            "change": "changed",
            "changes": {"expires_at": ["2026-03-01T00:00:00Z", "2029-03-01T00:00:00Z"], "status": ["expired", "valid"]},
            "reason": "renewed",
        },
        {
            "history_id": 17,
            "at": "2026-03-26T01:00:00Z",
            "actor": "system:job",
            "source": "job",
            "change": "changed",
            "changes": {"auto_pause_applied": [False, True]},
            "reason": "job_26MAR2026_01",
        },
    ],
    response_only=True,
)


def history_schema(*, summary: str, perm: str, tags: list[str], parameter, note: str = "") -> dict:
    """The ``extend_schema`` arguments of a history action (``note`` is added to its description)."""
    return {
        "summary": summary,
        "description": f"Every change, newest first. Needs `{perm}`, whatever `API_PUBLIC_READS` says.{note}",
        "tags": tags,
        "parameters": [parameter],
        "request": None,
        "responses": {200: HistoryEntrySerializer(many=True), **error_responses(400, 401, 403, 404)},
        "examples": [HISTORY_EXAMPLE],
    }


def history_action_schema(**kwargs):
    """``extend_schema`` of a history action (see ``history_schema``)."""
    return extend_schema(**history_schema(**kwargs))
