"""The preview (``preview.expiry_job_preview``): the due records and their reasons, nothing written."""

from __future__ import annotations

import pytest

from certifications.models import MentorStatus
from certifications.services import expiry_job_preview
from tests.certifications.services.lapse.helpers import NOW, current_cert, lapsed_cert, snapshot

pytestmark = pytest.mark.django_db


def test_preview_lists_the_due_records_with_their_reasons_and_changes_nothing():
    cert = lapsed_cert()
    current_cert()
    before = snapshot()
    [item] = expiry_job_preview(now=NOW)
    assert (item.mentor_id, item.certification_id, item.mentor_status) == (
        cert.mentor.mentor_id,
        cert.certification_id,
        MentorStatus.ACTIVE,
    )
    assert item.reason == "Certification peer_mentor_basic expired on 2026-03-01"
    assert snapshot() == before
