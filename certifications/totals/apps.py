from django.apps import AppConfig


class TotalsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "certifications.totals"
    label = "totals"
    verbose_name = "Maintained totals"
