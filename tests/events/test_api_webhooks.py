"""``/api/v1/webhooks/endpoints`` and ``/api/v1/webhooks/deliveries``: permissions, the secret once, checks."""

from __future__ import annotations

import pytest
from django.utils import timezone

from events.delivery import deliveries_claim, delivery_attempt
from events.models import WebhookDelivery, WebhookEndpoint
from events.outbox import events_write
from tests.certifications.api_helpers import assert_error, client_with
from tests.events.receiver import Reply

pytestmark = pytest.mark.django_db
ENDPOINTS = "/api/v1/webhooks/endpoints"
DELIVERIES = "/api/v1/webhooks/deliveries"
PERMS = ("view_webhookendpoint", "add_webhookendpoint", "change_webhookendpoint", "delete_webhookendpoint")


@pytest.fixture
def admin_client():
    return client_with(*PERMS, "view_webhookdelivery")


def test_create_shows_the_secret_once_then_never(admin_client, receiver):
    response = admin_client.post(
        ENDPOINTS, {"url": receiver.url, "event_types": ["mentor.paused"], "description": "match"}, format="json"
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_") and created["endpoint_id"].startswith("whe_")
    assert created["event_types"] == ["mentor.paused"] and created["is_active"] is True
    shown = admin_client.get(f"{ENDPOINTS}/{created['endpoint_id']}").json()
    assert "secret" not in shown and shown["url"] == receiver.url
    listed = admin_client.get(ENDPOINTS).json()
    assert [item["endpoint_id"] for item in listed["data"]] == [created["endpoint_id"]]
    assert "secret" not in listed["data"][0]


def test_rotate_update_and_delete(admin_client, receiver):
    endpoint_id = admin_client.post(ENDPOINTS, {"url": receiver.url}, format="json").json()["endpoint_id"]
    old = WebhookEndpoint.objects.get().secret
    rotated = admin_client.post(f"{ENDPOINTS}/{endpoint_id}/rotate-secret").json()
    assert rotated["secret"] != old and rotated["previous_secret_valid_until"] is not None
    again = admin_client.post(f"{ENDPOINTS}/{endpoint_id}/rotate-secret")
    assert_error(again, 409, "conflict")
    assert again.json()["error"]["previous_secret_valid_until"] == rotated["previous_secret_valid_until"]
    assert WebhookEndpoint.objects.get().secret == rotated["secret"]  # the second rotation changed nothing
    changed = admin_client.patch(f"{ENDPOINTS}/{endpoint_id}", {"is_active": False}, format="json").json()
    assert changed["is_active"] is False
    assert admin_client.delete(f"{ENDPOINTS}/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_the_test_event_goes_to_that_endpoint_and_shows_in_deliveries(admin_client, receiver):
    endpoint_id = admin_client.post(ENDPOINTS, {"url": receiver.url}, format="json").json()["endpoint_id"]
    admin_client.post(ENDPOINTS, {"url": receiver.url + "/other"}, format="json")
    response = admin_client.post(f"{ENDPOINTS}/{endpoint_id}/test")
    assert response.status_code == 202
    delivery = response.json()
    assert delivery["event_type"] == "webhook.test" and delivery["endpoint_id"] == endpoint_id
    assert WebhookDelivery.objects.count() == 1
    claim = deliveries_claim(now=timezone.now())
    delivery_attempt(pk=claim.pks[0], token=claim.token, now=timezone.now())
    assert len(receiver.received) == 1
    shown = admin_client.get(f"{DELIVERIES}/{delivery['delivery_id']}").json()
    assert shown["state"] == "delivered" and shown["attempts"][0]["status_code"] == 200
    assert admin_client.get("/api/v1/events").status_code == 403  # the feed is another permission


def test_deliveries_filter_by_endpoint_event_and_state(admin_client, receiver):
    receiver.reply(Reply(status=500))
    first = admin_client.post(ENDPOINTS, {"url": receiver.url}, format="json").json()["endpoint_id"]
    second = admin_client.post(ENDPOINTS, {"url": receiver.url}, format="json").json()["endpoint_id"]
    [event] = events_write(items=[("mentor.paused", {})], occurred_at=timezone.now())
    claim = deliveries_claim(now=timezone.now())
    for pk in claim.pks:
        delivery_attempt(pk=pk, token=claim.token, now=timezone.now())
    by_endpoint = admin_client.get(DELIVERIES, {"endpoint_id": first}).json()
    assert [item["endpoint_id"] for item in by_endpoint["data"]] == [first]
    assert by_endpoint["pagination"]["total"] == 1
    by_event = admin_client.get(DELIVERIES, {"event_id": event.event_id}).json()
    assert {item["endpoint_id"] for item in by_event["data"]} == {first, second}
    pending = admin_client.get(DELIVERIES, {"state": "pending"}).json()["data"]
    delivered = admin_client.get(DELIVERIES, {"state": "delivered"}).json()["data"]
    assert len(pending) == 1 and len(delivered) == 1
    assert pending[0]["attempts"][0]["status_code"] == 500
    assert_error(admin_client.get(DELIVERIES, {"state": "lost"}), 400, "validation_error", fields={"state"})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": "ftp://example.org/"}, "url"),
        ({"url": "http://127.0.0.1:9/"}, "url"),  # private (the setting is off in this test)
        ({"url": "http://[64:ff9b::7f00:1]:9/"}, "url"),  # loopback through NAT64
        ({"url": "http://[::ffff:0:a9fe:a9fe]/"}, "url"),  # the metadata address, IPv4-translated
        ({"url": "https://example.org/", "event_types": ["mentor.deleted"]}, "event_types.0"),
        ({"url": "https://example.org/", "event_types": "mentor.paused"}, "event_types"),
        ({"url": "https://example.org/", "secret": "whsec_mine"}, "secret"),
        ({"url": "https://example.org/", "description": 5}, "description"),  # text is a JSON string only
    ],
)
def test_bad_endpoint_bodies_are_400s(admin_client, settings, body, field):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    assert_error(admin_client.post(ENDPOINTS, body, format="json"), 400, "validation_error", fields={field})
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/a b",
        "http://127.0.0.1:9/hook\r\nX-Injected: 1",
        "http://127.0.0.1:9/hook\n",
        " http://127.0.0.1:9/hook",
        "http://127.0.0.1:9/\thook",
        0,
    ],
)
def test_a_url_with_a_space_a_line_break_or_not_a_string_is_refused(admin_client, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # the address is allowed: only the URL's form is at fault
    assert_error(admin_client.post(ENDPOINTS, {"url": url}, format="json"), 400, "validation_error", fields={"url"})
    assert not WebhookEndpoint.objects.exists()


def test_model_permissions(anon_client, receiver):
    assert_error(anon_client.get(ENDPOINTS), 401, "not_authenticated")
    viewer = client_with("view_webhookendpoint")
    assert viewer.get(ENDPOINTS).status_code == 200
    assert_error(viewer.post(ENDPOINTS, {"url": receiver.url}, format="json"), 403, "permission_denied")
    assert_error(client_with("view_webhookendpoint").get(DELIVERIES), 403, "permission_denied")
    assert_error(client_with(*PERMS).get(f"{ENDPOINTS}/whe_NOPE0000"), 404, "not_found")
