"""The certification list: envelope, pagination bounds, every filter, ordering and its query count."""

from __future__ import annotations

import pytest

from certifications.models import CertificationType
from tests.certifications.api_helpers import BASE, assert_error, unchanged, utc
from tests.factories import CertificationFactory, MentorFactory, cert_type

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["certification_id"] for item in response.json()["data"]]


def make(cert_id: str, **fields):
    return CertificationFactory(certification_id=cert_id, **fields)


# --- Pagination ---------------------------------------------------------------------


@pytest.fixture
def twenty_five():
    """25 records issued on consecutive days: cert_00000001 (oldest) ... cert_00000025 (newest)."""
    mentor = MentorFactory()
    return [
        make(f"cert_{n:08d}", mentor=mentor, issued_at=utc(2024, 1, n), expires_at=utc(2027, 1, n))
        for n in range(1, 26)
    ]


def test_default_page_is_the_first_twenty_newest_first(anon_client, twenty_five):
    response = anon_client.get(BASE)

    assert response.json()["pagination"] == {"page": 1, "limit": 20, "total": 25}
    assert ids(response) == [f"cert_{n:08d}" for n in range(25, 5, -1)]


def test_second_page_holds_the_rest(anon_client, twenty_five):
    response = anon_client.get(BASE, {"page": 2})

    assert response.json()["pagination"] == {"page": 2, "limit": 20, "total": 25}
    assert ids(response) == [f"cert_{n:08d}" for n in range(5, 0, -1)]


@pytest.mark.parametrize(
    ("limit", "page", "expected"), [(1, 1, [25]), (1, 25, [1]), (7, 4, [4, 3, 2, 1]), (100, 1, None)]
)
def test_limit_and_page_slice_the_list(anon_client, twenty_five, limit, page, expected):
    response = anon_client.get(BASE, {"limit": limit, "page": page})

    assert response.json()["pagination"] == {"page": page, "limit": limit, "total": 25}
    wanted = expected if expected is not None else list(range(25, 0, -1))
    assert ids(response) == [f"cert_{n:08d}" for n in wanted]


@pytest.mark.parametrize("page", [3, 4, 1000])
def test_a_page_past_the_end_is_empty_with_the_total(anon_client, twenty_five, page):
    response = anon_client.get(BASE, {"page": page})

    assert response.status_code == 200
    assert response.json() == {"data": [], "pagination": {"page": page, "limit": 20, "total": 25}}


@pytest.mark.parametrize("param", ["page", "limit"])
@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "", " 1", "1e2", "٣", "0x10"])
def test_bad_page_or_limit_is_400(anon_client, twenty_five, param, value):
    with unchanged():
        response = anon_client.get(BASE, {param: value})
    assert_error(response, 400, "validation_error", fields={param})


@pytest.mark.parametrize("value", ["101", "1000", "99999999999999999999"])
def test_limit_above_100_is_400(anon_client, value):
    error = assert_error(anon_client.get(BASE, {"limit": value}), 400, "validation_error", fields={"limit"})
    assert "100" in error["fields"]["limit"][0]


def test_huge_page_number_is_an_empty_page(anon_client, twenty_five):
    response = anon_client.get(BASE, {"page": "99999999999999999999"})

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["pagination"]["total"] == 25


# --- Filters ------------------------------------------------------------------------


@pytest.fixture
def sample():
    """Five records across two mentors, both types and every status."""
    alice = MentorFactory(mentor_id="mntr_0000ALICE")
    bob = MentorFactory(mentor_id="mntr_00000B0B")
    advanced = cert_type("peer_mentor_advanced")
    return {
        "a1": make(
            "cert_0000000A",
            mentor=alice,
            issued_at=utc(2023, 3, 1),
            expires_at=utc(2026, 3, 1),
            status="expired",
            auto_pause_applied=True,
            auto_pause_applied_at=utc(2026, 3, 2, 1),
        ),
        "a2": make(
            "cert_0000000B",
            mentor=alice,
            certification_type=advanced,
            issued_at=utc(2025, 1, 10),
            expires_at=utc(2027, 1, 10),
        ),
        "b1": make(
            "cert_0000000C",
            mentor=bob,
            issued_at=utc(2024, 6, 15),
            expires_at=utc(2027, 6, 15),
            status="revoked",
            revoked_at=utc(2025, 2, 1),
        ),
        "b2": make(
            "cert_0000000D",
            mentor=bob,
            certification_type=advanced,
            issued_at=utc(2024, 1, 1),
            expires_at=utc(2026, 1, 1),
            status="expired",
        ),
        "b3": make("cert_0000000E", mentor=bob, issued_at=utc(2025, 6, 1), expires_at=utc(2028, 6, 1)),
    }


LABELS = {
    "cert_0000000A": "a1",
    "cert_0000000B": "a2",
    "cert_0000000C": "b1",
    "cert_0000000D": "b2",
    "cert_0000000E": "b3",
}


def labels(response) -> set[str]:
    found = [LABELS[cert_id] for cert_id in ids(response)]
    assert response.json()["pagination"]["total"] == len(found)
    return set(found)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"a1", "a2", "b1", "b2", "b3"}),
        ({"mentor_id": "mntr_0000ALICE"}, {"a1", "a2"}),
        ({"mentor_id": "mntr_00000B0B"}, {"b1", "b2", "b3"}),
        ({"mentor_id": "mntr_NOBODY000"}, set()),
        ({"certification_type": "peer_mentor_basic"}, {"a1", "b1", "b3"}),
        ({"certification_type": "peer_mentor_advanced"}, {"a2", "b2"}),
        ({"status": "valid"}, {"a2", "b3"}),
        ({"status": "expired"}, {"a1", "b2"}),
        ({"status": "revoked"}, {"b1"}),
        ({"status": "valid,revoked"}, {"a2", "b1", "b3"}),
        ({"status": "expired,revoked,valid"}, {"a1", "a2", "b1", "b2", "b3"}),
        ({"auto_pause_applied": "true"}, {"a1"}),
        ({"auto_pause_applied": "false"}, {"a2", "b1", "b2", "b3"}),
        # *_after is inclusive, *_before exclusive
        ({"expires_before": "2026-03-01T00:00:00Z"}, {"b2"}),
        ({"expires_before": "2026-03-01T00:00:01Z"}, {"a1", "b2"}),
        ({"expires_after": "2027-06-15"}, {"b1", "b3"}),
        ({"expires_after": "2027-06-15T02:00:00+02:00"}, {"b1", "b3"}),  # the same instant
        ({"expires_after": "2027-06-15T00:00:01Z"}, {"b3"}),
        ({"expires_after": "2026-01-01", "expires_before": "2027-01-01"}, {"a1", "b2"}),
        ({"issued_before": "2024-06-15"}, {"a1", "b2"}),
        ({"issued_after": "2024-06-15"}, {"a2", "b1", "b3"}),
        ({"issued_after": "2025-01-01", "issued_before": "2025-06-01"}, {"a2"}),
        # filters combine
        ({"mentor_id": "mntr_00000B0B", "status": "expired,valid", "certification_type": "peer_mentor_basic"}, {"b3"}),
        # unknown parameters are ignored
        ({"colour": "blue"}, {"a1", "a2", "b1", "b2", "b3"}),
    ],
)
def test_each_filter(anon_client, sample, params, expected):
    assert labels(anon_client.get(BASE, params)) == expected


def test_deleted_records_never_match(anon_client, sample):
    sample["b3"].deleted_at = utc(2026, 3, 1)
    sample["b3"].save()

    assert labels(anon_client.get(BASE, {"mentor_id": "mntr_00000B0B"})) == {"b1", "b2"}


def test_inactive_type_is_still_a_valid_filter(anon_client, sample):
    CertificationType.objects.filter(code="peer_mentor_advanced").update(is_active=False)

    assert labels(anon_client.get(BASE, {"certification_type": "peer_mentor_advanced"})) == {"a2", "b2"}


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("mentor_id", "mntr_lower"),
        ("mentor_id", "nobody"),
        ("mentor_id", "mntr_ABCDEFGU"),
        ("certification_type", "peer_mentor_expert"),
        ("status", "lapsed"),
        ("status", "valid,lapsed"),
        ("status", "VALID"),
        ("auto_pause_applied", "yes"),
        ("auto_pause_applied", "1"),
        ("auto_pause_applied", "True"),
        ("expires_before", "2026-03-01T00:00:00"),  # naive
        ("expires_before", "tomorrow"),
        ("expires_after", "2026-02-30"),
        ("issued_before", "2026-03-01 00:00"),
        ("issued_after", "2026-3-1"),
        ("ordering", "status"),
        ("ordering", "certification_id"),
        ("ordering", "-mentor_id"),
        ("ordering", "issued"),
        ("ordering", "issued_at,bogus"),
    ],
)
def test_invalid_filter_value_is_400_naming_it(anon_client, sample, param, value):
    with unchanged():
        response = anon_client.get(BASE, {param: value})
    assert_error(response, 400, "validation_error", fields={param})


# --- Ordering -----------------------------------------------------------------------


@pytest.fixture
def ties():
    """Four records whose every ordering field ties in pairs; ids decide within a pair."""
    mentor = MentorFactory()
    early, late = utc(2024, 1, 1), utc(2025, 1, 1)
    rows = [("cert_0000000Q", late), ("cert_0000000M", early), ("cert_0000000P", late), ("cert_0000000N", early)]
    for cert_id, when in rows:
        # different types keep the (mentor, type, issued_at) pairs unique
        kind = "peer_mentor_basic" if cert_id in ("cert_0000000Q", "cert_0000000M") else "peer_mentor_advanced"
        make(
            cert_id,
            mentor=mentor,
            certification_type=cert_type(kind),
            issued_at=when,
            expires_at=when.replace(year=when.year + 2),
            created_at=when,
            updated_at=when,
        )


@pytest.mark.parametrize("field", ["issued_at", "expires_at", "created_at", "updated_at"])
def test_ordering_ascending_breaks_ties_by_id(anon_client, ties, field):
    assert ids(anon_client.get(BASE, {"ordering": field})) == [
        "cert_0000000M",
        "cert_0000000N",
        "cert_0000000P",
        "cert_0000000Q",
    ]


@pytest.mark.parametrize("field", ["issued_at", "expires_at", "created_at", "updated_at"])
def test_ordering_descending_breaks_ties_by_id_descending(anon_client, ties, field):
    assert ids(anon_client.get(BASE, {"ordering": f"-{field}"})) == [
        "cert_0000000Q",
        "cert_0000000P",
        "cert_0000000N",
        "cert_0000000M",
    ]


def test_default_ordering_is_newest_issue_first_ties_by_id_descending(anon_client, ties):
    assert ids(anon_client.get(BASE)) == ["cert_0000000Q", "cert_0000000P", "cert_0000000N", "cert_0000000M"]


def test_ordering_is_stable_across_pages(anon_client, ties):
    pages = [ids(anon_client.get(BASE, {"ordering": "issued_at", "limit": 1, "page": n})) for n in range(1, 5)]
    assert pages == [["cert_0000000M"], ["cert_0000000N"], ["cert_0000000P"], ["cert_0000000Q"]]


def test_ordering_by_two_fields(anon_client):
    mentor = MentorFactory()
    make("cert_00000001", mentor=mentor, issued_at=utc(2024, 1, 1), expires_at=utc(2027, 1, 1))
    make("cert_00000002", mentor=mentor, issued_at=utc(2024, 1, 2), expires_at=utc(2027, 1, 1))
    make("cert_00000003", mentor=mentor, issued_at=utc(2024, 1, 3), expires_at=utc(2026, 1, 1))

    assert ids(anon_client.get(BASE, {"ordering": "-expires_at,issued_at"})) == [
        "cert_00000001",
        "cert_00000002",
        "cert_00000003",
    ]


# --- Query count --------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_the_page(anon_client, django_assert_num_queries):
    mentors = [MentorFactory() for _ in range(10)]
    for n in range(120):
        kind = "peer_mentor_basic" if n % 2 else "peer_mentor_advanced"
        make(
            f"cert_{n:08d}",
            mentor=mentors[n % 10],
            certification_type=cert_type(kind),
            issued_at=utc(2020, 1, 1) + (utc(2020, 1, 2) - utc(2020, 1, 1)) * n,
            expires_at=utc(2030, 1, 1),
        )

    # one COUNT and one SELECT joining mentor and type, whatever the page size
    with django_assert_num_queries(2):
        small = anon_client.get(BASE, {"limit": 5})
    with django_assert_num_queries(2):
        large = anon_client.get(BASE, {"limit": 100})
    # a type filter adds one look-up of the type (an unknown code is a 400)
    with django_assert_num_queries(3):
        filtered = anon_client.get(
            BASE, {"limit": 100, "certification_type": "peer_mentor_basic", "ordering": "expires_at"}
        )

    assert (len(small.json()["data"]), len(large.json()["data"]), len(filtered.json()["data"])) == (5, 100, 60)
    assert len({item["mentor_id"] for item in large.json()["data"]}) == 10


# --- The bytes of a page ------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"limit": 2, "page": 2},
        {"mentor_id": "mntr_00000B0B"},
        {"status": "expired", "expires_before": "2026-03-02"},
    ],
)
def test_a_page_is_the_bytes_the_record_serializer_renders(anon_client, sample, params):
    """The list renders its rows without a serializer around them: the same bytes as the records' serializer."""
    from rest_framework.renderers import JSONRenderer

    from certifications.api.serializers import CertificationSerializer
    from certifications.models import Certification

    response = anon_client.get(BASE, params)
    listed = ids(response)
    records = sorted(
        Certification.objects.filter(certification_id__in=listed), key=lambda r: listed.index(r.certification_id)
    )
    expected = {
        "data": CertificationSerializer(records, many=True).data,
        "pagination": {
            **response.json()["pagination"],
            "page": params.get("page", 1),
            "limit": params.get("limit", 20),
        },
    }
    assert listed and response.content == JSONRenderer().render(expected)
