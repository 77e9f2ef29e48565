"""The API's URL patterns come from one DRF router: viewset actions under the canonical and alias bases."""

from __future__ import annotations

import importlib.util

import pytest
from django.urls import get_resolver, resolve, reverse
from rest_framework.viewsets import ViewSetMixin

from certhub.api.routers import OptionalSlashRouter
from certifications.api import urls as api_urls
from certifications.api import views
from events.api import urls as events_urls
from notifications.api import urls as notification_urls
from tests.certifications.api_helpers import ALIAS, BASE
from tests.factories import CertificationFactory

PREFIXES = {BASE: "", ALIAS: "contract-alias"}

# path under the base -> (viewset, {method: action}, URL name)
ROUTES = {
    "": (views.CertificationViewSet, {"get": "list", "post": "create"}, "certification-list"),
    "/cert_0000000A": (
        views.CertificationViewSet,
        {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"},
        "certification-detail",
    ),
    "/expiry-job/run": (views.ExpiryJobViewSet, {"post": "run"}, "expiry-job-run"),
    "/expiry-job/logs": (views.AutoPauseLogViewSet, {"get": "list"}, "expiry-job-log-list"),
    "/expiry-job/runs": (views.ExpiryJobRunViewSet, {"get": "list"}, "expiry-job-run-list"),
    "/expiry-job/runs/job_01JAN2026_01": (views.ExpiryJobRunViewSet, {"get": "retrieve"}, "expiry-job-run-detail"),
}


def _api_patterns(patterns=None, prefix: str = ""):
    """Every URL pattern of the project whose route starts with ``api/v1/``, with its full route."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from _api_patterns(pattern.url_patterns, route)
        elif route.startswith("api/v1/"):
            yield route, pattern


def test_every_api_pattern_is_a_viewset_action_of_the_router():
    patterns = list(_api_patterns())
    router_patterns = api_urls.router.urls
    mentor_patterns = api_urls.mentor_router.urls + events_urls.router.urls + notification_urls.router.urls

    assert isinstance(api_urls.router, OptionalSlashRouter)
    assert isinstance(api_urls.mentor_router, OptionalSlashRouter)
    # The contract's routes under the canonical base and the alias base; the mentors, events,
    # webhooks and notifications (not in the contract) under the canonical base only; nothing else.
    assert len(patterns) == 2 * len(router_patterns) + len(mentor_patterns)
    for route, pattern in patterns:
        assert pattern in router_patterns or pattern in mentor_patterns, route
        assert issubclass(pattern.callback.cls, ViewSetMixin), route
        assert pattern.callback.actions, route
        assert route.endswith("/?$"), route  # one pattern answers with and without the slash


def test_no_hand_written_route_expander_remains():
    assert importlib.util.find_spec("certhub.api.routes") is None
    assert not hasattr(api_urls, "api_routes")


@pytest.mark.parametrize("slash", ["", "/"])
@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("route", ROUTES)
def test_each_path_resolves_to_its_viewset_action(prefix, route, slash):
    viewset, actions, name = ROUTES[route]

    match = resolve(f"{prefix}{route}{slash}")

    assert match.func.cls is viewset
    # DRF adds ``head`` to the map of a GET route once the route has served a request.
    assert {method: name for method, name in match.func.actions.items() if method != "head"} == actions
    assert (match.namespace, match.url_name) == (PREFIXES[prefix], name)


@pytest.mark.parametrize("route", [route for route in ROUTES if route.startswith("/expiry-job/")])
def test_expiry_job_paths_are_never_a_certification_id(route):
    for prefix in PREFIXES:
        assert "certification_id" not in resolve(prefix + route).kwargs


def test_url_names_reverse_to_the_path_without_the_slash():
    assert reverse("certification-list") == BASE
    assert reverse("certification-detail", kwargs={"certification_id": "cert_0000000A"}) == f"{BASE}/cert_0000000A"
    assert reverse("expiry-job-run") == f"{BASE}/expiry-job/run"
    assert reverse("contract-alias:expiry-job-run-detail", args=["job_01JAN2026_01"]) == (
        f"{ALIAS}/expiry-job/runs/job_01JAN2026_01"
    )


@pytest.mark.django_db
def test_a_record_is_found_by_its_id_whatever_the_list_filters_say(anon_client):
    CertificationFactory(certification_id="cert_0000000A", status="valid")

    response = anon_client.get(f"{BASE}/cert_0000000A", {"status": "revoked", "limit": 0, "ordering": "bogus"})

    assert response.status_code == 200
    assert response.json()["certification_id"] == "cert_0000000A"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "name", "description"),
    [
        ("", "Certification List Create", "``/api/v1/certifications``: list (envelope, filters, ordering) and create."),
        (
            "/cert_ABCDEFGH",
            "Certification Detail",
            "``/api/v1/certifications/{certification_id}``: get, update (PUT = PATCH), soft delete.",
        ),
        (
            "/expiry-job/run",
            "Expiry Job Run",
            "``POST /api/v1/certifications/expiry-job/run``: run the job now, or queue it.",
        ),
        ("/expiry-job/runs", "Expiry Job Run List", "``GET /api/v1/certifications/expiry-job/runs``."),
        (
            "/expiry-job/runs/job_26MAR2026_01",
            "Expiry Job Run Detail",
            "``GET /api/v1/certifications/expiry-job/runs/{job_run_id}``.",
        ),
    ],
)
def test_options_names_and_describes_each_path_as_before_the_viewsets(anon_client, path, name, description):
    body = anon_client.options(f"/api/v1/certifications{path}").json()
    assert (body["name"], body["description"]) == (name, description)
