"""CertHub's admin site: the coordinators' workspace, with a dashboard on its index page.

``certhub.apps.CertHubAdminConfig`` makes this the default site, so ``admin.site``
(and every ``@admin.register``, django-celery-beat's included) uses it.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from certifications.dashboard import EXPIRING_SOON_DAYS, dashboard_summary


class CertHubAdminSite(admin.AdminSite):
    site_header = "CertHub administration"
    site_title = "CertHub admin"
    index_title = "Coordinators' workspace"
    index_template = "admin/certhub_index.html"
    enable_nav_sidebar = False  # the changelists need the width more than a second menu

    def index(self, request, extra_context=None):
        """The app list, preceded by the dashboard for staff who may see certifications."""
        context = dict(extra_context or {})
        user = request.user
        if user.has_perm("certifications.view_certification"):
            certifications = reverse("admin:certifications_certification_changelist", current_app=self.name)
            mentors = reverse("admin:certifications_mentor_changelist", current_app=self.name)
            context["dashboard"] = dashboard_summary(now=timezone.now())
            context["dashboard_links"] = {
                "valid": f"{certifications}?expiring=current",
                "expiring_soon": f"{certifications}?expiring={EXPIRING_SOON_DAYS}",
                "lapsed_awaiting_job": f"{certifications}?lapsed=due",
                "paused_auto": f"{mentors}?status__exact=paused&paused_by__exact=auto",
                "paused_staff": f"{mentors}?status__exact=paused&paused_by__exact=staff",
                "runs": reverse("admin:certifications_expiryjobrun_changelist", current_app=self.name),
            }
            context["expiring_soon_days"] = EXPIRING_SOON_DAYS
            if user.has_perm("certifications.run_expiry_job"):
                context["dashboard_links"]["run"] = reverse(
                    "admin:certifications_expiryjobrun_run", current_app=self.name
                )
        return super().index(request, context)
