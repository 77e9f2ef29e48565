"""The start-up heap frozen out of the collector's way, responses that let go of their data, reads compiled once."""

from __future__ import annotations

import datetime as dt
import gc

import pytest
from django.db import transaction
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from certhub.api.responses import ReleasingResponse
from certhub.heap import freeze_startup_heap, startup_heap_frozen
from certhub.sql import dialect
from certhub.sql.statements import CompiledOnce
from certifications.eligibility import mentors_query, reads, records_query
from certifications.models import Certification
from tests.factories import CertificationFactory, MentorFactory


def test_freezing_moves_the_heap_alive_into_the_permanent_generation():
    try:
        frozen = freeze_startup_heap()
        assert frozen > 10_000
        # Frozen objects may still be freed (another thread drops its last reference): the count only shrinks.
        assert 0 <= frozen - gc.get_freeze_count() < 1_000
        assert len(gc.get_objects()) < frozen  # what the collector still walks is what came after
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


def test_a_block_runs_with_the_heap_frozen_and_gives_it_back_even_when_it_fails():
    with pytest.raises(RuntimeError), startup_heap_frozen() as frozen:
        assert frozen > 10_000 and gc.get_freeze_count() > 0
        raise RuntimeError
    assert gc.get_freeze_count() == 0
    with startup_heap_frozen(freeze=False) as frozen:
        assert frozen == 0 == gc.get_freeze_count()


def test_a_releasing_response_drops_its_data_once_rendered():
    response = ReleasingResponse({"data": [{"eligible": True}]})
    response.accepted_renderer, response.accepted_media_type, response.renderer_context = (
        JSONRenderer(),
        "application/json",
        {},
    )
    response.render()
    assert response.content == b'{"data":[{"eligible":true}]}'
    assert response.data is None


def _left_to_the_collector(send) -> tuple[int, list[str]]:
    """The status of ``send()``, and the DRF views, requests and responses only a collection would free."""
    send()  # imports, plans, caches
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds unreachable is kept in gc.garbage instead of freed
    try:
        response = send()
        status = response.status_code
        del response.json, response  # the test client's own tie of the response to itself
        gc.collect()
        left = sorted({type(each).__name__ for each in gc.garbage if isinstance(each, (APIView, Request, Response))})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return status, left


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/certifications?status=valid&expires_before=2030-01-01", 200),  # a filter set
        ("/api/v1/certifications", 200),
        ("/api/v1/certifications/{certification_id}", 200),  # a serializer
        ("/api/v1/certifications/cert_NOPE", 404),
        ("/api/v1/certifications?status=bogus", 400),  # a filter's error
        ("/api/v1/certifications/expiry-job/runs", 200),  # a list serializer
        ("/api/v1/mentors", 401),
    ],
)
def test_an_api_read_leaves_its_view_request_and_response_to_reference_counting(anon_client, path, status):
    path = path.format(certification_id=CertificationFactory().certification_id)
    assert _left_to_the_collector(lambda: anon_client.get(path)) == (status, [])


@pytest.mark.django_db
def test_a_read_compiled_once_gives_what_the_queryset_gives_for_any_values():
    mentors = [CertificationFactory(expires_at=dt.datetime(2027, 1, 2, 3, 4, 5, 250_000, tzinfo=dt.UTC)).mentor]
    mentors += [CertificationFactory(expires_at=dt.datetime(2026, 5, 6, tzinfo=dt.UTC)).mentor, MentorFactory()]
    mentors_read, records_read = reads(dialect())
    for now in (dt.datetime(2026, 3, 26, 1, 0, 7, tzinfo=dt.UTC), dt.datetime(2026, 8, 1, tzinfo=dt.UTC)):
        for chosen in (mentors, mentors[1:], mentors[:1]):
            pks, ids = [mentor.pk for mentor in chosen], [mentor.mentor_id for mentor in chosen] + ["mntr_ZZZZZZZZ"]
            fresh = records_query(pks, now=now)
            assert records_read.sql_with_params(mentor_pks=pks, now=now) == (
                fresh.query.sql_with_params()[0],
                list(fresh.query.sql_with_params()[1]),
            )
            assert records_read.rows(mentor_pks=pks, now=now) == list(fresh)
            assert sorted(mentors_read.rows(mentor_ids=ids)) == sorted(mentors_query(ids))
    expires = [row[3] for row in records_read.rows(mentor_pks=[m.pk for m in mentors], now=now)]
    assert {each.utcoffset() for each in expires} == {dt.timedelta(0)} and len(expires) == 2
    assert sorted(each.microsecond for each in expires) == [0, 250_000]


def test_a_sample_no_parameter_took_is_refused():
    read = CompiledOnce(
        lambda now: Certification.objects.values_list("id"), lambda sql, params: [], now=dt.datetime.now(dt.UTC)
    )
    with pytest.raises(ValueError, match="went to no parameter"):
        read.sql_with_params(now=dt.datetime.now(dt.UTC))


@pytest.mark.django_db
def test_listed_keys_come_back_in_key_order_as_a_compact_array_for_any_query():
    certs = [CertificationFactory() for _ in range(5)]
    keys = sorted(cert.pk for cert in certs)
    everything = Certification.objects.order_by("-pk")
    listed = dialect().listed_pks(everything)
    assert listed.typecode == "q" and listed.tolist() == keys
    assert dialect().listed_pks(everything.filter(pk__in=keys[1:4]).select_for_update()).tolist() == keys[1:4]
    assert dialect().listed_pks(everything.none()).tolist() == []
    assert dialect().listed_pks(everything.filter(pk__gt=keys[-1])).tolist() == []


@pytest.mark.django_db
def test_listed_keys_in_chunks_come_in_key_order_a_chunk_at_a_time_inside_a_transaction():
    certs = [CertificationFactory() for _ in range(7)]
    keys = sorted(cert.pk for cert in certs)
    everything = Certification.objects.order_by("-pk")
    with transaction.atomic():
        chunks = list(dialect().listed_pk_chunks(everything.select_for_update(), size=3))
        assert chunks == [keys[0:3], keys[3:6], keys[6:7]]
        assert list(dialect().listed_pk_chunks(everything.none(), size=3)) == []
        assert list(dialect().listed_pk_chunks(everything.filter(pk__gt=keys[-1]), size=3)) == []
