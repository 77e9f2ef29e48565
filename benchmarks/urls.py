"""The project's URLs plus the bare views the API benchmark compares against (benchmark settings only)."""

from django.urls import path

from benchmarks import api
from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("bench/bare/certifications", api.bare_list),
    path("bench/bare/renewal-requests", api.bare_renewal_list),
    path("bench/bare/certifications/<str:certification_id>", api.bare_detail),
    *project_urlpatterns,
]
