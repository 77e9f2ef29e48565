"""The admin: an endpoint's secret shown once, rotation, a test event, deliveries with attempts, replay."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from events.delivery import deliveries_claim, delivery_attempt
from events.models import DeliveryState, Event, WebhookDelivery, WebhookEndpoint
from tests.events.receiver import Reply

pytestmark = pytest.mark.django_db
BASE = "/admin/events/"


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def add(admin_client, url: str, **fields):
    return admin_client.post(f"{BASE}webhookendpoint/add/", {"url": url, "description": "", **fields}, follow=True)


def test_adding_an_endpoint_shows_its_secret_once(admin_client, receiver):
    response = add(admin_client, receiver.url, event_types=["mentor.paused", "mentor.resumed"])
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["mentor.paused", "mentor.resumed"]
    assert any(endpoint.secret in message for message in messages_of(response))
    page = admin_client.get(f"{BASE}webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page


def test_a_private_url_is_refused_on_the_form(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    response = add(admin_client, "http://127.0.0.1:9/hook")
    assert "non-public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotate_and_test_event_actions(admin_client, receiver):
    add(admin_client, receiver.url)
    endpoint = WebhookEndpoint.objects.get()
    old = endpoint.secret
    response = admin_client.post(
        f"{BASE}webhookendpoint/", {"action": "rotate_secret", "_selected_action": [endpoint.pk]}, follow=True
    )
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == old and endpoint.secret != old
    assert any(endpoint.secret in message for message in messages_of(response))
    admin_client.post(f"{BASE}webhookendpoint/", {"action": "send_test_event", "_selected_action": [endpoint.pk]})
    delivery = WebhookDelivery.objects.get()
    assert delivery.event.type == "webhook.test" and delivery.endpoint == endpoint


def test_a_delivery_shows_its_attempts_and_can_be_replayed(admin_client, receiver):
    receiver.reply(Reply(status=410, body=b"gone for good"))
    add(admin_client, receiver.url)
    admin_client.post(
        f"{BASE}webhookendpoint/", {"action": "send_test_event", "_selected_action": [WebhookEndpoint.objects.get().pk]}
    )
    claim = deliveries_claim(now=timezone.now())
    delivery_attempt(pk=claim.pks[0], token=claim.token, now=timezone.now())
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    page = admin_client.get(f"{BASE}webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "gone for good" in page and "410" in page
    admin_client.post(f"{BASE}webhookdelivery/", {"action": "replay", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 0
    assert admin_client.get(f"{BASE}event/{Event.objects.get().pk}/change/").status_code == 200
    assert admin_client.get(f"{BASE}webhookdelivery/add/").status_code == 403
