"""Delivery to a real receiver on loopback: signatures, retries on schedule, 410, Retry-After, rotation, safety."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import multiprocessing
import re
import threading
from unittest.mock import ANY

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from certhub.errors import Conflict
from certifications import services
from events import netguard, transport
from events.delivery import Claim, deliveries_claim, deliveries_send, delivery_attempt
from events.endpoints import endpoint_create, endpoint_rotate_secret
from events.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from events.netguard import UnsafeUrl, address_is_public
from events.outbox import events_write
from tests.events.helpers import endpoint
from tests.events.receiver import Reply, running_receiver
from tests.factories import TEST_ACTOR, MentorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _short_schedule(settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [1.0, 2.0]
    settings.WEBHOOK_TIMEOUT_SECONDS = 10


def send_due(now: dt.datetime) -> list[str | None]:
    """What the sweep and the workers do, in this process: claim what is due at ``now`` and send each."""
    claim = deliveries_claim(now=now)
    return [delivery_attempt(pk=pk, token=claim.token, now=now) for pk in claim.pks]


def paused_event(now: dt.datetime) -> None:
    events_write(items=[("mentor.paused", {"mentor_id": "mntr_01HX4V2K8P", "status": "paused"})], occurred_at=now)


def test_a_delivery_is_signed_and_verifies_with_the_package(receiver):
    now = timezone.now()
    endpoint = endpoint_create(url=receiver.url + "/hooks", now=now)
    paused_event(now)
    assert send_due(now) == [DeliveryState.DELIVERED]
    [request] = receiver.received
    assert request.path == "/hooks"
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "mentor.paused" and payload["data"]["mentor_id"] == "mntr_01HX4V2K8P"
    delivery = WebhookDelivery.objects.get()
    assert request.headers["webhook-id"] == delivery.event.event_id
    assert request.headers["webhook-timestamp"] == str(int(now.timestamp()))
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)
    [attempt] = WebhookAttempt.objects.all()
    assert (attempt.number, attempt.status_code, attempt.response_body, attempt.error) == (1, 200, "ok", "")
    assert delivery.completed_at == now and delivery.attempts == 1


def test_an_endpoint_receives_only_the_types_it_subscribed_to(receiver):
    now = timezone.now()
    endpoint_create(url=receiver.url, now=now, event_types=["mentor.resumed"])
    mentor = MentorFactory()
    services.mentor_pause(by=TEST_ACTOR, mentor=mentor, now=now, reason="")
    services.mentor_resume(by=TEST_ACTOR, mentor=mentor, now=now)
    send_due(now)
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["mentor.resumed"]


def test_a_failing_receiver_is_retried_on_schedule_then_the_delivery_fails(receiver):
    now = timezone.now()
    receiver.default = Reply(status=500, body=b"x" * 5000)
    endpoint_create(url=receiver.url, now=now)
    paused_event(now)
    assert send_due(now) == [DeliveryState.PENDING]
    delivery = WebhookDelivery.objects.get()
    assert delivery.next_attempt_at == now + dt.timedelta(seconds=1)
    assert send_due(now + dt.timedelta(seconds=0.5)) == []  # not due yet
    assert send_due(now + dt.timedelta(seconds=1)) == [DeliveryState.PENDING]
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == now + dt.timedelta(seconds=3)
    assert send_due(now + dt.timedelta(seconds=3)) == [DeliveryState.FAILED]
    assert send_due(now + dt.timedelta(days=1)) == []
    attempts = list(WebhookAttempt.objects.order_by("number"))
    assert [a.number for a in attempts] == [1, 2, 3] and len(receiver.received) == 3
    assert all(a.status_code == 500 and a.response_body == "x" * 1024 for a in attempts)


def test_410_fails_the_delivery_and_disables_the_endpoint(receiver):
    now = timezone.now()
    receiver.reply(Reply(status=410, body=b"gone"))
    endpoint_create(url=receiver.url, now=now)
    paused_event(now)
    paused_event(now)
    assert sorted(send_due(now)) == [DeliveryState.FAILED, DeliveryState.FAILED]
    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    assert len(receiver.received) == 1  # the second was not sent to a disabled endpoint
    assert WebhookAttempt.objects.filter(error__startswith="not sent: the endpoint is disabled").count() == 1
    paused_event(now)
    assert WebhookDelivery.objects.count() == 2  # a disabled endpoint gets no new deliveries


@pytest.mark.parametrize("header", ["120", "HTTP-DATE"])
def test_retry_after_is_honoured(receiver, header):
    now = timezone.now().replace(microsecond=0)
    value = header if header != "HTTP-DATE" else (now + dt.timedelta(seconds=120)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    receiver.reply(Reply(status=503, headers={"Retry-After": value}))
    endpoint_create(url=receiver.url, now=now)
    paused_event(now)
    send_due(now)
    assert WebhookDelivery.objects.get().next_attempt_at == now + dt.timedelta(seconds=120)
    assert send_due(now + dt.timedelta(seconds=60)) == []
    assert send_due(now + dt.timedelta(seconds=120)) == [DeliveryState.DELIVERED]


def test_after_a_rotation_both_secrets_verify_until_the_overlap_ends(receiver):
    now = timezone.now()
    endpoint = endpoint_create(url=receiver.url, now=now)
    old = endpoint.secret
    endpoint = endpoint_rotate_secret(endpoint=endpoint, now=now)
    assert endpoint.secret != old and endpoint.previous_secret_expires_at == now + dt.timedelta(hours=24)
    paused_event(now)
    send_due(now)
    request = receiver.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(endpoint.secret).verify(request.body, request.headers)
    # Past the overlap only the new secret signs.
    later = now + dt.timedelta(hours=25)
    paused_event(later)
    send_due(later)
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 1


def hmac_verifies(secret: str, request) -> bool:
    """Whether one of the request's ``v1`` signatures is the HMAC-SHA256 of ``id.timestamp.body`` under ``secret``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    sent = [each.removeprefix("v1,") for each in request.headers["webhook-signature"].split(" ")]
    return any(hmac.compare_digest(expected, each) for each in sent)


def test_a_second_rotation_waits_for_the_first_overlap_so_every_promised_secret_keeps_verifying(receiver):
    now = timezone.now().replace(microsecond=0)
    first = endpoint_create(url=receiver.url, now=now).secret
    rotated = endpoint_rotate_secret(endpoint=WebhookEndpoint.objects.get(), now=now)
    second, promised = rotated.secret, rotated.previous_secret_expires_at
    with pytest.raises(Conflict, match="valid until"):
        endpoint_rotate_secret(endpoint=rotated, now=now + dt.timedelta(hours=1))
    stored = WebhookEndpoint.objects.get()
    assert (stored.secret, stored.previous_secret, stored.previous_secret_expires_at) == (second, first, promised)
    # Until the promised time, both the first and the second secret verify.
    just_before = promised - dt.timedelta(seconds=1)
    paused_event(just_before)
    assert send_due(just_before) == [DeliveryState.DELIVERED]
    assert hmac_verifies(first, receiver.received[-1]) and hmac_verifies(second, receiver.received[-1])
    # Once it has passed, a second rotation is allowed; the second secret is promised in turn.
    third = endpoint_rotate_secret(endpoint=stored, now=promised).secret
    later = promised + dt.timedelta(hours=1)
    paused_event(later)
    assert send_due(later) == [DeliveryState.DELIVERED]
    request = receiver.received[-1]
    assert hmac_verifies(second, request) and hmac_verifies(third, request) and not hmac_verifies(first, request)


def test_a_redirect_is_not_followed(receiver):
    now = timezone.now()
    receiver.reply(Reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    endpoint_create(url=receiver.url + "/first", now=now)
    paused_event(now)
    assert send_due(now) == [DeliveryState.PENDING]
    assert [r.path for r in receiver.received] == ["/first"]
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302 and attempt.error.startswith("redirect not followed")


def test_a_receiver_that_never_answers_is_cut_off_at_the_timeout(receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    now = timezone.now()
    receiver.reply(Reply(delay=3))
    endpoint_create(url=receiver.url, now=now)
    paused_event(now)
    assert send_due(now) == [DeliveryState.PENDING]
    assert not receiver.answered.is_set()  # the attempt ended before the receiver answered
    assert WebhookAttempt.objects.get().error == "timed out after 0.5 s"


def test_a_receiver_answering_10_mb_slowly_holds_the_sender_no_longer_than_the_timeout(receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    now = timezone.now()
    receiver.reply(Reply(status=200, body=b"y" * 10_000_000, trickle=0.05))
    endpoint_create(url=receiver.url, now=now)
    paused_event(now)
    assert send_due(now) == [DeliveryState.DELIVERED]  # the 2xx head arrived in time
    assert not receiver.answered.is_set()
    assert WebhookAttempt.objects.get().response_body == "y" * 1024


def test_a_2xx_whose_answer_trickles_past_the_timeout_is_delivered_and_the_attempt_says_it_was_cut(receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    now = timezone.now()
    receiver.reply(Reply(status=200, body=b"z" * 1000, chunk=1, trickle=0.05))  # a byte every 50 ms
    endpoint_create(url=receiver.url, now=now)
    paused_event(now)
    assert send_due(now) == [DeliveryState.DELIVERED]  # the status line decides (docs/api.md, retries)
    attempt = WebhookAttempt.objects.get()
    assert attempt.error.startswith("answer cut off at the deadline after ")
    assert attempt.error.endswith(f"{len(attempt.response_body)} of 1000 bytes")
    assert 0 < len(attempt.response_body) < 1000


@pytest.mark.postgres
def test_an_answer_with_a_nul_byte_is_kept_as_text_and_every_delivery_of_the_batch_is_recorded(receiver):
    now = timezone.now()
    receiver.default = Reply(body=b"ok\x00\xffthen")
    endpoint_create(url=receiver.url + "/nul", now=now)
    with running_receiver() as healthy:
        endpoint_create(url=healthy.url + "/fine", now=now)
        paused_event(now)
        claim = deliveries_claim(now=now)
        states = deliveries_send(pks=claim.pks, token=claim.token, now=now)  # one batch, one message
        assert len(healthy.received) == 1
    assert sorted(states.values()) == [DeliveryState.DELIVERED, DeliveryState.DELIVERED]
    assert sorted(WebhookAttempt.objects.values_list("response_body", flat=True)) == ["ok", "ok\\x00\ufffdthen"]
    later = now + dt.timedelta(seconds=3600)
    assert deliveries_claim(now=later).pks == []  # nothing left to send again


def test_posts_to_one_endpoint_go_out_at_most_the_setting_at_once(receiver, settings):
    settings.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT = 3
    receiver.default = Reply(delay=0.2)
    now = timezone.now()
    endpoint_create(url=receiver.url, now=now)
    events_write(items=[("mentor.paused", {"mentor_id": f"mntr_{n}"}) for n in range(12)], occurred_at=now)
    claim = deliveries_claim(now=now)
    states = deliveries_send(pks=claim.pks, token=claim.token, now=now)
    assert list(states.values()) == [DeliveryState.DELIVERED] * 12
    assert len(receiver.received) == 12 and receiver.most_in_flight <= 3


def test_a_fast_endpoint_gets_a_whole_message_of_deliveries_from_its_lanes(receiver, settings):
    settings.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT = 4
    now = timezone.now()
    endpoint_create(url=receiver.url, now=now)
    events_write(items=[("mentor.paused", {"mentor_id": f"mntr_{n}"}) for n in range(60)], occurred_at=now)
    claim = deliveries_claim(now=now)
    states = deliveries_send(pks=claim.pks, token=claim.token, now=now)
    assert list(states.values()) == [DeliveryState.DELIVERED] * 60  # none left waiting for the next sweep
    assert len(receiver.received) == 60 and receiver.most_in_flight <= 4


def one_message(receiver, count: int) -> list[str]:
    """``count`` deliveries to one endpoint at ``receiver``, sent by one message; their states."""
    now = timezone.now()
    endpoint_create(url=receiver.url, now=now)
    events_write(items=[("mentor.paused", {"mentor_id": f"mntr_{n}"}) for n in range(count)], occurred_at=now)
    claim = deliveries_claim(now=now)
    return list(deliveries_send(pks=claim.pks, token=claim.token, now=now).values())


def test_a_lane_sends_its_posts_to_one_receiver_over_one_kept_open_connection(receiver, settings):
    settings.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT = 1
    assert one_message(receiver, 5) == [DeliveryState.DELIVERED] * 5
    assert len(receiver.received) == 5 and len({request.peer for request in receiver.received}) == 1
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 5


def test_a_kept_connection_the_receiver_closed_is_opened_again_and_each_delivery_sent_once(receiver, settings):
    settings.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT = 1
    receiver.default = Reply(hang_up=True)  # answers, then closes the connection without a Connection: close
    assert one_message(receiver, 3) == [DeliveryState.DELIVERED] * 3
    assert len({request.headers["webhook-id"] for request in receiver.received}) == len(receiver.received) == 3
    assert len({request.peer for request in receiver.received}) == 3
    assert set(WebhookAttempt.objects.values_list("error", flat=True)) == {""}


def test_a_kept_connection_is_used_only_while_the_check_gives_its_address_again(receiver, monkeypatch):
    answers = {"hooks.test": ["127.0.0.1"]}
    monkeypatch.setattr(netguard, "resolver", lambda host, port: answers[host])
    url = receiver.url.replace("127.0.0.1", "hooks.test")
    with transport.Connections() as connections:
        first = transport.post(url, body=b"{}", headers={}, timeout=2, connections=connections)
        answers["hooks.test"] = ["127.0.0.2"]  # the name now points elsewhere: the open connection is not used
        second = transport.post(url, body=b"{}", headers={}, timeout=2, connections=connections)
    assert first.status == 200 and len(receiver.received) == 1
    assert second.status is None and second.error.startswith("ConnectionRefusedError")


def test_one_watchdog_thread_keeps_every_deadline_of_the_process(receiver, settings):
    settings.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT = 4
    assert one_message(receiver, 20) == [DeliveryState.DELIVERED] * 20
    assert [thread.name for thread in threading.enumerate()].count("webhook-watchdog") == 1
    assert transport.WATCHDOG.armed == {}  # every attempt disarmed its deadline


def _post_status(url: str, queue) -> None:
    queue.put(transport.post(url, body=b"{}", headers={}, timeout=2).status)


def test_a_process_forked_while_the_watchdog_is_busy_keeps_deadlines_of_its_own(receiver):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    holding, forked = threading.Event(), threading.Event()

    def arming() -> None:  # another thread arms a POST's deadline just as the process forks
        with transport.WATCHDOG.lock:
            holding.set()
            forked.wait(10)

    thread = threading.Thread(target=arming)
    thread.start()
    holding.wait(10)
    child = context.Process(target=_post_status, args=(receiver.url, queue))
    child.start()
    forked.set()
    thread.join()
    child.join(10)
    if child.is_alive():
        child.kill()
    assert not queue.empty() and queue.get(timeout=1) == 200


def test_deliveries_to_one_endpoint_beyond_what_the_lease_allows_wait_for_the_next_sweep(receiver, settings):
    settings.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT = 1
    settings.WEBHOOK_SEND_LEASE_SECONDS = 1.5 * settings.WEBHOOK_TIMEOUT_SECONDS  # room for one POST per lane
    now = timezone.now()
    endpoint_create(url=receiver.url, now=now)
    events_write(items=[("mentor.paused", {"mentor_id": f"mntr_{n}"}) for n in range(3)], occurred_at=now)
    claim = deliveries_claim(now=now)
    assert list(deliveries_send(pks=claim.pks, token=claim.token, now=now).values()) == [DeliveryState.DELIVERED]
    assert len(deliveries_claim(now=now).pks) == 2  # released at once, not left to a lease


def test_a_claimed_delivery_is_sent_by_one_message_only(receiver):
    now = timezone.now()
    endpoint_create(url=receiver.url, now=now)
    paused_event(now)
    first = deliveries_claim(now=now)
    assert deliveries_claim(now=now).pks == []  # a second sweep finds it claimed
    [pk] = first.pks
    assert delivery_attempt(pk=pk, token=first.token, now=now) == DeliveryState.DELIVERED
    assert delivery_attempt(pk=pk, token=first.token, now=now) is None  # a redelivered message
    assert len(receiver.received) == 1


def test_a_claim_that_ran_out_is_sent_by_the_next_sweep(receiver, settings):
    now = timezone.now()
    endpoint_create(url=receiver.url, now=now)
    paused_event(now)
    lost = deliveries_claim(now=now)  # its message is lost
    later = now + dt.timedelta(seconds=settings.WEBHOOK_QUEUE_LEASE_SECONDS)
    again = deliveries_claim(now=later)
    assert again.pks == lost.pks
    assert delivery_attempt(pk=lost.pks[0], token=lost.token, now=later) is None
    assert delivery_attempt(pk=again.pks[0], token=again.token, now=later) == DeliveryState.DELIVERED


# --- Private networks ------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        *("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0"),
        *("::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "224.0.0.1", "240.0.0.1"),
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not address_is_public(address)


# IPv6 forms that carry an IPv4 address a translator or tunnel may dial: NAT64, 6to4,
# IPv4-compatible, SIIT (IPv4-translated), Teredo, and an IPv4-mapped metadata address.
TRANSITION_FORMS = (
    *("64:ff9b::7f00:1", "64:ff9b::808:808", "2002:7f00:1::1", "2002:a9fe:a9fe::1", "::127.0.0.1", "::7f00:1"),
    *("::ffff:0:127.0.0.1", "::ffff:0:a9fe:a9fe", "::ffff:169.254.169.254", "2001:0:4136:e378:8000:63bf:3fff:fdd2"),
)


@pytest.mark.parametrize("address", TRANSITION_FORMS)
def test_ipv6_transition_forms_are_refused(address):
    assert not address_is_public(address)


def test_public_addresses_are_allowed():
    assert address_is_public("93.184.215.14") and address_is_public("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert address_is_public("2002:808:808::1") and address_is_public("::ffff:93.184.215.14")


@pytest.mark.parametrize("address", TRANSITION_FORMS[:8])
def test_an_ipv6_transition_form_is_refused_at_save_and_at_send(settings, monkeypatch, receiver, address):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(UnsafeUrl, match="non-public"):
        endpoint_create(url=f"http://[{address}]/", now=timezone.now())
    answers = {"hooks.example.org": ["93.184.215.14"]}
    monkeypatch.setattr(netguard, "resolver", lambda host, port: answers[host])
    now = timezone.now()
    endpoint_create(url="http://hooks.example.org/x", now=now)
    answers["hooks.example.org"] = [address]
    paused_event(now)
    assert send_due(now) == [DeliveryState.FAILED]  # refused for good: the endpoint is disabled
    assert WebhookAttempt.objects.get().error.startswith("refused: The host hooks.example.org resolves to a non-public")
    assert receiver.received == []


def test_a_private_url_is_refused_at_save(settings, receiver):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(UnsafeUrl, match="non-public"):
        endpoint_create(url=receiver.url, now=timezone.now())
    assert not WebhookEndpoint.objects.exists()


def test_a_host_with_one_private_address_among_public_ones_is_refused(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    monkeypatch.setattr(netguard, "resolver", lambda host, port: ["93.184.215.14", "10.0.0.7"])
    with pytest.raises(UnsafeUrl, match=r"10\.0\.0\.7"):
        endpoint_create(url="https://hooks.example.org/x", now=timezone.now())


def test_a_dns_answer_that_turns_private_after_the_save_is_refused_at_send(settings, monkeypatch, receiver):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    answers = {"hooks.example.org": ["93.184.215.14"]}
    monkeypatch.setattr(netguard, "resolver", lambda host, port: answers[host])
    now = timezone.now()
    endpoint_create(url="http://hooks.example.org/x", now=now)
    answers["hooks.example.org"] = ["127.0.0.1"]  # rebinding: now it points at the receiver on loopback
    paused_event(now)
    assert send_due(now) == [DeliveryState.FAILED]
    assert receiver.received == []
    assert WebhookAttempt.objects.get().error.startswith("refused: The host hooks.example.org resolves to a non-public")
    assert not WebhookEndpoint.objects.get().is_active  # a URL refused for good is not tried again


def test_an_endpoint_saved_while_private_networks_were_allowed_is_disabled_at_the_next_send(settings, receiver):
    now = timezone.now()
    endpoint = endpoint_create(url=receiver.url, now=now)  # allowed then (the fixture's setting)
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    paused_event(now)
    assert send_due(now) == [DeliveryState.FAILED]
    assert receiver.received == []
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert re.fullmatch(
        r"Refused on \S+Z: The host 127\.0\.0\.1 resolves to a non-public address \(127\.0\.0\.1\)\.",
        endpoint.disabled_reason,
    ), endpoint.disabled_reason


def test_a_host_that_does_not_resolve_is_retried_and_its_endpoint_stays_active(settings, monkeypatch):
    monkeypatch.setattr(netguard, "resolver", lambda host, port: ["93.184.215.14"])
    now = timezone.now()
    endpoint_create(url="https://hooks.example.org/x", now=now)

    def unresolvable(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(netguard, "resolver", unresolvable)
    paused_event(now)
    assert send_due(now) == [DeliveryState.PENDING]
    assert WebhookEndpoint.objects.get().is_active


def test_production_requires_https(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    with pytest.raises(UnsafeUrl, match="https"):
        endpoint_create(url="http://hooks.example.org/x", now=timezone.now())


@pytest.mark.parametrize(
    "url",
    [
        *("ftp://hooks.example.org/", "http://user:pw@hooks.example.org/", "https://", "x"),
        *("http://a\x00b/", "http://" + "x" * 300 + "/", "http://hooks.example.org:99999/"),
    ],
)
def test_malformed_urls_are_refused(url):
    with pytest.raises(UnsafeUrl):
        endpoint_create(url=url, now=timezone.now())


def test_every_statement_of_a_message_on_the_deliveries_names_the_messages_own_rows(receiver):
    """Each statement on the deliveries is bounded by the message's keys (``id IN``), never by its token alone.

    The token has no index: a read by token alone visits every delivery the table
    keeps, once a message, which made a drain's cost grow with the table.
    """
    now = timezone.now()
    endpoint_create(url=receiver.url, now=now)
    events_write(items=[("mentor.paused", {"mentor_id": f"mntr_{n}"}) for n in range(3)], occurred_at=now)
    claim = deliveries_claim(now=now)
    with CaptureQueriesContext(connection) as queries:
        states = deliveries_send(pks=claim.pks, token=claim.token, now=now)
    assert list(states.values()) == [DeliveryState.DELIVERED] * 3
    table = WebhookDelivery._meta.db_table
    on_deliveries = [
        query["sql"]
        for query in queries.captured_queries
        if re.match(rf'(SELECT .* FROM|UPDATE) "{table}"', query["sql"])
    ]
    assert len(on_deliveries) >= 3  # the take-over, the read, the record's lock and update
    for sql in on_deliveries:
        assert f'"{table}"."id" IN (' in sql, sql


def test_a_replayed_delivery_numbers_its_next_attempt_after_the_ones_it_kept(receiver):
    from events.endpoints import delivery_replay

    now = timezone.now()
    endpoint_create(url=receiver.url, now=now)
    paused_event(now)
    assert send_due(now) == [DeliveryState.DELIVERED]
    delivery = WebhookDelivery.objects.get()
    assert delivery_replay(delivery=delivery, now=now)
    assert WebhookDelivery.objects.get().attempts == 0  # the count restarts; the attempt kept says 1
    later = now + dt.timedelta(seconds=1)
    assert send_due(later) == [DeliveryState.DELIVERED]
    assert list(WebhookAttempt.objects.order_by("number").values_list("number", "attempted_at")) == [
        (1, now),
        (2, later),
    ]


def test_a_sweeps_next_chunk_is_listed_from_where_the_one_before_stopped():
    now = timezone.now()
    endpoint()
    events_write(items=[("mentor.paused", {"mentor_id": f"mntr_{n}"}) for n in range(5)], occurred_at=now)
    every = list(WebhookDelivery.objects.order_by("next_attempt_at", "pk").values_list("pk", flat=True))
    first = deliveries_claim(now=now, limit=2)
    with CaptureQueriesContext(connection) as queries:
        second = deliveries_claim(now=now, limit=2, after=first.last)
    listing = next(q["sql"] for q in queries if q["sql"].startswith("SELECT"))
    assert '"next_attempt_at" >=' in listing  # the due index's range starts at the cursor
    third = deliveries_claim(now=now, limit=2, after=second.last)
    assert [sorted(first.pks), sorted(second.pks), third.pks] == [every[:2], every[2:4], every[4:]]
    assert third.last == (WebhookDelivery.objects.get(pk=every[4]).next_attempt_at, every[4])
    assert deliveries_claim(now=now, after=third.last) == Claim(pks=[], token=ANY, last=None)
    # A delivery freed behind the cursor is the next sweep's, which starts from the beginning.
    WebhookDelivery.objects.filter(pk=every[0]).update(claimed_until=None)
    assert deliveries_claim(now=now, after=second.last).pks == []
    assert deliveries_claim(now=now).pks == [every[0]]
