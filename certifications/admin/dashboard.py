"""The admin index's dashboard: today's figures (``selectors.dashboard_summary``) and where each leads.

Registered on CertHub's site as an index panel (``certifications.admin``), so
the platform's site knows nothing of certifications.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from certifications.admin.runs import RUN_PERMISSION
from certifications.selectors import EXPIRING_SOON_DAYS, dashboard_summary


def dashboard_context(request: HttpRequest, site: AdminSite) -> dict:
    """The dashboard and its links for staff who may see certifications; nothing for the others."""
    user = request.user
    if not user.has_perm("certifications.view_certification"):
        return {}
    certifications = reverse("admin:certifications_certification_changelist", current_app=site.name)
    mentors = reverse("admin:certifications_mentor_changelist", current_app=site.name)
    links = {
        "valid": f"{certifications}?expiring=current",
        "expiring_soon": f"{certifications}?expiring={EXPIRING_SOON_DAYS}",
        "lapsed_awaiting_job": f"{certifications}?lapsed=due",
        "paused_auto": f"{mentors}?status__exact=paused&paused_by__exact=auto",
        "paused_staff": f"{mentors}?status__exact=paused&paused_by__exact=staff",
        "runs": reverse("admin:certifications_expiryjobrun_changelist", current_app=site.name),
    }
    if user.has_perm(RUN_PERMISSION):
        links["run"] = reverse("admin:certifications_expiryjobrun_run", current_app=site.name)
    return {
        "dashboard": dashboard_summary(now=timezone.now()),
        "dashboard_links": links,
        "expiring_soon_days": EXPIRING_SOON_DAYS,
    }
