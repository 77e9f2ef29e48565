"""The auto-pause log page: the append-only record of every pause and resume, read-only."""

from __future__ import annotations

from django.contrib import admin

from certifications.admin.common import ReadOnlyAdmin, admin_link, day, mentor_cell, ordered
from certifications.models import AutoPauseLog
from certifications.selectors import auto_pause_log_list


class AutoPauseLogAdmin(ReadOnlyAdmin):
    """The append-only auto-pause log: read-only for everyone, superusers included."""

    list_display = ["log_id", "applied", "event", "mentor_link", "certification_link", "job_run_link", "reason"]
    list_filter = ["event", ("job_run", admin.RelatedOnlyFieldListFilter), ("applied_at", admin.DateFieldListFilter)]
    search_fields = ["mentor__mentor_id", "mentor__name", "mentor__email", "certification__certification_id"]
    search_help_text = "Mentor id, name or email, or certification id."
    date_hierarchy = "applied_at"
    fields = ["log_id", "applied_at", "event", "mentor_link", "certification_link", "job_run_link", "reason"]
    readonly_fields = fields
    list_per_page = 100

    def get_queryset(self, request):
        # Joined as the API's log list.
        return ordered(self, request, auto_pause_log_list())

    @admin.display(description="applied at (UTC)", ordering="applied_at")
    def applied(self, obj: AutoPauseLog) -> str:
        return day(obj.applied_at, time=True)

    @admin.display(description="mentor", ordering="mentor__mentor_id")
    def mentor_link(self, obj: AutoPauseLog) -> str:
        return mentor_cell(obj.mentor)

    @admin.display(description="certification", ordering="certification__certification_id")
    def certification_link(self, obj: AutoPauseLog) -> str:
        return admin_link(obj.certification)

    @admin.display(description="job run", ordering="job_run__job_run_id")
    def job_run_link(self, obj: AutoPauseLog) -> str:
        if obj.job_run is None:
            return "— (a write)"
        return admin_link(obj.job_run)
