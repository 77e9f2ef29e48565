"""The notifications' routes (not part of the contract: no alias paths)."""

from django.urls import include, path

from certhub.api.routers import OptionalSlashRouter
from notifications.api import (
    schema,  # noqa: F401  (documents the views for OpenAPI, on import)
    views,
)

router = OptionalSlashRouter()
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [path("api/v1/", include(router.urls))]
