"""The policy of a certification type (renewal window, grace, reminder days) and the lapse rule with grace.

An expired record lapses only once ``expires_at + grace_days <= now``; a revoked one
at once. With ``grace_days = 0`` (the seeded value) everything is as before: the rest
of the suite, unchanged, proves that.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from certifications.models import AutoPauseLog, Certification, CertificationType, Lifecycle, Mentor, MentorStatus
from certifications.services import certification_renew, certification_revoke, expiry_job_run
from tests.certifications.services.lapse.helpers import LAPSED_ON, lapsed_cert
from tests.certifications.totals.helpers import random_write
from tests.factories import TEST_ACTOR, cert_type

pytestmark = pytest.mark.django_db

GRACE = 10
GRACE_ENDS = LAPSED_ON + dt.timedelta(days=GRACE)


@pytest.fixture
def with_grace() -> CertificationType:
    basic = cert_type("peer_mentor_basic")
    basic.grace_days = GRACE
    basic.save()
    return basic


def paused(cert: Certification) -> bool:
    return Mentor.objects.get(pk=cert.mentor_id).status == MentorStatus.PAUSED


def test_the_seeded_types_carry_the_programs_policy():
    policy = {
        code: (window, grace, days)
        for code, window, grace, days in CertificationType.objects.values_list(
            "code", "renewal_window_days", "grace_days", "reminder_days"
        )
    }
    assert policy == {
        "peer_mentor_basic": (90, 0, [90, 30, 7]),
        "peer_mentor_advanced": (60, 0, [60, 14, 3]),
    }


def test_an_expired_record_lapses_exactly_when_its_grace_ends_not_a_second_before(with_grace):
    cert = lapsed_cert()
    before = GRACE_ENDS - dt.timedelta(seconds=1)
    assert not Certification.objects.lapsed(now=before).exists()
    run = expiry_job_run(now=before)
    assert (run.marked_expired, run.expired_found, paused(cert)) == (1, 0, False)  # expired, not yet lapsed

    assert list(Certification.objects.lapsed(now=GRACE_ENDS)) == [cert]
    run = expiry_job_run(now=GRACE_ENDS)
    assert (run.expired_found, run.auto_paused, paused(cert)) == (1, 1, True)
    assert AutoPauseLog.objects.get().reason == "Certification peer_mentor_basic expired on 2026-03-01"


def test_a_revoked_record_ignores_the_grace(with_grace):
    cert = lapsed_cert(expires_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    revoked_at = LAPSED_ON + dt.timedelta(days=1)
    certification_revoke(by=TEST_ACTOR, certification=cert, now=revoked_at, reason="Withdrawn")
    run = expiry_job_run(now=revoked_at + dt.timedelta(minutes=1))
    assert (run.expired_found, paused(cert)) == (1, True)


def test_a_renewal_during_the_grace_prevents_the_pause_and_leaves_no_log(with_grace):
    cert = lapsed_cert()
    during = LAPSED_ON + dt.timedelta(days=3)
    expiry_job_run(now=during)
    certification_renew(by=TEST_ACTOR, certification=Certification.objects.get(pk=cert.pk), now=during)
    run = expiry_job_run(now=GRACE_ENDS + dt.timedelta(days=1))
    assert (run.expired_found, paused(cert)) == (0, False)
    assert not AutoPauseLog.objects.exists()


def test_changing_the_grace_never_lifts_a_pause_and_applies_at_the_next_run(with_grace):
    applied = lapsed_cert()
    expiry_job_run(now=GRACE_ENDS)
    assert paused(applied)

    # Raising the grace: the pause already applied stays, and nothing new is due.
    with_grace.grace_days = 30
    with_grace.save()
    waiting = lapsed_cert(expires_at=LAPSED_ON + dt.timedelta(days=5))
    run = expiry_job_run(now=GRACE_ENDS + dt.timedelta(days=1))
    assert (run.expired_found, paused(applied), paused(waiting)) == (0, True, False)

    # Lowering it back to none: the next run pauses the record not yet flagged.
    with_grace.grace_days = 0
    with_grace.save()
    run = expiry_job_run(now=GRACE_ENDS + dt.timedelta(days=2))
    assert (run.expired_found, paused(applied), paused(waiting)) == (1, True, True)


def test_the_other_types_grace_is_its_own(with_grace):
    basic = lapsed_cert()
    advanced = lapsed_cert(code="peer_mentor_advanced")
    run = expiry_job_run(now=LAPSED_ON + dt.timedelta(days=1))
    assert (run.expired_found, paused(basic), paused(advanced)) == (1, False, True)


@pytest.mark.parametrize(
    "days",
    [[90, 30, 30], [0], [-7], [7.5], ["7"], [True], "90,30"],
)
def test_reminder_days_are_distinct_positive_whole_numbers(days):
    basic = cert_type("peer_mentor_basic")
    basic.reminder_days = days
    with pytest.raises(ValidationError):
        basic.full_clean()


@pytest.mark.parametrize("days", [[], [1], [365, 90, 30, 7, 1]])
def test_valid_reminder_days_pass(days):
    basic = cert_type("peer_mentor_basic")
    basic.reminder_days = days
    basic.full_clean()


@pytest.mark.parametrize("field", ["grace_days", "renewal_window_days"])
def test_the_database_refuses_a_negative_policy(field):
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificationType.objects.filter(code="peer_mentor_basic").update(**{field: -1})


# --- Lifecycle state ---------------------------------------------------------------------------

NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=dt.UTC)


def lifecycle_of(cert: Certification, now: dt.datetime = NOW) -> str:
    return Certification.objects.with_lifecycle(now=now).get(pk=cert.pk).lifecycle


def test_each_lifecycle_state_first_match_wins(with_grace):
    days = dt.timedelta(days=1)
    active = lapsed_cert(expires_at=NOW + 200 * days)
    renewal_due = lapsed_cert(expires_at=NOW + 80 * days)  # basic's window: 90 days
    in_grace = lapsed_cert(expires_at=NOW - 3 * days)  # grace: 10 days
    lapsed = lapsed_cert(expires_at=NOW - 30 * days)
    revoked = lapsed_cert(expires_at=NOW + 200 * days, status="revoked", revoked_at=NOW - days)
    old = lapsed_cert(expires_at=NOW - 30 * days, issued_at=NOW - 1000 * days)
    lapsed_cert(mentor=old.mentor, issued_at=NOW - 20 * days, expires_at=NOW + 300 * days)  # renews ``old``
    states = {
        "active": lifecycle_of(active),
        "renewal_due": lifecycle_of(renewal_due),
        "grace": lifecycle_of(in_grace),
        "lapsed": lifecycle_of(lapsed),
        "revoked": lifecycle_of(revoked),
        "superseded": lifecycle_of(old),
    }
    assert states == {state: state for state in states}
    # Lapsed in the lifecycle is lapsed by the rule, and in grace is not.
    assert set(Certification.objects.lapsed(now=NOW)) == {lapsed, revoked}


def test_the_renewal_window_edge_and_the_grace_edge(with_grace):
    edge = lapsed_cert(expires_at=NOW + dt.timedelta(days=90))
    assert lifecycle_of(edge) == "renewal_due"
    assert lifecycle_of(edge, NOW - dt.timedelta(seconds=1)) == "active"
    grace_edge = lapsed_cert()
    assert lifecycle_of(grace_edge, GRACE_ENDS - dt.timedelta(seconds=1)) == "grace"
    assert lifecycle_of(grace_edge, GRACE_ENDS) == "lapsed"


def test_the_admin_shows_the_lifecycle_and_filters_by_it(client, django_user_model, with_grace):
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-boss"))
    in_grace = lapsed_cert(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    active = lapsed_cert(expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
    page = client.get("/admin/certifications/certification/?lifecycle=grace").content.decode()
    assert in_grace.certification_id in page and active.certification_id not in page
    assert "In grace" in page and "expired, in grace until" in page
    page = client.get("/admin/certifications/certification/?lifecycle=active").content.decode()
    assert active.certification_id in page and in_grace.certification_id not in page


def test_each_lifecycle_condition_selects_exactly_the_records_in_that_state():
    """``in_lifecycle(value)`` is the same partition as the ``lifecycle`` annotation, state by state."""
    rng = random.Random(20)
    types = [cert_type("peer_mentor_basic"), cert_type("peer_mentor_advanced")]
    CertificationType.objects.filter(pk=types[1].pk).update(grace_days=30, renewal_window_days=200)
    for _ in range(120):
        random_write(rng, now=NOW, types=types)
    records = Certification.objects.all()
    for moment in (NOW, NOW + dt.timedelta(days=200), NOW + dt.timedelta(days=500)):
        annotated = dict(records.with_lifecycle(now=moment).values_list("pk", "lifecycle"))
        for value in Lifecycle.values:
            expected = {pk for pk, state in annotated.items() if state == value}
            assert set(records.in_lifecycle(value, now=moment).values_list("pk", flat=True)) == expected, value
    assert len(set(annotated.values())) >= 4
