"""CertHub's admin site: the coordinators' workspace, with the apps' panels (the dashboard) on its index page.

``certhub.apps.CertHubAdminConfig`` makes this the default site, so ``admin.site``
(and every ``@admin.register``, django-celery-beat's included) uses it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.http import HttpRequest

# A panel gives the index page extra template context for the request (empty for staff who may not see it).
IndexPanel = Callable[[HttpRequest, admin.AdminSite], dict]


class CertHubAdminSite(admin.AdminSite):
    site_header = "CertHub administration"
    site_title = "CertHub admin"
    index_title = "Coordinators' workspace"
    index_template = "admin/certhub_index.html"
    enable_nav_sidebar = False  # the changelists need the width more than a second menu

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._index_panels: list[IndexPanel] = []
        self._login_view: Callable | None = None

    def add_index_panel(self, panel: IndexPanel) -> None:
        """Show ``panel``'s context on the index page, above the app list (``certifications.admin.dashboard``)."""
        self._index_panels.append(panel)

    def set_login_view(self, view: Callable) -> None:
        """Sign in through ``view(request, site, extra_context)`` (``access.login``: the second factor)."""
        self._login_view = view

    def login(self, request, extra_context=None):
        """The registered login view (``/admin/login/`` and every redirect to it), or Django's."""
        if self._login_view is None:
            return super().login(request, extra_context)
        return self._login_view(request, self, extra_context)

    def index(self, request, extra_context=None):
        """The app list, preceded by the panels the apps added."""
        context = {}
        for panel in self._index_panels:
            context.update(panel(request, self))
        return super().index(request, {**(extra_context or {}), **context})
