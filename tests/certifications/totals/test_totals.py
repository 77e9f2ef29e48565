"""The maintained totals equal a real ``count()`` after any mix of writes, job runs and folds."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from django.db import connections

from certifications.models import Certification, CertificationStatus, CertificationType
from certifications.services import expiry_job_run
from certifications.totals.counts import CertificationCount, certification_total
from certifications.totals.mentors import mentor_totals
from certifications.totals.models import CertificationTally, MentorTally
from certifications.totals.tallies import tallies_fold, tallies_rebuild
from tests.certifications.totals.helpers import (
    NOW,
    assert_totals_match,
    counted,
    mentors_counted,
    random_write,
    tallied,
)
from tests.factories import MentorFactory, cert_type

pytestmark = pytest.mark.django_db


def _types() -> list[CertificationType]:
    return [cert_type("peer_mentor_basic"), cert_type("peer_mentor_advanced")]


def test_random_writes_job_runs_and_folds_keep_every_total_exact():
    rng = random.Random(16)
    types = _types()
    now = NOW
    for step in range(150):
        random_write(rng, now=now, types=types)
        if step % 30 == 29:
            # The job marks what reached its expiry (step 1, set-based) and flags what lapsed.
            now += dt.timedelta(days=rng.randint(20, 120))
            expiry_job_run(now=now, batch_size=7)
        if step % 40 == 39:
            tallies_fold()
        if step % 50 == 49:
            assert_totals_match(rng, types=types, now=now)
    assert Certification.objects.filter(status=CertificationStatus.EXPIRED).exists()
    assert Certification.objects.filter(deleted_at__isnull=False).exists()
    assert_totals_match(rng, types=types, now=now)


def test_the_fold_keeps_one_row_per_key_and_the_same_sums():
    rng = random.Random(7)
    types = _types()
    for _ in range(60):
        random_write(rng, now=NOW, types=types)
    before, mentors_before = tallied(), mentor_totals()
    rows = CertificationTally.objects.count() + MentorTally.objects.count()
    removed = tallies_fold()
    assert removed > 0
    assert CertificationTally.objects.count() + MentorTally.objects.count() == rows - removed
    keys = CertificationTally.objects.values_list("span", "certification_type_id", "deleted", "expires_on")
    assert len(set(keys)) == len(keys)
    groups = MentorTally.objects.values_list("status", "paused_by")
    assert len(set(groups)) == len(groups) and MentorTally.objects.filter(mentors=0).count() == 0
    assert tallied() == before == counted()
    assert mentor_totals() == mentors_before == mentors_counted()
    assert tallies_fold() == 0


def test_rebuild_recounts_what_a_bulk_load_wrote_behind_the_services():
    rng = random.Random(3)
    types = _types()
    for _ in range(30):
        random_write(rng, now=NOW, types=types)
    Certification.objects.filter(status=CertificationStatus.VALID).update(status=CertificationStatus.EXPIRED)
    MentorFactory.create_batch(3)  # as a bulk load writes mentors, behind the services
    assert tallied() != counted() and mentor_totals() != mentors_counted()
    tallies_rebuild()
    assert tallied() == counted()
    assert mentor_totals() == mentors_counted()


def test_a_range_inside_one_day_and_on_day_boundaries_is_exact():
    rng = random.Random(5)
    types = _types()
    for _ in range(80):
        random_write(rng, now=NOW, types=types)
    for cert in Certification.objects.all()[:20]:
        day = cert.expires_at.replace(hour=0, minute=0, second=0, microsecond=0)
        for low, high in (
            (day, day + dt.timedelta(days=1)),
            (cert.expires_at, cert.expires_at + dt.timedelta(seconds=1)),
            (day + dt.timedelta(hours=1), day + dt.timedelta(days=2, hours=3)),
        ):
            real = Certification.objects.alive().filter(expires_at__gte=low, expires_at__lt=high).count()
            assert certification_total(expires_from=low, expires_before=high) == real


def test_an_empty_range_and_no_status_count_nothing():
    assert CertificationCount(expires_from=NOW, expires_before=NOW).total() == 0
    assert CertificationCount(statuses=[]).total() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_job_and_folds_keep_every_total_exact():
    """Writers in four threads (their own connections), the job and folds at once: nothing lost or counted twice."""
    types = _types()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(60):
                random_write(rng, now=NOW, types=types)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    def folder() -> None:
        try:
            for _ in range(15):
                tallies_fold()
            expiry_job_run(now=NOW + dt.timedelta(days=90), batch_size=5)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    threads.append(threading.Thread(target=folder))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Certification.objects.count() > 50
    assert tallied() == counted()
    tallies_fold()
    assert_totals_match(random.Random(1), types=types, now=NOW)
