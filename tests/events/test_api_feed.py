"""``GET /api/v1/events``: envelope, permissions, checked parameters, cursors."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from events.outbox import events_write
from tests.certifications.api_helpers import assert_error, client_with

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=dt.UTC)
URL = "/api/v1/events"


@pytest.fixture
def feed_client() -> APIClient:
    return client_with("view_event")


def test_the_feed_serves_events_in_order_with_a_cursor(feed_client):
    items = [("mentor.paused", {"mentor_id": f"mntr_0000000{n}AA"}) for n in range(3)]
    events = events_write(items=items, occurred_at=NOW)
    body = feed_client.get(URL, {"limit": 2}).json()
    assert [item["event_id"] for item in body["data"]] == [e.event_id for e in events[:2]]
    assert body["next_cursor"] == events[1].event_id and body["has_more"] is True
    item = body["data"][0]
    assert set(item) == {"event_id", "sequence", "type", "occurred_at", "data"}
    assert item["occurred_at"] == "2026-03-26T01:00:00Z" and item["type"] == "mentor.paused"
    rest = feed_client.get(URL, {"after": body["next_cursor"]}).json()
    assert [item["event_id"] for item in rest["data"]] == [events[2].event_id]
    assert rest["has_more"] is False
    assert feed_client.get(URL, {"after": events[2].event_id}).json() == {
        "data": [],
        "next_cursor": events[2].event_id,
        "has_more": False,
    }


def test_the_feed_needs_credentials_and_view_event(anon_client):
    assert_error(anon_client.get(URL), 401, "not_authenticated")
    assert_error(client_with().get(URL), 403, "permission_denied")
    assert_error(client_with("view_event").post(URL, {}, format="json"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"after": "evt_0000000000ZZ"}, "after"),  # well-formed, but no such event: forged
        ({"after": "cert_04QR8TZ2"}, "after"),
        ({"after": "evt_%00"}, "after"),
        ({"type": "mentor.paused,mentor.deleted"}, "type"),
        ({"type": "webhook.test"}, "type"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_bad_cursors_types_and_limits_are_400s(feed_client, query, field):
    assert_error(feed_client.get(URL, query), 400, "validation_error", fields={field})


def test_type_filter_over_the_api(feed_client):
    events_write(items=[("mentor.paused", {}), ("certification.created", {}), ("mentor.resumed", {})], occurred_at=NOW)
    body = feed_client.get(URL, {"type": "mentor.paused,mentor.resumed"}).json()
    assert [item["type"] for item in body["data"]] == ["mentor.paused", "mentor.resumed"]


def test_an_empty_after_or_type_means_the_default_as_an_empty_filter_does(feed_client):
    response = feed_client.get("/api/v1/events?after=&type=&limit=5")
    assert response.status_code == 200, response.content
    assert response.json() == feed_client.get("/api/v1/events?limit=5").json()
