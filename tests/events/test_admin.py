"""The admin: an endpoint's secret shown once, rotation, a test event, deliveries with attempts, replay."""

from __future__ import annotations

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.utils import timezone

from events.delivery import deliveries_claim, delivery_attempt
from events.models import DeliveryState, Event, WebhookDelivery, WebhookEndpoint
from tests.events.receiver import Reply

pytestmark = pytest.mark.django_db
BASE = "/admin/events/"


def add(admin_client, url: str, **fields):
    return admin_client.post(f"{BASE}webhookendpoint/add/", {"url": url, "description": "", **fields}, follow=True)


def cookies_text(client, response) -> str:
    """Every cookie the response set, the messages cookie decoded (signed, not encrypted), and the session."""
    texts = [morsel.value for morsel in response.cookies.values()]
    if "messages" in response.cookies:
        decoded = CookieStorage(response.wsgi_request)._decode(response.cookies["messages"].value) or []
        texts += [str(message) for message in decoded]
    texts.append(repr(dict(client.session.items())))
    return " ".join(texts)


def test_adding_an_endpoint_shows_its_secret_once(admin_client, receiver):
    response = add(admin_client, receiver.url, event_types=["mentor.paused", "mentor.resumed"])
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["mentor.paused", "mentor.resumed"]
    assert endpoint.secret in response.content.decode()
    page = admin_client.get(f"{BASE}webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page


def test_a_new_or_rotated_secret_travels_in_no_cookie(admin_client, receiver):
    response = admin_client.post(f"{BASE}webhookendpoint/add/", {"url": receiver.url, "description": ""})
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret[6:] not in cookies_text(admin_client, response)
    assert response.status_code == 200 and endpoint.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    response = admin_client.post(
        f"{BASE}webhookendpoint/", {"action": "rotate_secret", "_selected_action": [endpoint.pk]}
    )
    endpoint.refresh_from_db()
    assert endpoint.secret[6:] not in cookies_text(admin_client, response)
    assert response.status_code == 200 and endpoint.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    # The next page shows no secret either: nothing was left to be shown later.
    later = admin_client.get(f"{BASE}webhookendpoint/").content.decode()
    assert endpoint.secret not in later and endpoint.previous_secret not in later


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
    assert endpoint.secret in response.content.decode()
    # A second rotation inside the overlap is refused on the page; nothing changes.
    response = admin_client.post(
        f"{BASE}webhookendpoint/", {"action": "rotate_secret", "_selected_action": [endpoint.pk]}
    )
    assert "valid until" in response.content.decode()
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
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
