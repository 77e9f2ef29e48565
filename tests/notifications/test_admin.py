"""The notifications in the admin: read-only list, resend of a failed one, the upcoming reminders page; mentor email."""

from __future__ import annotations

import pytest
from django.utils import timezone

from notifications.models import Notification, NotificationState
from notifications.services import reminders_scan
from tests.certifications.admin.helpers import MENTORS, act, make_cert, messages_of, staff_user
from tests.factories import MentorFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/notifications/notification/"
UPCOMING = LIST + "upcoming/"


@pytest.fixture
def coordinator_client(client):
    client.force_login(staff_user("coordinator", groups=("Coordinators",)))
    return client


def scanned(*days: float) -> list:
    certs = [make_cert(days=each) for each in days]
    reminders_scan(now=timezone.now())
    return certs


def test_the_list_is_read_only_and_filters_by_kind_and_state(coordinator_client):
    scanned(10, 20)
    Notification.objects.filter(pk=Notification.objects.first().pk).update(state=NotificationState.FAILED)
    response = coordinator_client.get(LIST, {"state__exact": "failed"})
    assert response.status_code == 200
    assert [row.state for row in response.context["cl"].result_list] == ["failed"]
    assert coordinator_client.get(LIST, {"kind__exact": "mentor_paused"}).context["cl"].result_count == 0
    row = Notification.objects.first()
    page = coordinator_client.get(f"{LIST}{row.pk}/change/")
    assert page.status_code == 200 and b'name="subject"' not in page.content  # nothing editable
    assert coordinator_client.get(LIST + "add/").status_code == 403


def test_resend_queues_a_failed_notification_again_and_leaves_the_others(
    coordinator_client, django_capture_on_commit_callbacks
):
    scanned(10, 20)
    failed, sent = Notification.objects.order_by("pk")
    Notification.objects.filter(pk=failed.pk).update(state=NotificationState.FAILED, attempts=4, last_error="451")
    Notification.objects.filter(pk=sent.pk).update(state=NotificationState.SENT)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = act(coordinator_client, LIST, "resend", [failed, sent])
    assert messages_of(response) == [
        "1 notification queued to send again.",
        "1 notification left alone: only a failed one is resent.",
    ]
    assert len(callbacks) == 1
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.state, sent.state) == (NotificationState.QUEUED, NotificationState.SENT)


def test_resend_needs_change_notification(client):
    client.force_login(staff_user("viewer", "view_notification"))
    response = client.get(LIST)
    assert response.status_code == 200
    assert "resend" not in response.context["cl"].model_admin.get_actions(response.wsgi_request)


def test_the_upcoming_page_shows_each_record_with_its_window(coordinator_client):
    soon, later = scanned(10, 100)  # 10 days: the 30-day window, sent; 100 days: the 90-day window opens in 10
    due = make_cert(days=5, mentor=MentorFactory(name="<i>Zoe</i>"))  # in the 7-day window, not scanned yet
    make_cert(days=200)  # far off: not listed
    response = coordinator_client.get(UPCOMING)
    assert response.status_code == 200
    rows = {item.certification.pk: item for item in response.context["items"]}
    assert set(rows) == {soon.pk, later.pk, due.pk}
    assert (rows[soon.pk].window, rows[soon.pk].state) == (30, "queued")
    assert (rows[due.pk].window, rows[due.pk].state) == (7, "due")
    assert (rows[later.pk].window, rows[later.pk].state, rows[later.pk].days_left) == (90, "upcoming", 100)
    assert b"&lt;i&gt;Zoe&lt;/i&gt;" in response.content
    assert Notification.objects.count() == 1  # the preview creates nothing


def test_the_upcoming_page_needs_view_notification(client):
    client.force_login(staff_user("nobody"))
    assert client.get(UPCOMING).status_code == 403


def test_a_mentor_email_is_editable_in_the_admin_and_validated(coordinator_client):
    mentor = MentorFactory(name="Ada", email="")
    url = f"{MENTORS}{mentor.pk}/change/"
    bad = coordinator_client.post(url, {"name": "Ada", "email": "not-an-address", **inline_management()})
    assert bad.status_code == 200 and "Enter a valid email address." in bad.content.decode()
    good = coordinator_client.post(url, {"name": "Ada", "email": "ada@example.org", **inline_management()})
    assert good.status_code == 302
    mentor.refresh_from_db()
    assert mentor.email == "ada@example.org"


def inline_management() -> dict:
    """The management forms of the mentor page's read-only inlines (certifications, renewal requests)."""
    return {
        f"{prefix}-{field}": "0"
        for prefix in ("certifications", "renewal_requests")
        for field in ("TOTAL_FORMS", "INITIAL_FORMS", "MAX_NUM_FORMS")
    }
