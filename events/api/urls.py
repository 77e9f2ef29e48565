"""Routes of the events and webhooks API (not part of the contract: no alias paths)."""

from django.urls import include, path

from certhub.api.routers import OptionalSlashRouter
from events.api import (
    feed,
    schema,  # noqa: F401  (documents the views for OpenAPI, on import)
    webhooks,
)

router = OptionalSlashRouter()
router.register("events", feed.EventViewSet, basename="event")
router.register("webhooks/endpoints", webhooks.EndpointViewSet, basename="webhook-endpoint")
router.register("webhooks/deliveries", webhooks.DeliveryViewSet, basename="webhook-delivery")

urlpatterns = [path("api/v1/", include(router.urls))]
