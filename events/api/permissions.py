"""Model permissions of the events API: credentials always, whatever ``API_PUBLIC_READS`` says."""

from __future__ import annotations

from rest_framework.permissions import DjangoModelPermissions

from certhub.api.permissions import check_method


class ModelPermissions(DjangoModelPermissions):
    """``view_<model>`` to read; the add, change and delete permissions to write; 405 before 401 or 403."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        check_method(request, view)
        return super().has_permission(request, view)
