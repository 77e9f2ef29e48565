"""The certification change list's own filters: deleted, expiring, lifecycle and lapsed."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.utils import timezone

from certifications.models import Lifecycle


class DeletedFilter(admin.SimpleListFilter):
    """Live records by default; soft-deleted ones on demand, so they can be restored."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", "Deleted"), ("any", "Live and deleted")]

    def choices(self, changelist):
        # No parameter means live records, so that choice is labelled "Live", not "All".
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Live",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "any":
            return queryset
        return queryset.alive()


class ExpiringFilter(admin.SimpleListFilter):
    """Current certifications expiring within 30, 60 or 90 days."""

    title = "expiring"
    parameter_name = "expiring"
    windows = (30, 60, 90)

    def lookups(self, request, model_admin):
        return [(str(days), f"Within {days} days") for days in self.windows] + [("current", "Not yet expired")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        now = timezone.now()
        current = queryset.current(now=now)
        if value == "current":
            return current
        if value.isdigit() and int(value) in self.windows:
            return current.filter(expires_at__lte=now + dt.timedelta(days=int(value)))
        return queryset.none()


class LifecycleFilter(admin.SimpleListFilter):
    """Where a record stands now (``Lifecycle``): superseded, revoked, lapsed, in grace, renewal due, active."""

    title = "lifecycle"
    parameter_name = "lifecycle"

    def lookups(self, request, model_admin):
        return Lifecycle.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value not in Lifecycle.values:
            return queryset.none()
        # The state as its own condition (not the CASE of every state), which the planner can estimate.
        return queryset.in_lifecycle(value, now=timezone.now())


class LapsedFilter(admin.SimpleListFilter):
    """Lapsed records (docs/design.md, "The rule"), split by whether the job has paused for them yet."""

    title = "lapsed"
    parameter_name = "lapsed"

    def lookups(self, request, model_admin):
        return [
            ("due", "Awaiting the expiry job"),
            ("applied", "Auto-pause applied"),
            ("any", "All lapsed"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        now = timezone.now()
        if value == "due":
            return queryset.due(now=now)
        lapsed = queryset.lapsed(now=now)
        if value == "applied":
            return lapsed.filter(auto_pause_applied=True)
        if value == "any":
            return lapsed
        return queryset.none()
