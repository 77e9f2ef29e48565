"""The API's negotiation answers the common Accept headers at once, with DRF's own answer for every header."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request

from certhub.api.negotiation import Negotiation
from certifications.api.views import CertificationViewSet
from tests.factories import CertificationFactory

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "",
    "application/json; indent=4",
    "application/*",
    "text/html",
    "application/xml",
    "text/html, application/json;q=0.9",
]


def _answer(negotiation, accept, query, renderers):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(RequestFactory().get("/api/v1/certifications" + query, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except Exception as exc:  # the refusal itself is part of the answer compared
        return type(exc).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api", "?page=2"])
@pytest.mark.parametrize("renderers", [[JSONRenderer()], [JSONRenderer(), BrowsableAPIRenderer()]])
def test_the_negotiation_gives_drfs_answer_for_every_accept_header(accept, query, renderers):
    assert _answer(Negotiation(), accept, query, renderers) == _answer(
        DefaultContentNegotiation(), accept, query, renderers
    )


def test_an_accept_the_json_renderer_cannot_meet_is_still_refused():
    assert _answer(Negotiation(), "text/html", "", [JSONRenderer()]) == NotAcceptable.__name__


@pytest.mark.django_db
@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json; indent=4", "text/html"])
def test_api_answers_are_the_same_bytes_as_with_drfs_negotiation(anon_client, monkeypatch, accept):
    record = CertificationFactory()
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    paths = ["/api/v1/certifications", f"/api/v1/certifications/{record.certification_id}"]

    def answers():
        return [
            (response.status_code, response["Content-Type"], response.content)
            for response in (anon_client.get(path, **headers) for path in paths)
        ]

    ours = answers()
    monkeypatch.setattr(CertificationViewSet, "content_negotiation_class", DefaultContentNegotiation)
    assert answers() == ours
    assert CertificationViewSet.content_negotiation_class is DefaultContentNegotiation
    monkeypatch.undo()
    assert CertificationViewSet.content_negotiation_class is Negotiation
