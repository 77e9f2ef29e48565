"""The API's content negotiation: DRF's, answered at once for the Accept headers nearly every client sends.

Every API view renders JSON alone. For a request that names no format and
sends no ``Accept`` header, ``*/*`` or exactly ``application/json``, DRF's
negotiation parses the header and matches it against the renderer to reach
the same answer each time: the JSON renderer, as ``application/json``. Here
that answer is given without the parsing; any other request (an ``Accept``
with parameters or other types, a ``format`` query parameter, a view with
several renderers) goes through DRF's own negotiation.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

JSON = "application/json"
# The Accept headers (None: no header) whose negotiation with a lone JSON renderer is (that renderer, JSON).
PLAIN_ACCEPTS = frozenset({None, "*/*", JSON})


class Negotiation(DefaultContentNegotiation):
    """DRF's ``DefaultContentNegotiation``, without parsing the common Accept headers for a lone JSON renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            not format_suffix
            and len(renderers) == 1
            and renderers[0].media_type == JSON
            and request.META.get("HTTP_ACCEPT") in PLAIN_ACCEPTS
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], JSON
        return super().select_renderer(request, renderers, format_suffix)
