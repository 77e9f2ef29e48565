"""The certification list and change page: columns, filters, search, ordering and counts.

What the pages write (the add and edit forms, the soft delete, the record
actions) is ``certification_writes``: every write goes through the services.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from certifications.admin.actions import ServiceActionsMixin
from certifications.admin.bulk import BulkAdminMixin
from certifications.admin.certification_writes import CertificationWritesMixin
from certifications.admin.common import day, mentor_cell, ordered, plural
from certifications.admin.counting import (
    CountedPaginator,
    PageAnnotatedChangeList,
    certification_tally_count,
    id_prefix,
    mentors_matching,
)
from certifications.admin.filters import DeletedFilter, ExpiringFilter, LapsedFilter, LifecycleFilter
from certifications.admin.history import HistoryAdminMixin
from certifications.models import Certification, CertificationStatus, Lifecycle
from certifications.selectors import capped_count, certification_list


class CertificationAdmin(
    CertificationWritesMixin, BulkAdminMixin, HistoryAdminMixin, ServiceActionsMixin, admin.ModelAdmin
):
    # Named, so that django-import-export's list template extends it (its drill-down reads the tallies).
    change_list_template = "admin/certifications/certification/change_list.html"
    list_display = [
        "certification_id",
        "mentor_link",
        "type_code",
        "issued",
        "expires",
        "status",
        "auto_paused",
        "lifecycle",
        "expiry",
    ]
    list_filter = [
        LifecycleFilter,
        "status",
        "certification_type",
        "auto_pause_applied",
        ExpiringFilter,
        LapsedFilter,
        DeletedFilter,
    ]
    search_fields = ["certification_id", "mentor__mentor_id", "mentor__name", "mentor__email"]
    search_help_text = "A certification or mentor id (or its beginning), or part of a mentor's name or email."
    date_hierarchy = "expires_at"
    # Counting a million rows per page view is what made the list slow: the count comes from the
    # maintained totals (or is capped, admin/counting.py), never for the whole table, no facets.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ["-issued_at", "-certification_id"]  # unique, so the issue-order index serves it whole
    list_per_page = 50

    def get_queryset(self, request):
        # Deleted records too (``DeletedFilter`` shows live ones by default), joined as the API's list.
        return ordered(self, request, certification_list(include_deleted=True))

    def get_changelist(self, request, **kwargs):
        return PageAnnotatedChangeList

    # With no order chosen, a lifecycle state is listed in the order its records are found in at once:
    # walking the issue order from the newest, fifty lapsed or superseded records (which are old ones)
    # lie behind hundreds of thousands of current ones.
    LIFECYCLE_ORDERING = {
        Lifecycle.SUPERSEDED: ["issued_at", "certification_id"],  # the oldest first
        Lifecycle.LAPSED: ["-expires_at", "-certification_id"],  # the latest lapse first
        Lifecycle.GRACE: ["expires_at", "certification_id"],  # the grace ending soonest first
        Lifecycle.RENEWAL_DUE: ["expires_at", "certification_id"],  # the soonest expiry first
    }

    def get_ordering(self, request):
        """Soonest expiry first when the list is narrowed by expiry (the drill-down, *expiring*) and no order chosen.

        The expiry index then serves the page; walking the issue order instead
        reads most of the table to find fifty records expiring in one month.
        A lifecycle state has its own order (``LIFECYCLE_ORDERING``), for the same reason.
        """
        if ORDER_VAR not in request.GET:
            narrowed = "expiring" in request.GET or any(key.startswith("expires_at__") for key in request.GET)
            if narrowed:
                return ["expires_at", "certification_id"]
            if state := self.LIFECYCLE_ORDERING.get(request.GET.get("lifecycle")):
                return state
        return super().get_ordering(request)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """Counted by the maintained totals when the page's filters allow, else up to ``COUNT_CAP``."""
        tally = certification_tally_count(request.GET, date_field=self.date_hierarchy)
        counter = (lambda: (tally.total(), False)) if tally is not None else (lambda: capped_count(queryset))
        return CountedPaginator(
            queryset, per_page, orphans=orphans, allow_empty_first_page=allow_empty_first_page, counter=counter
        )

    def get_search_results(self, request, queryset, search_term):
        """An id or its beginning by the ids' indexes; otherwise the mentor's name or email (trigram indexes)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if cert_id := id_prefix(term, "cert_"):
            return queryset.filter(certification_id__startswith=cert_id), False
        if mentor_id := id_prefix(term, "mntr_"):
            return queryset.filter(mentor__mentor_id__startswith=mentor_id), False
        return queryset.filter(mentor__in=mentors_matching(term)), False

    # Columns

    @admin.display(description="mentor", ordering="mentor__mentor_id")
    def mentor_link(self, obj: Certification) -> str:
        return mentor_cell(obj.mentor)

    @admin.display(description="type", ordering="certification_type__code")
    def type_code(self, obj: Certification) -> str:
        # Let long codes wrap after their underscores.
        return mark_safe("_<wbr>".join(escape(part) for part in obj.certification_type.code.split("_")))

    @admin.display(description="issued", ordering="issued_at")
    def issued(self, obj: Certification) -> str:
        return day(obj.issued_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, obj: Certification) -> str:
        return day(obj.expires_at)

    @admin.display(description="auto-paused", boolean=True, ordering="auto_pause_applied")
    def auto_paused(self, obj: Certification) -> bool:
        return obj.auto_pause_applied

    @admin.display(description="lifecycle")
    def lifecycle(self, obj: Certification) -> str:
        return Lifecycle(obj.lifecycle).label.split(" (")[0] if getattr(obj, "lifecycle", None) else "-"

    @admin.display(description="expiry")
    def expiry(self, obj: Certification) -> str:
        """'expires in N days', 'expired, in grace until …', 'lapsed N days ago', 'renewed' or 'deleted'."""
        now = timezone.now()
        if obj.deleted_at is not None:
            text, css = "deleted", "ch-muted"
        elif obj.status == CertificationStatus.VALID and obj.expires_at > now:
            days = (obj.expires_at - now).days
            text = "expires today" if days == 0 else f"expires in {plural(days, 'day')}"
            css = "ch-soon" if days <= 30 else "ch-ok"
        elif getattr(obj, "renewed", False):
            text, css = "renewed", "ch-muted"
        elif obj.status == CertificationStatus.REVOKED:
            text, css = "lapsed (revoked)", "ch-lapsed"
        elif getattr(obj, "lifecycle", None) == Lifecycle.GRACE:
            text, css = f"expired, in grace until {day(obj.grace_ends_at)}", "ch-soon"
        else:
            days = (now - obj.expires_at).days
            text = "lapsed today" if days == 0 else f"lapsed {plural(days, 'day')} ago"
            css = "ch-lapsed"
        return format_html('<span class="ch-badge {}">{}</span>', css, text)
