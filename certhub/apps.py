"""The cross-cutting platform app: API conventions, ids, health, admin site."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CerthubConfig(AppConfig):
    name = "certhub"
    verbose_name = "CertHub platform"

    def ready(self):
        # Request ids travel on the messages a request enqueues; the task counters add up in every worker.
        from celery import signals
        from django.core.signals import request_finished

        from certhub import requestids
        from certhub.metrics import series

        request_finished.connect(requestids.request_ended, weak=False)
        signals.before_task_publish.connect(requestids.task_published, weak=False)
        signals.task_prerun.connect(requestids.task_started, weak=False)
        signals.task_postrun.connect(requestids.task_ended, weak=False)
        signals.task_success.connect(series.task_succeeded, weak=False)
        signals.task_failure.connect(series.task_failed, weak=False)
        signals.task_retry.connect(series.task_retried, weak=False)

        from certhub.retention import login_failure_kind, retention_register

        retention_register(login_failure_kind())


class CertHubAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with CertHub's site (dashboard index), so ``admin.site`` is it.

    Listed in INSTALLED_APPS in place of ``django.contrib.admin``.
    """

    default = False  # not the default config of the ``certhub`` app itself
    default_site = "certhub.admin.CertHubAdminSite"
