"""Every admin list, read once in a real browser: each opens (no 500) and names its models in good English."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from certifications import services
from certifications.services import expiry_job_run
from tests.factories import TEST_ACTOR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "a-superuser-password"
# Django's default plural adds an "s": "deliverys", "tallys", "entrys". A consonant before "ys" is that slip.
SLIP = re.compile(r"\b[a-z]*[b-df-hj-np-tv-z]ys\b", re.IGNORECASE)
# A filter titled after a field's name rather than a label: "By is active".
FIELD_NAME_TITLE = re.compile(r"^ ?By is \w+", re.MULTILINE)


def _log_in(page, base: str) -> None:
    User.objects.create_superuser("boss", password=PASSWORD)
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content")


def _changelists(page, base: str) -> list[str]:
    """The list pages the index links to, in the order shown."""
    hrefs = page.eval_on_selector_all("a[href^='/admin/']", "links => links.map(link => link.getAttribute('href'))")
    found = []
    for href in hrefs:
        if re.fullmatch(r"/admin/\w+/\w+/", href) and href not in found:
            found.append(href)
    return found


def test_the_admin_index_and_every_list_open_and_name_their_models_properly(live_server, page):
    now = timezone.now()
    services.certification_create(
        by=TEST_ACTOR,
        mentor_id="mntr_01HX4V2K8PAD",
        certification_type="peer_mentor_basic",
        issued_at=now - timezone.timedelta(days=400),
        now=now,
    )
    expiry_job_run(now=now)
    base = live_server.url
    _log_in(page, base)
    index = page.inner_text("body")
    assert not SLIP.findall(index), SLIP.findall(index)
    for plural in ("Webhook deliveries", "Certification types", "Expiry job runs", "Notifications"):
        assert plural in index
    lists = _changelists(page, base)
    assert "/admin/events/webhookdelivery/" in lists and "/admin/certifications/certification/" in lists
    for href in lists:
        response = page.goto(f"{base}{href}")
        assert response is not None and response.status < 500, (href, response and response.status)
        text = page.inner_text("body")
        assert not SLIP.findall(text), (href, SLIP.findall(text))
        assert not FIELD_NAME_TITLE.findall(text), (href, FIELD_NAME_TITLE.findall(text))
        assert "Server Error" not in text, href
