"""The API's routes, all from one router: under ``/api/v1/certifications`` and the contract's alias.

The published contract writes its paths as ``/api/v1/certifications/api/v1/certifications/...``
(the base repeated); clients that took it literally are served there too, under
the ``contract-alias`` namespace, and the schema leaves those routes out.
"""

from django.urls import include, path

from certhub.api.routers import OptionalSlashRouter
from certifications.api import (
    imports,
    mentors,
    renewals,
    schema,  # noqa: F401  (documents the views for OpenAPI, on import)
    views,
)

router = OptionalSlashRouter()
# The expiry-job routes come first, so ``expiry-job/...`` is never read as a certification id.
router.register("certifications/expiry-job/runs", views.ExpiryJobRunViewSet, basename="expiry-job-run")
router.register("certifications/expiry-job/logs", views.AutoPauseLogViewSet, basename="expiry-job-log")
router.register("certifications/expiry-job", views.ExpiryJobViewSet, basename="expiry-job")
# Import and export before the records too: ``import`` and ``export.csv`` are not certification ids.
router.register("certifications/import", imports.CertificationImportViewSet, basename="certification-import")
router.register("certifications/export.csv", imports.CertificationExportViewSet, basename="certification-export")
router.register("certifications", views.CertificationViewSet, basename="certification")

# Mentors and renewal requests are not part of the contract: no alias paths for them.
mentor_router = OptionalSlashRouter()
mentor_router.register("mentors", mentors.MentorViewSet, basename="mentor")
mentor_router.register("renewal-requests", renewals.RenewalRequestViewSet, basename="renewal-request")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/", include(mentor_router.urls)),
    path("api/v1/certifications/api/v1/", include((router.urls, "certifications"), namespace="contract-alias")),
]
