"""The eligibility answers are the bytes they always were, on a varied data set.

Every lifecycle state (active, renewal due, in grace, lapsed, revoked,
superseded), both types, several records per type, deleted records, staff and
automatic pauses, mentors without records and unknown ids, timestamps with
seconds and microseconds, and ``through`` absent, near and far: the batch and
the one-mentor answers must equal, byte for byte, what the first implementation
(model instances and DRF serializers, kept in ``eligibility_reference``) sends.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine

from certifications.models import CertificationStatus, CertificationType, Mentor, MentorStatus, PausedBy
from certifications.models.records import Certification
from tests.certifications.api_helpers import client_with
from tests.certifications.eligibility_reference import reference_answers, reference_body
from tests.factories import CertificationFactory, MentorFactory, cert_type

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, 7, 250_000, tzinfo=UTC)
DAY = dt.timedelta(days=1)
MENTORS = "/api/v1/mentors"
# Expiry offsets from now, in days: far either side, inside the renewal windows (60 and 90 days)
# and the grace (10 days for basic, 3 for advanced), and on the boundaries themselves.
EXPIRY_OFFSETS = [-400, -30, -10, -9.5, -2, -1e-6, 0, 1e-6, 1, 30, 59.9, 60, 61, 89, 90, 91, 200, 800]
THROUGHS = [None, NOW + 3 * DAY, NOW + 45 * DAY, NOW + 400 * DAY]


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def varied_mentors(rng: random.Random, count: int) -> list[Mentor]:
    """``count`` mentors with anything from no record to several per type, in every state."""
    CertificationType.objects.filter(code="peer_mentor_basic").update(grace_days=10)
    CertificationType.objects.filter(code="peer_mentor_advanced").update(grace_days=3)
    types = [cert_type("peer_mentor_basic"), cert_type("peer_mentor_advanced")]
    mentors = []
    for number in range(count):
        pause = rng.choice([None, None, None, PausedBy.STAFF, PausedBy.AUTO])
        mentor = MentorFactory(
            status=MentorStatus.PAUSED if pause else MentorStatus.ACTIVE,
            paused_by=pause or "",
            paused_at=NOW - DAY if pause else None,
        )
        for issue in range(rng.choice([0, 1, 1, 2, 3, 4, 6])):
            expires = NOW + dt.timedelta(
                days=rng.choice(EXPIRY_OFFSETS), seconds=rng.randrange(0, 3), microseconds=rng.randrange(0, 2) * 999
            )
            expires = expires.replace(microsecond=0) if number % 2 else expires
            issued = expires - dt.timedelta(days=rng.randrange(100, 1200), seconds=issue)
            fate = rng.random()
            CertificationFactory(
                mentor=mentor,
                certification_type=rng.choice(types),
                issued_at=issued,
                expires_at=expires,
                status=(
                    CertificationStatus.REVOKED
                    if fate < 0.1
                    else CertificationStatus.EXPIRED
                    if fate < 0.3 and expires <= NOW
                    else CertificationStatus.VALID
                ),
                revoked_at=NOW - DAY if fate < 0.1 else None,
                deleted_at=NOW - DAY if fate > 0.9 else None,
            )
        mentors.append(mentor)
    # Both warnings at once, each type in each state: the order of warnings and of types shows.
    for grace, due in [(types[0], types[1]), (types[1], types[0])]:
        mentor = MentorFactory()
        CertificationFactory(mentor=mentor, certification_type=grace, issued_at=NOW - 900 * DAY, expires_at=NOW - DAY)
        CertificationFactory(
            mentor=mentor, certification_type=due, issued_at=NOW - 900 * DAY, expires_at=NOW + 20 * DAY
        )
        mentors.append(mentor)
    return mentors


def test_batches_and_single_answers_are_byte_identical_to_the_first_implementation():
    rng = random.Random(29)
    mentors = varied_mentors(rng, 140)
    lifecycles = {each.lifecycle for each in Certification.objects.alive().with_lifecycle(now=NOW).only("id")}
    assert lifecycles == {"active", "renewal_due", "grace", "lapsed", "revoked", "superseded"}
    ids = [mentor.mentor_id for mentor in mentors] + [f"mntr_ZZZZZZZ{n}" for n in range(8)]
    rng.shuffle(ids)
    staff = client_with("view_mentor")
    compared = set()
    for through in THROUGHS:
        body = {"mentor_ids": ids} | ({"through": through.isoformat()} if through else {})
        response = staff.post(f"{MENTORS}/eligibility", body, format="json")
        assert response.status_code == 200
        expected = reference_answers(mentor_ids=ids, now=NOW, through=through)
        assert response.content == reference_body(expected, batch=True)
        compared |= {(each["eligible"], tuple(each["reasons"]), tuple(each["warnings"])) for each in expected}
        for mentor in mentors[:: 7 if through else 1]:
            query = {"through": through.isoformat()} if through else {}
            single = staff.get(f"{MENTORS}/{mentor.mentor_id}/eligibility", query)
            assert single.status_code == 200
            one = reference_answers(mentor_ids=[mentor.mentor_id], now=NOW, through=through)
            assert single.content == reference_body(one, batch=False)
    # The data set reaches every reason and warning (or the comparison would prove little).
    words = {word.split(":")[0] for _, reasons, warnings in compared for word in reasons + warnings}
    assert words == {
        "unknown_mentor",
        "paused_by_staff",
        "paused_auto",
        "no_certification",
        "lapsed",
        "lapses_before",
        "renewal_due",
        "in_grace",
    }
    assert {eligible for eligible, _, _ in compared} == {True, False}
    assert {warnings for _, _, warnings in compared} >= {
        ("renewal_due:peer_mentor_advanced", "in_grace:peer_mentor_basic"),
        ("renewal_due:peer_mentor_basic", "in_grace:peer_mentor_advanced"),
    }
