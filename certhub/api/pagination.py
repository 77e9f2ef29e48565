"""The list envelope: ``{"data": [...], "pagination": {"page", "limit", "total"}}``."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _positive_int(raw: str, name: str, maximum: int | None = None) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise ValidationError({name: ["Must be a whole number."]})
    value = int(raw)
    if value < 1 or (maximum is not None and value > maximum):
        bound = f"between 1 and {maximum}" if maximum else "at least 1"
        raise ValidationError({name: [f"Must be {bound}."]})
    return value


class EnvelopePagination(BasePagination):
    """Page-number pagination with strict ``page`` and ``limit`` parameters.

    The envelope's exact ``total`` is the view's ``list_total(queryset)`` when it
    has one and answers (maintained counts), else ``queryset.count()``. The page
    is the view's ``list_page(queryset, offset=, limit=)`` when it has one (a
    deep page read through an index), else a slice of ``queryset``, or of
    ``rows(queryset)`` when the caller gives ``rows`` (a projection of the page to
    plain rows, which the count does not read).
    """

    def paginate_queryset(self, queryset: QuerySet, request: Request, view=None, rows=None) -> list:
        page_raw = request.query_params.get("page", "1")
        limit_raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
        self.page = _positive_int(page_raw, "page")
        self.limit = _positive_int(limit_raw, "limit", MAX_LIMIT)
        # A view may know its total without counting (``list_total``; None: count after all).
        total_of = getattr(view, "list_total", None)
        total = total_of(queryset) if total_of is not None else None
        self.total = total if total is not None else queryset.count()
        offset = (self.page - 1) * self.limit
        if offset >= self.total:
            return []
        page_of = getattr(view, "list_page", None)
        if page_of is not None:
            return page_of(queryset, offset=offset, limit=self.limit)
        # The page fetched as ``rows(queryset)`` when given (plain rows); the total counted the records.
        fetched = rows(queryset) if rows is not None else queryset
        return list(fetched[offset : offset + self.limit])

    def get_paginated_response(self, data: list) -> Response:
        return Response({"data": data, "pagination": {"page": self.page, "limit": self.limit, "total": self.total}})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "pagination"],
            "properties": {
                "data": schema,
                "pagination": {
                    "type": "object",
                    "required": ["page", "limit", "total"],
                    "properties": {
                        # The examples let a list's example item be shown inside the envelope.
                        "page": {"type": "integer", "minimum": 1, "example": 1},
                        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "example": 20},
                        "total": {"type": "integer", "minimum": 0, "example": 1},
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": "Page number, from 1. A page past the end is empty.",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Items per page, 1 to {MAX_LIMIT}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            },
        ]
