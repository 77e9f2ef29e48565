"""URL conventions: every route answers with and without a trailing slash, and
under the contract's literal doubled paths (aliases kept out of the schema)."""

from __future__ import annotations

from django.urls import URLPattern, path


def api_routes(routes: list[tuple[str, object, str]], *, base: str, alias_base: str) -> list[URLPattern]:
    """Expand ``(route, view, name)`` into slash/no-slash variants under ``base`` and ``alias_base``.

    ``route`` is relative to the base ("" for the collection itself). No
    variant redirects, so a POST is never turned into a GET by a redirect.
    """
    patterns: list[URLPattern] = []
    for prefix, suffix in ((base, ""), (alias_base, "-alias")):
        for route, view, name in routes:
            bare = f"{prefix}/{route}" if route else prefix
            patterns.append(path(bare, view, name=f"{name}{suffix}"))
            patterns.append(path(f"{bare}/", view, name=f"{name}-slash{suffix}"))
    return patterns
