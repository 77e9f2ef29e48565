"""The expiry job's pages: the run history (read-only) and the preview-then-run page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from certhub.errors import DomainError, JobAlreadyRunning
from certifications import services
from certifications.admin.common import ReadOnlyAdmin, day, plural
from certifications.models import ExpiryJobRun, JobTrigger
from certifications.representation import RUN_COUNTERS
from certifications.selectors import expiry_run_last
from certifications.services.lapse import lock_holder

RUN_PERMISSION = "certifications.run_expiry_job"
PREVIEW_LIMIT = 200


class ExpiryJobRunAdmin(ReadOnlyAdmin):
    list_display = [
        "job_run_id",
        "state",
        "trigger",
        "dry_run",
        "requested_by",
        "started",
        *RUN_COUNTERS,
        "failure_count",
        "duration",
        "batches",
        "rows_per_second",
    ]
    list_select_related = ["requested_by"]
    list_filter = ["state", "trigger", "dry_run"]
    search_fields = ["job_run_id"]
    date_hierarchy = "created_at"
    fields = [
        "job_run_id",
        "state",
        "trigger",
        "dry_run",
        "requested_by",
        "created_at",
        "started_at",
        "completed_at",
        *RUN_COUNTERS,
        "duration",
        "batches",
        "rows_per_second",
        "failure_table",
        "error",
        "log_entries",
    ]
    readonly_fields = fields

    @admin.display(description="started (UTC)", ordering="started_at")
    def started(self, obj: ExpiryJobRun) -> str:
        return day(obj.started_at, time=True)

    @admin.display(description="duration")
    def duration(self, obj: ExpiryJobRun) -> str:
        seconds = obj.duration_seconds
        return "-" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description="rows/s")
    def rows_per_second(self, obj: ExpiryJobRun) -> str:
        rate = obj.rows_per_second
        return "-" if rate is None else f"{rate:,.0f}"

    @admin.display(description="failures")
    def failure_count(self, obj: ExpiryJobRun) -> int:
        return len(obj.failures or [])

    @admin.display(description="failures")
    def failure_table(self, obj: ExpiryJobRun) -> str:
        if not obj.failures:
            return "None"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((item.get("mentor_id"), item.get("certification_id"), item.get("error")) for item in obj.failures),
        )
        return format_html(
            "<table><thead><tr><th>mentor</th><th>certification</th><th>error</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="auto-pause log")
    def log_entries(self, obj: ExpiryJobRun) -> str:
        if obj.dry_run:
            return "A dry run writes no log entries."
        url = reverse("admin:certifications_autopauselog_changelist")
        return format_html('<a href="{}?job_run__id__exact={}">Entries written by this run</a>', url, obj.pk)

    def get_urls(self):
        run = path("run/", self.admin_site.admin_view(self.run_view), name="certifications_expiryjobrun_run")
        return [run, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        context = {"can_run_expiry_job": request.user.has_perm(RUN_PERMISSION), **(extra_context or {})}
        return super().changelist_view(request, context)

    def run_view(self, request: HttpRequest):
        """Preview the job as a dry run, then run it for real on confirmation."""
        if not request.user.has_perm(RUN_PERMISSION):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Run expiry job",
            "opts": self.model._meta,
            "preview_limit": PREVIEW_LIMIT,
        }
        if request.method == "POST" and "run" in request.POST:
            try:
                run = services.expiry_job_run(
                    now=timezone.now(), dry_run=False, trigger=JobTrigger.ADMIN, requested_by=request.user
                )
            except JobAlreadyRunning as exc:
                self.message_user(
                    request,
                    f"{exc.message} Nothing was started; preview again once it has finished.",
                    messages.ERROR,
                )
                return HttpResponseRedirect(request.path)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.message_user(
                request,
                f"Expiry job {run.job_run_id} {run.state}: {plural(run.marked_expired, 'certification')} marked "
                f"expired, {run.expired_found} due, {plural(run.auto_paused, 'mentor')} paused, "
                f"{plural(len(run.failures), 'failure')}.",
                messages.ERROR if run.failures else messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:certifications_expiryjobrun_change", args=[run.pk]))
        if request.method == "POST" and "preview" in request.POST:
            now = timezone.now()
            context["preview"] = services.expiry_job_run(
                now=now, dry_run=True, trigger=JobTrigger.ADMIN, requested_by=request.user
            )
            context["items"] = services.expiry_job_preview(now=now, limit=PREVIEW_LIMIT)
        context["running"] = lock_holder()
        context["last_run"] = expiry_run_last()
        return TemplateResponse(request, "admin/certifications/expiryjobrun/run.html", context)
