from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self):
        from certifications.services.receivers import register
        from notifications import effects

        register(self, effects)

        from certhub.metrics import gauges
        from notifications.metrics import GAUGES

        gauges.register(*GAUGES)

        from certhub.retention import retention_register
        from notifications.retention import KINDS

        retention_register(*KINDS)

        from certifications.totals import states
        from notifications.models import Notification

        states.register(Notification)  # its rows per state: a tally its writes keep (decision 0044)
