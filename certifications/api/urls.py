"""The API's routes, all from one router: under ``/api/v1/certifications`` and the contract's alias.

The published contract writes its paths as ``/api/v1/certifications/api/v1/certifications/...``
(the base repeated); clients that took it literally are served there too, under
the ``contract-alias`` namespace, and the schema leaves those routes out.
"""

from django.urls import include, path

from certhub.api.routers import OptionalSlashRouter
from certifications.api import views

router = OptionalSlashRouter()
# The expiry-job routes come first, so ``expiry-job/...`` is never read as a certification id.
router.register("certifications/expiry-job/runs", views.ExpiryJobRunViewSet, basename="expiry-job-run")
router.register("certifications/expiry-job/logs", views.AutoPauseLogViewSet, basename="expiry-job-log")
router.register("certifications/expiry-job", views.ExpiryJobViewSet, basename="expiry-job")
router.register("certifications", views.CertificationViewSet, basename="certification")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/certifications/api/v1/", include((router.urls, "certifications"), namespace="contract-alias")),
]
