"""The mentor pages: certifications inline, the staff pause and resume actions."""

from __future__ import annotations

import pytest

from certifications.history.models import HistoryEntry
from certifications.models import (
    Mentor,
    MentorStatus,
)
from tests.certifications.admin.helpers import (
    DAY,
    MENTORS,
    act,
    auto_paused_cert,
    clock,
    make_cert,
    messages_of,
)
from tests.factories import MentorFactory

pytestmark = pytest.mark.django_db


# --- Mentors ---------------------------------------------------------------------------------------


def test_mentor_page_lists_live_certifications_inline(coordinator_client):
    mentor = MentorFactory()
    live = make_cert(days=100, mentor=mentor)
    gone = make_cert(days=50, mentor=mentor, deleted_at=clock(), issued_at=clock() - 30 * DAY)
    html = coordinator_client.get(f"{MENTORS}{mentor.pk}/change/").content.decode()
    assert live.certification_id in html
    assert gone.certification_id not in html


def test_pause_with_a_reason_then_resume(coordinator_client):
    mentor = MentorFactory()
    page = act(coordinator_client, MENTORS, "pause", [mentor])
    assert "Pause mentors" in page.content.decode()

    response = act(coordinator_client, MENTORS, "pause", [mentor], apply="Pause", reason="Complaint under review")

    mentor.refresh_from_db()
    assert (mentor.status, mentor.paused_by, mentor.pause_reason) == ("paused", "staff", "Complaint under review")
    assert "Paused 1 mentor." in messages_of(response)
    listed = coordinator_client.get(MENTORS, {"status__exact": "paused", "paused_by__exact": "staff"})
    assert [m.pk for m in listed.context["cl"].result_list] == [mentor.pk]

    response = act(coordinator_client, MENTORS, "resume", [mentor])
    mentor.refresh_from_db()
    assert (mentor.status, mentor.paused_by, mentor.pause_reason) == ("active", "", "")
    assert "Resumed 1 mentor." in messages_of(response)


def test_resume_refuses_an_auto_pause_while_a_record_is_still_lapsed(coordinator_client):
    """The same service as the API's resume (409 still_lapsed there): renewing is what resumes."""
    cert = auto_paused_cert()
    response = act(coordinator_client, MENTORS, "resume", [cert.mentor])
    cert.mentor.refresh_from_db()
    assert cert.mentor.status == MentorStatus.PAUSED
    assert any("still lapsed" in message for message in messages_of(response))


def test_mentor_status_is_changed_only_by_the_actions(coordinator_client):
    mentor = MentorFactory(name="Old")
    response = coordinator_client.post(
        f"{MENTORS}{mentor.pk}/change/",
        {
            "name": "New Name",
            "email": "new@example.org",
            "status": "paused",
            # The read-only inline's management form, as a browser sends it.
            "certifications-TOTAL_FORMS": "0",
            "certifications-INITIAL_FORMS": "0",
            "renewal_requests-TOTAL_FORMS": "0",
            "renewal_requests-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    mentor.refresh_from_db()
    assert (mentor.name, mentor.status) == ("New Name", MentorStatus.ACTIVE)


def test_mentor_actions_need_change_permission(viewer_client):
    mentor = MentorFactory()
    assert viewer_client.get(MENTORS).context["action_form"] is None
    act(viewer_client, MENTORS, "pause", [mentor], apply="Pause", reason="x")
    mentor.refresh_from_db()
    assert mentor.status == MentorStatus.ACTIVE


def test_a_name_typed_in_the_admin_is_stored_on_one_line_without_bidi_controls(superuser_client):
    response = superuser_client.post(
        f"{MENTORS}add/",
        {
            "mentor_id": "mntr_01HX4V2K8P",
            "name": " Ada\r\nLovelace\u202e ",
            "email": "ada@example.org",
            "certifications-TOTAL_FORMS": "0",
            "certifications-INITIAL_FORMS": "0",
            "renewal_requests-TOTAL_FORMS": "0",
            "renewal_requests-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content
    mentor = Mentor.objects.get(mentor_id="mntr_01HX4V2K8P")
    assert mentor.name == "Ada Lovelace"
    response = superuser_client.post(
        f"{MENTORS}{mentor.pk}/change/",
        {
            "name": "Ada\tKing\u2066\u200f",
            "email": "ada@example.org",
            "certifications-TOTAL_FORMS": "0",
            "certifications-INITIAL_FORMS": "0",
            "renewal_requests-TOTAL_FORMS": "0",
            "renewal_requests-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content
    mentor.refresh_from_db()
    assert mentor.name == "Ada King"
    [written] = HistoryEntry.objects.filter(subject="mentor", object_pk=mentor.pk, change="changed")
    assert written.changes["name"] == ["Ada Lovelace", "Ada King"]
