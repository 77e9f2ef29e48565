"""The events and webhooks API: ``/api/v1/events`` and ``/api/v1/webhooks/...``."""
