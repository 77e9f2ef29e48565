"""Change lists at scale: counts from the maintained totals or capped, id prefixes, the drill-down from the tallies."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications.models import CertificationStatus
from tests.certifications.admin.helpers import CERTS, MENTORS, listed_ids, make_cert
from tests.certifications.totals.helpers import stray_delta
from tests.factories import MentorFactory, cert_type

pytestmark = pytest.mark.django_db


def _count_line(response) -> str:
    page = response.content.decode()
    start = page.index('<p class="paginator">')
    return " ".join(page[start : page.index("</p>", start)].split()[2:])


def _stray_delta(day: dt.date, **counts) -> None:
    """A tally row no record backs: it shows wherever the page reads the tallies rather than the records."""
    stray_delta(cert_type(), day, **counts)


@pytest.mark.parametrize(
    "params",
    [{}, {"status__exact": "valid"}, {"expiring": "current"}, {"expires_at__year": "2031"}],
)
def test_the_count_of_a_list_the_tallies_keep_is_read_from_them(superuser_client, params):
    for days in (10, 40, 400):
        make_cert(days=days)
    real = superuser_client.get(CERTS, params).context["cl"].result_count
    _stray_delta(dt.date(2031, 6, 1), valid=4)
    response = superuser_client.get(CERTS, params)
    assert response.context["cl"].result_count == real + 4
    assert response.context["cl"].full_result_count is None  # no count of the whole table


def test_a_filter_the_tallies_do_not_keep_is_counted_and_capped(superuser_client, monkeypatch):
    monkeypatch.setattr("certifications.selectors.COUNT_CAP", 3)
    for _ in range(5):
        make_cert(days=200)
    _stray_delta(dt.date(2031, 6, 1), valid=4)
    response = superuser_client.get(CERTS, {"lifecycle": "active"})
    assert response.context["cl"].result_count == 3
    assert _count_line(response) == "more than 3 certifications"
    few = superuser_client.get(CERTS, {"lifecycle": "active", "q": "nobody-matches"})
    assert few.context["cl"].result_count == 0 and _count_line(few) == "0 certifications"


def test_the_drill_down_offers_the_years_the_tallies_hold(superuser_client):
    first = make_cert(days=400)
    later = make_cert(days=400 + 366 * 2)
    page = superuser_client.get(CERTS, {"status__exact": "valid"}).content.decode()
    years = {year for year in range(2020, 2040) if f"expires_at__year={year}" in page}
    assert years == {first.expires_at.year, later.expires_at.year}


def test_the_drill_down_choices_come_from_the_tallies(superuser_client):
    make_cert(days=400)
    _stray_delta(dt.date(2031, 6, 1), valid=1)
    page = superuser_client.get(CERTS).content.decode()
    assert "expires_at__year=2031" in page
    month = superuser_client.get(CERTS, {"expires_at__year": "2031"}).content.decode()
    assert "expires_at__month=6" in month


def test_an_id_prefix_finds_its_records_in_any_case(coordinator_client):
    wanted = make_cert(days=100)
    make_cert(days=100)
    prefix = wanted.certification_id[:9].lower()
    found = listed_ids(coordinator_client.get(CERTS, {"q": prefix}))
    assert wanted.certification_id in found
    assert all(cert_id.startswith(wanted.certification_id[:9]) for cert_id in found)
    mentor = wanted.mentor.mentor_id
    assert listed_ids(coordinator_client.get(CERTS, {"q": f"  {mentor[:8]} "})) >= {wanted.certification_id}


def test_a_name_is_found_in_the_middle_and_the_mentor_list_searches_the_same_way(coordinator_client):
    mentor = MentorFactory(name="Grace Brewster Hopper", email="grace@navy.example")
    wanted = make_cert(days=100, mentor=mentor, status=CertificationStatus.VALID)
    make_cert(days=100, mentor=MentorFactory(name="Alan Turing", email="alan@example.org"))
    assert listed_ids(coordinator_client.get(CERTS, {"q": "brewster"})) == {wanted.certification_id}
    mentors = coordinator_client.get(MENTORS, {"q": "NAVY.EX"}).context["cl"].result_list
    assert [m.mentor_id for m in mentors] == [mentor.mentor_id]
    by_id = coordinator_client.get(MENTORS, {"q": mentor.mentor_id[:9].lower()}).context["cl"].result_list
    assert mentor.mentor_id in [m.mentor_id for m in by_id]


def test_a_list_narrowed_by_expiry_is_in_expiry_order_unless_another_is_chosen(superuser_client):
    later = make_cert(days=20)
    sooner = make_cert(days=10, issued_at=later.issued_at - dt.timedelta(days=30))
    expiring = superuser_client.get(CERTS, {"expiring": "30"}).context["cl"].result_list
    assert [c.certification_id for c in expiring] == [sooner.certification_id, later.certification_id]
    issued = superuser_client.get(CERTS, {"expiring": "30", "o": "-4"}).context["cl"].result_list  # newest issue first
    assert [c.certification_id for c in issued] == [later.certification_id, sooner.certification_id]
    default = superuser_client.get(CERTS).context["cl"].result_list
    assert [c.certification_id for c in default] == [later.certification_id, sooner.certification_id]
