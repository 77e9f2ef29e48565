"""Routes under ``/api/v1/certifications`` (and the contract's literal alias paths)."""

from certhub.api.routes import api_routes
from certifications.api import views

BASE = "api/v1/certifications"

urlpatterns = api_routes(
    [
        ("", views.CertificationListCreateView.as_view(), "certification-list"),
        ("expiry-job/run", views.ExpiryJobRunView.as_view(), "expiry-run"),
        ("expiry-job/logs", views.AutoPauseLogListView.as_view(), "expiry-logs"),
        ("expiry-job/runs", views.ExpiryJobRunListView.as_view(), "expiry-runs"),
        ("expiry-job/runs/<str:job_run_id>", views.ExpiryJobRunDetailView.as_view(), "expiry-run-detail"),
        ("<str:certification_id>", views.CertificationDetailView.as_view(), "certification-detail"),
    ],
    base=BASE,
    alias_base=f"{BASE}/{BASE}",
)
