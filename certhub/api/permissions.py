"""API access: public reads (closable by a setting), model permissions for writes, private reads."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissions


def check_method(request, view) -> None:
    """A method the view does not serve is a 405 for everyone, before any 401 or 403."""
    if request.method not in view.allowed_methods:
        raise MethodNotAllowed(request.method)


class ModelPermissionsOrPublicRead(DjangoModelPermissions):
    """Reads are open when ``API_PUBLIC_READS`` is on; writes need the model permission.

    Without credentials a write is refused with 401; an authenticated user
    lacking the permission gets 403.
    """

    public_read = True  # the schema marks its reads as needing no credentials (while reads are public)

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": [],
        "HEAD": [],
        "OPTIONS": [],
    }

    def has_permission(self, request, view) -> bool:
        check_method(request, view)
        if request.method in SAFE_METHODS:
            return settings.API_PUBLIC_READS or bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


def require_perm(perm: str) -> type[BasePermission]:
    """A permission class that demands one named permission, e.g. ``certifications.run_expiry_job``."""

    class HasPerm(BasePermission):
        public_read = True

        def has_permission(self, request, view) -> bool:
            check_method(request, view)
            if request.method in SAFE_METHODS:
                return settings.API_PUBLIC_READS or bool(request.user and request.user.is_authenticated)
            user = request.user
            return bool(user and user.is_authenticated and user.has_perm(perm))

    HasPerm.__name__ = f"HasPerm[{perm}]"
    return HasPerm


def require_perms_to_read(*perms: str) -> type[BasePermission]:
    """An authenticated user holding every one of ``perms``, whatever ``API_PUBLIC_READS`` says.

    For answers that carry personal data (names, addresses) or name users: they are never public.
    """

    class HasPerms(BasePermission):
        def has_permission(self, request, view) -> bool:
            check_method(request, view)
            user = request.user
            return bool(user and user.is_authenticated and user.has_perms(perms))

    HasPerms.__name__ = f"HasPerms[{', '.join(perms)}]"
    return HasPerms
