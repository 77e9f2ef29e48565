"""Top-level URLs: admin, the API (canonical and contract alias paths), the renewal page, schema, docs, health,
readiness, metrics."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from certhub.views import healthz, metrics, readyz

urlpatterns = [
    path("admin/factor/", include("access.urls")),
    path("admin/", admin.site.urls),
    path("", include("certifications.api.urls")),
    path("", include("events.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("certifications.renewals.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", http_method_names=["get", "head"]),
        name="swagger-ui",
    ),
    path("healthz", healthz, name="healthz"),  # liveness
    path("readyz", readyz, name="readyz"),  # readiness: database, migrations, broker
    path("metrics", metrics, name="metrics"),
]

handler404 = "certhub.views.not_found"
handler500 = "certhub.views.server_error"
