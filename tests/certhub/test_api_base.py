"""Every API viewset stands on one base, and the view modules read as views.

The base (``certhub.api.viewsets``) carries the envelope, the error envelope,
permissions and throttles; DRF's own ``get_object`` finds a record; schema
decoration lives in each app's ``api/schema``, not beside the views.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

from certhub.api.viewsets import ApiConventions

ROOT = Path(__file__).resolve().parents[2]
VIEW_MODULES = (
    "certifications/api/views.py",
    "certifications/api/mentors.py",
    "certifications/api/imports.py",
    "events/api/feed.py",
    "events/api/webhooks.py",
    "notifications/api/views.py",
)
SCHEMA_DECORATION = ("extend_schema(", "extend_schema_view(", "OpenApiExample(", "OpenApiParameter(")


def api_viewsets() -> set[type]:
    """The viewset classes behind every ``/api/v1/`` route."""
    found: set[type] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/v1/"):
                cls = getattr(pattern.callback, "cls", None)
                if cls is not None:
                    found.add(cls)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_viewset_stands_on_the_base():
    viewsets = api_viewsets()
    assert len(viewsets) == 12  # the walk finds every one (the renewal requests are the twelfth)
    assert [cls.__name__ for cls in viewsets if not issubclass(cls, ApiConventions)] == []


def test_no_api_viewset_rewrites_the_lookup_or_declares_an_empty_queryset():
    for cls in api_viewsets():
        assert "get_object" not in vars(cls), cls.__name__
        source = inspect.getsource(cls)
        assert ".objects.none()" not in source, cls.__name__


def test_view_modules_hold_no_schema_decoration():
    for name in VIEW_MODULES:
        text = (ROOT / name).read_text()
        assert [word for word in SCHEMA_DECORATION if word in text] == [], name
