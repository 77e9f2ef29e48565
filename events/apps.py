"""The events app: the outbox, the feed and webhook deliveries."""

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events and webhooks"

    def ready(self):
        from certifications.services.receivers import register
        from events import effects

        register(self, effects)

        from certhub.metrics import gauges
        from events.metrics import GAUGES

        gauges.register(*GAUGES)

        from certhub.retention import retention_register
        from events.retention import KINDS

        retention_register(*KINDS)

        from certifications.totals import states
        from events.models import WebhookDelivery

        states.register(WebhookDelivery)  # its rows per state: a tally its writes keep (decision 0044)
