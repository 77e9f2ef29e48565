"""The start-up heap frozen out of the collector's way, a response that lets go of its data, and the dialect's rows."""

from __future__ import annotations

import datetime as dt
import gc

import pytest
from rest_framework.renderers import JSONRenderer

from certhub.api.responses import ReleasingResponse
from certhub.heap import freeze_startup_heap
from certhub.sql import dialect
from certifications.models import Certification
from tests.factories import CertificationFactory


def test_freezing_moves_the_heap_alive_into_the_permanent_generation():
    try:
        frozen = freeze_startup_heap()
        assert frozen == gc.get_freeze_count() > 10_000
        assert len(gc.get_objects()) < frozen  # what the collector still walks is what came after
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


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


@pytest.mark.django_db
def test_rows_are_what_iterating_the_queryset_gives_timestamps_aware_in_utc():
    for microsecond in (0, 250_000):
        CertificationFactory(expires_at=dt.datetime(2027, 1, 2, 3, 4, 5, microsecond, tzinfo=dt.UTC))
    queryset = Certification.objects.order_by("id").values_list("id", "certification_id", "expires_at", "issued_at")
    rows = dialect().rows(queryset)
    assert rows == list(queryset) and len(rows) == 2
    assert {row[2].utcoffset() for row in rows} == {dt.timedelta(0)}
    assert [row[2].microsecond for row in rows] == [0, 250_000]
    assert dialect().rows(Certification.objects.filter(id__in=[]).values_list("id")) == []
