"""The auto-pause log page: the append-only record of every pause and resume, read-only."""

from __future__ import annotations

from django.contrib import admin

from certifications.admin.common import ReadOnlyAdmin, admin_link, day, mentor_cell, ordered
from certifications.models import AutoPauseLog, ExpiryJobRun
from certifications.selectors import auto_pause_log_list


class RecentRunFilter(admin.RelatedFieldListFilter):
    """The job-run filter, offering the latest runs only.

    Django's related-only filter lists the runs found among all the log rows (a
    ``DISTINCT`` over the whole log); any run's entries are still reachable by
    its parameter (``job_run__id__exact``), which each run's page links to.
    """

    RUNS = 20

    def field_choices(self, field, request, model_admin):
        runs = ExpiryJobRun.objects.filter(dry_run=False).order_by("-created_at", "-id")[: self.RUNS]
        return [(run.pk, run.job_run_id) for run in runs]


class AutoPauseLogAdmin(ReadOnlyAdmin):
    """The append-only auto-pause log: read-only for everyone, superusers included."""

    list_display = ["log_id", "applied", "event", "mentor_link", "certification_link", "job_run_link", "reason"]
    list_filter = ["event", ("job_run", RecentRunFilter), ("applied_at", admin.DateFieldListFilter)]
    search_fields = ["mentor__mentor_id", "mentor__name", "mentor__email", "certification__certification_id"]
    search_help_text = "Mentor id, name or email, or certification id."
    # No date drill-down: the date filter does its work without a DISTINCT over every row, and no full count.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
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
