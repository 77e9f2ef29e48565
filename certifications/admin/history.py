"""Each object's History page in the admin: its history rows with the fields changed, old and new."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils.text import capfirst

from certifications.history.models import HistoryEntry
from certifications.history.record import SUBJECTS

PER_PAGE = 100


class HistoryAdminMixin:
    """Replaces the admin's own History page (which lists only its own ``LogEntry`` rows) with CertHub's history."""

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        rows = HistoryEntry.objects.filter(subject=SUBJECTS[self.model], object_pk=obj.pk).order_by("-at", "-id")
        page = Paginator(rows, PER_PAGE).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change history: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "entries": page,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/certifications/history.html", context)
