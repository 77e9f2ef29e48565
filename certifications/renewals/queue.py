"""The renewal queue's pages: one page, oldest first, read through a narrow index.

A deep page of a long queue is found in the index alone: the page's ids are
taken from ``rnw_state_created_idx`` (state, created_at, id) by an index-only
scan that skips the rows before it, and only those ids' rows are read with their
mentor, type, reviewer and record. An ``OFFSET`` over the joined rows would read
and join every row it skips.
"""

from __future__ import annotations

from django.db.models import QuerySet

from certifications.models import RenewalRequest

ORDER = ("created_at", "id")


def renewal_rows(queryset: QuerySet[RenewalRequest]) -> QuerySet[RenewalRequest]:
    """``queryset`` with what a request's representation reads joined in, oldest first."""
    return queryset.select_related("mentor", "certification_type", "decided_by", "certification").order_by(*ORDER)


def renewal_page(queryset: QuerySet[RenewalRequest], *, offset: int, limit: int) -> list[RenewalRequest]:
    """``queryset``'s ``limit`` requests from ``offset``, oldest first: their ids from the index, then their rows."""
    ids = queryset.order_by(*ORDER).values("pk")[offset : offset + limit]
    return list(renewal_rows(RenewalRequest.objects.filter(pk__in=ids)))
