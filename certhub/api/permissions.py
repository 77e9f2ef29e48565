"""API access, from one factory: who may read, who may write, and 405 before 401 or 403.

``api_permission()`` builds every permission class of the API. Reads are either
public (open while ``API_PUBLIC_READS`` is on, else to any authenticated user) or
need named permissions with credentials always (personal data, users' names);
writes need the model permission of the method (``add``/``change``/``delete``,
as ``DjangoModelPermissions``) or named permissions. A refusal is a 401 without
credentials and a 403 with them (DRF decides that from the authentication).
Each permission also declares the API key scope of its reads and writes
(``scope``, ``certhub.api.scopes``): a key without it is a 403 naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.conf import settings
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissions

from certhub.api.scopes import SCOPE_PREFIXES, SCOPES, check_scope, scope_for

# Permission templates, filled in with the view's model (``view.get_queryset().model``).
VIEW = "%(app_label)s.view_%(model_name)s"
CHANGE = "%(app_label)s.change_%(model_name)s"
# The model permission of each write method: ``add`` to POST, ``change`` to PUT or PATCH, ``delete`` to DELETE.
MODEL_WRITES: Mapping[str, tuple[str, ...]] = {
    method: tuple(perms) for method, perms in DjangoModelPermissions.perms_map.items() if method not in SAFE_METHODS
}


def check_method(request, view) -> None:
    """A method the view does not serve is a 405 for everyone, before any 401 or 403."""
    if request.method not in view.allowed_methods:
        raise MethodNotAllowed(request.method)


class ApiPermission(BasePermission):
    """The API's permission; configured by :func:`api_permission`, not used as it stands."""

    public_read = False  # the schema marks the reads as needing no credentials (while reads are public)
    read_perms: tuple[str, ...] = ()
    write_perms: Mapping[str, tuple[str, ...]] = MODEL_WRITES
    read_actions: frozenset[str] = frozenset()
    scope: str | None = None  # no scope: API keys are refused

    def has_permission(self, request, view) -> bool:
        check_method(request, view)
        reading = self.reading(request, view)
        check_scope(request, self.scope, reading=reading)
        if reading and self.public_read and settings.API_PUBLIC_READS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if reading:
            perms = self.read_perms
        elif request.method in self.write_perms:
            perms = self.write_perms[request.method]
        else:
            raise MethodNotAllowed(request.method)  # as DjangoModelPermissions: no method goes unchecked
        return user.has_perms(self._for_model(perms, view))

    def reading(self, request, view) -> bool:
        """Whether the request only reads: a safe method, or a POST action that asks a question."""
        return request.method in SAFE_METHODS or getattr(view, "action", None) in self.read_actions

    @classmethod
    def scope_of(cls, method: str, action: str | None = None) -> str | None:
        """The key scope a request of ``method`` (to ``action``) needs (the schema shows it)."""
        return scope_for(cls.scope, reading=method in SAFE_METHODS or action in cls.read_actions)

    @staticmethod
    def _for_model(perms: tuple[str, ...], view) -> list[str]:
        if not any("%(" in perm for perm in perms):
            return list(perms)
        model = view.get_queryset().model
        names = {"app_label": model._meta.app_label, "model_name": model._meta.model_name}
        return [perm % names for perm in perms]


def api_permission(
    *,
    read: Iterable[str] | None = None,
    write: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
    read_actions: Iterable[str] = (),
    scope: str | None = None,
) -> type[BasePermission]:
    """A permission class: ``read`` None is a public read, else the permissions every read needs.

    ``write`` None is the model permission of the method; permissions (e.g.
    ``certifications.run_expiry_job``) are needed by every write; a mapping
    changes the model map for the methods it names. ``read_actions`` are POST
    actions that only read (a question sent as a body): they need the read's
    permissions. Templates (``VIEW``, ``CHANGE``) name the view's model.
    ``scope`` is what an API key needs: a prefix (``"certifications"``: reads
    need ``certifications:read``, writes ``certifications:write``) or one full
    scope for every method (``"jobs:run"``); None refuses keys.
    """
    if scope is not None and scope not in SCOPES and scope not in SCOPE_PREFIXES:
        raise ValueError(f"Unknown API key scope {scope!r}")
    read_perms = None if read is None else tuple(read)
    if write is None:
        write_perms = MODEL_WRITES
    elif isinstance(write, Mapping):
        write_perms = {**MODEL_WRITES, **{method: tuple(perms) for method, perms in write.items()}}
    else:
        write_perms = dict.fromkeys(MODEL_WRITES, tuple(write))
    attributes = {
        "public_read": read_perms is None,
        "read_perms": read_perms or (),
        "write_perms": write_perms,
        "read_actions": frozenset(read_actions),
        "scope": scope,
    }
    name = f"ApiPermission[read={'public' if read_perms is None else ','.join(read_perms)}]"
    return type(name, (ApiPermission,), attributes)


# Public reads, model permissions to write: the API's default (``DEFAULT_PERMISSION_CLASSES`` names it).
# It declares no scope: a view that takes API keys says which scope they need.
ModelPermissionsOrPublicRead = api_permission()


def require_perms_to_read(*perms: str, scope: str | None = None) -> type[BasePermission]:
    """An authenticated user holding every one of ``perms`` for every method, whatever ``API_PUBLIC_READS`` says.

    For answers that carry personal data (names, addresses) or name users: they are never public.
    """
    return api_permission(read=perms, write=perms, scope=scope)
