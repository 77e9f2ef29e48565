"""The base of every API viewset: the envelope, the error envelope, permissions and throttles, said once.

A viewset of the API subclasses :class:`ApiViewSet` (over a model) or
:class:`ApiActionViewSet` (actions over none, as DRF's ``ViewSet``) and names
what differs: its queryset, serializer, filters and, where reads are not
public, its permission (``certhub.api.permissions.api_permission``).
"""

from __future__ import annotations

from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils import formatting

from certhub.api.errors import exception_handler
from certhub.api.filters import FilterBackend
from certhub.api.negotiation import Negotiation
from certhub.api.pagination import EnvelopePagination
from certhub.api.permissions import ModelPermissionsOrPublicRead
from certhub.api.throttling import AnonRateThrottle, UserRateThrottle

# An id is any one path segment, as Django's ``str`` converter takes it (DRF's
# default also stops at a dot). What is not an id answers 404 from the lookup.
ANY_SEGMENT = "[^/]+"


class ApiConventions:
    """What every API viewset shares: permissions, throttles, negotiation, the error envelope, OPTIONS names.

    Reads are public and writes need the model permission unless
    ``permission_classes`` says otherwise; clients are throttled at the ``anon``
    and ``user`` rates; every error answers in the error envelope
    (``exception_handler``). OPTIONS names and describes each path on its own:
    ``path_names`` maps the route kind (``"list"`` or ``"detail"``; an action
    lives on one of them) to its name and description; without an entry, DRF's
    generated name and the class docstring answer.
    """

    permission_classes = [ModelPermissionsOrPublicRead]
    throttle_classes = [AnonRateThrottle, UserRateThrottle]
    content_negotiation_class = Negotiation  # DRF's answer, without parsing the common Accept headers
    path_names: dict[str, tuple[str, str]] = {}

    def get_exception_handler(self):
        return exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response._resource_closers.append(self._release)  # run by the server's ``close()``, after the body is sent
        return response

    def _release(self) -> None:
        """Untie the view, its request and its response once the response is closed (decision 0059).

        DRF's objects name each other: the request's ``parser_context`` holds the
        view and the request, the response's ``renderer_context`` the view, the
        request and the response, the view holds both, a viewset holds its actions
        bound to itself (``self.get = self.list``), and a serializer's context the
        view and the request. Every request's objects (its querysets, its page of
        rows, its filter set) were therefore garbage only the collector could free,
        a few requests' worth at a time. With the cycles cut, reference counting
        frees them as the request ends.
        """
        state = self.__dict__
        for name in [name for name, value in state.items() if getattr(value, "__self__", None) is self]:
            del state[name]
        response = state.pop("response", None)
        if isinstance(response, Response):
            response.renderer_context = {}
        request = state.pop("request", None)
        if isinstance(request, Request):
            request.parser_context = {}
        filterset = state.pop("filterset", None)
        if filterset is not None:
            filterset.filters = {}  # each filter names the filter set as its parent
        # A serializer's fields name it as their parent, and its context (one dict, however many serializers
        # share it) names the view and the request.
        for context in state.pop("serializer_contexts", ()):
            context.clear()

    def _path_name(self) -> tuple[str, str] | None:
        return self.path_names.get("detail" if getattr(self, "detail", False) else "list")

    def get_view_name(self) -> str:
        named = self._path_name()
        return named[0] if named else super().get_view_name()

    def get_view_description(self, html: bool = False) -> str:
        named = self._path_name()
        if not named:
            return super().get_view_description(html)
        return formatting.markup_description(named[1]) if html else named[1]


class ApiViewSet(ApiConventions, viewsets.GenericViewSet):
    """The base of a viewset over a model: lists in the envelope, filters on the list only.

    DRF's ``get_object`` finds a record by its id (any one path segment); a
    filter of the query string applies to the list alone.
    """

    pagination_class = EnvelopePagination
    filter_backends = [FilterBackend]
    lookup_value_regex = ANY_SEGMENT

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_context(self) -> dict:
        """DRF's, remembered so that the response's close empties it (``_release``)."""
        context = super().get_serializer_context()
        self.__dict__.setdefault("serializer_contexts", []).append(context)
        return context


class ApiActionViewSet(ApiConventions, viewsets.ViewSet):
    """The base of a viewset of actions over no model (run the job, import a file): no queryset, no list."""
