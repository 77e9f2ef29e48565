"""Public ids: format, collision retry in ``create_with_unique_id``, distinct bulk ids."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from django.db import IntegrityError, connection, transaction

from certhub.ids import (
    CROCKFORD_ALPHABET,
    ID_ATTEMPTS,
    MENTOR_ID_RE,
    IdSpaceExhausted,
    create_with_unique_id,
    drawn_id_sql,
    fresh_ids,
    new_id,
)
from certifications.models import Certification
from tests.factories import CertificationFactory, MentorFactory, cert_type

pytestmark = pytest.mark.django_db

UTC = dt.UTC
CERT_ID_RE = re.compile(r"^cert_[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$")


def _sequence(*ids: str) -> tuple[list[str], Callable[[str], str]]:
    """A generator of ids that hands out ``ids`` in order and records every call."""
    calls: list[str] = []
    pending: Iterator[str] = iter(ids)

    def generate(prefix: str) -> str:
        value = next(pending)
        calls.append(value)
        return value

    return calls, generate


def _values(mentor, issued_day: int = 1) -> dict:
    return {
        "mentor": mentor,
        "certification_type": cert_type(),
        "issued_at": dt.datetime(2025, 1, issued_day, tzinfo=UTC),
        "expires_at": dt.datetime(2028, 1, issued_day, tzinfo=UTC),
    }


def test_new_id_is_prefix_and_eight_canonical_crockford_characters():
    ids = {new_id("cert_") for _ in range(500)}
    assert all(CERT_ID_RE.match(value) for value in ids)
    assert len(ids) == 500
    assert set(CROCKFORD_ALPHABET).isdisjoint("ILOU")


@pytest.mark.parametrize(
    ("mentor_id", "ok"),
    [
        ("mntr_02BY7M3RL", True),  # the contract's own example, with an L
        ("mntr_01HX4V2K8P", True),
        ("mntr_ABCDEFGH", True),  # 8 characters: the shortest
        ("mntr_" + "Z" * 26, True),  # 26 characters: the longest
        ("mntr_ABCDEFG", False),  # 7
        ("mntr_" + "Z" * 27, False),  # 27
        ("mntr_02by7m3rl", False),  # lower case
        ("mntr_02BY7M3RU", False),  # U is not Crockford
        ("MNTR_02BY7M3RL", False),
        ("mentor_02BY7M3RL", False),
        ("mntr_02BY7M3R-", False),
    ],
)
def test_mentor_id_format(mentor_id, ok):
    assert bool(MENTOR_ID_RE.match(mentor_id)) is ok


def test_create_with_unique_id_retries_after_a_collision():
    existing = CertificationFactory(certification_id="cert_AAAAAAAA")
    calls, generate = _sequence("cert_AAAAAAAA", "cert_BBBBBBBB")

    with transaction.atomic():  # the retry uses a savepoint: the outer transaction survives
        cert = create_with_unique_id(
            Certification,
            field="certification_id",
            prefix="cert_",
            values=_values(existing.mentor, 2),
            generate=generate,
        )
        assert Certification.objects.count() == 2

    assert calls == ["cert_AAAAAAAA", "cert_BBBBBBBB"]
    assert cert.certification_id == "cert_BBBBBBBB"
    assert Certification.objects.get(certification_id="cert_BBBBBBBB").issued_at.day == 2
    # the record that held the id first is untouched
    existing.refresh_from_db()
    assert existing.issued_at == dt.datetime(2024, 6, 15, tzinfo=UTC)


def test_create_with_unique_id_gives_up_after_the_attempt_limit():
    existing = CertificationFactory(certification_id="cert_AAAAAAAA")
    calls, generate = _sequence(*["cert_AAAAAAAA"] * (ID_ATTEMPTS + 5))

    with pytest.raises(IdSpaceExhausted, match=f"no free cert_ id after {ID_ATTEMPTS} attempts"):
        create_with_unique_id(
            Certification,
            field="certification_id",
            prefix="cert_",
            values=_values(existing.mentor, 2),
            generate=generate,
        )

    assert len(calls) == ID_ATTEMPTS
    assert list(Certification.objects.values_list("certification_id", flat=True)) == ["cert_AAAAAAAA"]


def test_create_with_unique_id_reraises_other_integrity_errors():
    mentor = MentorFactory()
    values = _values(mentor)
    values["expires_at"] = values["issued_at"]  # breaks the expires-after-issued check constraint
    calls, generate = _sequence("cert_CCCCCCCC", "cert_DDDDDDDD")

    with pytest.raises(IntegrityError):
        create_with_unique_id(Certification, field="certification_id", prefix="cert_", values=values, generate=generate)

    assert calls == ["cert_CCCCCCCC"]  # not retried: it was no id collision
    assert Certification.objects.count() == 0


def test_create_with_unique_id_uses_random_ids_by_default():
    mentor = MentorFactory()
    cert = create_with_unique_id(Certification, field="certification_id", prefix="cert_", values=_values(mentor))
    assert CERT_ID_RE.match(cert.certification_id)


def test_fresh_ids_are_distinct_unused_and_well_formed():
    taken = {CertificationFactory().certification_id for _ in range(3)}

    ids = fresh_ids(Certification, field="certification_id", prefix="cert_", count=250)

    assert len(ids) == 250
    assert len(set(ids)) == 250
    assert taken.isdisjoint(ids)
    assert all(CERT_ID_RE.match(value) for value in ids)


def test_fresh_ids_replace_repeated_and_taken_candidates():
    CertificationFactory(certification_id="cert_AAAAAAAA")
    # round 1 asks for 3: one is taken, two are the same; round 2 asks for the 2 missing
    calls, generate = _sequence("cert_AAAAAAAA", "cert_BBBBBBBB", "cert_BBBBBBBB", "cert_CCCCCCCC", "cert_DDDDDDDD")

    ids = fresh_ids(Certification, field="certification_id", prefix="cert_", count=3, generate=generate)

    assert sorted(ids) == ["cert_BBBBBBBB", "cert_CCCCCCCC", "cert_DDDDDDDD"]
    assert len(calls) == 5


def test_fresh_ids_give_up_when_every_candidate_is_taken():
    CertificationFactory(certification_id="cert_AAAAAAAA")
    calls, generate = _sequence(*["cert_AAAAAAAA"] * 100)

    with pytest.raises(IdSpaceExhausted):
        fresh_ids(Certification, field="certification_id", prefix="cert_", count=1, generate=generate)

    assert len(calls) == ID_ATTEMPTS


def test_fresh_ids_of_nothing_is_empty():
    assert fresh_ids(Certification, field="certification_id", prefix="cert_", count=0) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ids are drawn in SQL on PostgreSQL")
def test_ids_drawn_in_sql_are_fresh_for_every_row_and_well_formed():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {drawn_id_sql('ntf_', 8, row='n')} FROM generate_series(1, 500) AS n")
        ids = [each for (each,) in cursor.fetchall()]
        cursor.execute(f"SELECT {drawn_id_sql('evt_', 15, row='1')}")
        (longest,) = cursor.fetchone()
    assert len(set(ids)) == 500  # drawn again for each row, not once for the statement
    assert all(re.fullmatch(rf"ntf_[{CROCKFORD_ALPHABET}]{{8}}", each) for each in ids)
    assert set("".join(each[4:] for each in ids)) == set(CROCKFORD_ALPHABET)  # every character can come
    assert re.fullmatch(rf"evt_[{CROCKFORD_ALPHABET}]{{15}}", longest)


def test_an_id_drawn_in_sql_has_one_to_fifteen_characters():
    for length in (0, 16):
        with pytest.raises(ValueError, match="1 to 15 characters"):
            drawn_id_sql("evt_", length, row="1")
