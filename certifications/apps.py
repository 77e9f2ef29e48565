"""The certification domain app."""

from django.apps import AppConfig
from django.core import checks


class CertificationsConfig(AppConfig):
    name = "certifications"
    verbose_name = "Certifications"

    def ready(self):
        from certifications.services.receivers import check_receivers

        checks.register(check_receivers)

        from certhub.metrics import gauges
        from certifications.metrics import GAUGES

        gauges.register(*GAUGES)

        from certhub.retention import retention_register
        from certifications.renewals.retention import KINDS

        retention_register(*KINDS)
