"""Record writes racing a delete: the loser learns the record is gone, nothing else changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from certhub.errors import NotFound
from certifications.models import Certification, CertificationStatus
from certifications.services import certification_create, certification_delete, certification_update
from tests.factories import CertificationFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=dt.UTC)


def test_update_of_a_record_deleted_since_it_was_read_is_not_found_and_changes_nothing():
    stale = CertificationFactory()  # what a request read before another request deleted it
    certification_delete(certification=Certification.objects.get(pk=stale.pk), now=NOW)

    with pytest.raises(NotFound):
        certification_update(
            certification=stale, changes={"expires_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, now=NOW
        )

    fresh = Certification.objects.get(pk=stale.pk)
    assert fresh.expires_at == stale.expires_at
    assert fresh.deleted_at == NOW


def test_update_returns_the_record_as_written_with_its_relations():
    cert = CertificationFactory()
    updated = certification_update(
        certification=cert, changes={"expires_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, now=NOW
    )
    assert updated.expires_at == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert updated.status == CertificationStatus.VALID
    assert updated.mentor.mentor_id == cert.mentor.mentor_id
    assert updated.certification_type.code == "peer_mentor_basic"


def test_create_returns_the_record_with_its_relations_loaded(django_assert_num_queries):
    cert = certification_create(
        mentor_id="mntr_01HX4V2K8P",
        certification_type="peer_mentor_basic",
        issued_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        now=NOW,
    )
    with django_assert_num_queries(0):  # the API renders it without reading it back
        assert cert.mentor.mentor_id == "mntr_01HX4V2K8P"
        assert cert.certification_type.code == "peer_mentor_basic"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_writes_of_one_type_do_not_wait_on_each_other():
    """A write locks its own record, not the certification type row every record shares."""
    import threading

    from django.db import connection, connections

    first, second = CertificationFactory(), CertificationFactory()
    holding = threading.Event()
    release = threading.Event()

    def hold_first():
        with transaction.atomic():
            certification_update(
                certification=first, changes={"expires_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, now=NOW
            )
            holding.set()
            release.wait(10)
        connections.close_all()

    worker = threading.Thread(target=hold_first)
    worker.start()
    try:
        assert holding.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        # Would time out (LockNotAvailable) if the first write had locked the shared type row.
        certification_update(
            certification=second, changes={"expires_at": dt.datetime(2031, 1, 1, tzinfo=dt.UTC)}, now=NOW
        )
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    finally:
        release.set()
        worker.join()
    assert Certification.objects.get(pk=second.pk).expires_at == dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
