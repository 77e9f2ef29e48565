"""The cross-cutting platform app: API conventions, ids, health, admin site."""

from django.apps import AppConfig


class CerthubConfig(AppConfig):
    name = "certhub"
    verbose_name = "CertHub platform"
