"""The cross-cutting platform app: API conventions, ids, health, admin site."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CerthubConfig(AppConfig):
    name = "certhub"
    verbose_name = "CertHub platform"


class CertHubAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with CertHub's site (dashboard index), so ``admin.site`` is it.

    Listed in INSTALLED_APPS in place of ``django.contrib.admin``.
    """

    default = False  # not the default config of the ``certhub`` app itself
    default_site = "certhub.admin.CertHubAdminSite"
