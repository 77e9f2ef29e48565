"""The expiry job under concurrency, on real PostgreSQL.

- Several threads (each with its own database connection) trigger the job at once:
  exactly one applies, the others are refused with ``JobAlreadyRunning``.
- A real ``manage.py run_expiry_job`` process killed in its k-th batch leaves
  batches 1..k-1 applied and the rest untouched; its lock frees itself after
  the lease and the next run finishes the work.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from certhub.errors import JobAlreadyRunning
from certhub.sql import dialect
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    ExpiryJobRun,
    JobLock,
    JobState,
    LogEvent,
    Mentor,
    MentorStatus,
)
from certifications.services import certification_update, expiry_job_run
from certifications.services.lapse import LOCK_NAME
from tests.celery_worker import database_url
from tests.factories import TEST_ACTOR, CertificationFactory, cert_type

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def make_lapsed(count: int) -> list[Certification]:
    """``count`` expired records, each held by its own active mentor, in primary-key order."""
    certs = [
        CertificationFactory(
            certification_type=cert_type("peer_mentor_basic"),
            issued_at=dt.datetime(2023, 3, 1, tzinfo=UTC),
            expires_at=dt.datetime(2026, 3, 1, tzinfo=UTC),
            status=CertificationStatus.EXPIRED,
        )
        for _ in range(count)
    ]
    return sorted(certs, key=lambda cert: cert.pk)


def wait_until_blocked(thread: threading.Thread, outcome: dict, *, timeout: float = 30) -> None:
    """Return once some session waits for a lock (``thread``'s, the only other one), failing if it ends first."""
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
        assert thread.is_alive() and time.monotonic() < deadline, outcome
        time.sleep(0.05)


def assert_one_pause_log_per_record() -> None:
    per_record = list(AutoPauseLog.objects.filter(event=LogEvent.AUTO_PAUSE).values_list("certification_id", flat=True))
    assert len(per_record) == len(set(per_record)), "duplicate auto_pause log rows"


def test_concurrent_triggers_apply_exactly_once():
    threads_count = 6
    certs = make_lapsed(4)
    barrier = threading.Barrier(threads_count)
    results: dict[int, object] = {}
    done = threading.Semaphore(0)

    def trigger(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = expiry_job_run(now=NOW)
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()  # this thread's own connection
            done.release()

    # Hold a row lock that step 1 of the job (marking expired) must wait for, so
    # the run that takes the lock stays in progress while the others try theirs.
    blocker = CertificationFactory(
        certification_type=cert_type("peer_mentor_advanced"),
        issued_at=dt.datetime(2023, 3, 1, tzinfo=UTC),
        expires_at=dt.datetime(2026, 3, 1, tzinfo=UTC),
    )
    threads = [threading.Thread(target=trigger, args=(index,)) for index in range(threads_count)]
    with transaction.atomic():
        Certification.objects.select_for_update().get(pk=blocker.pk)
        for thread in threads:
            thread.start()
        for _ in range(threads_count - 1):
            assert done.acquire(timeout=30), "a trigger neither ran nor was refused"
        refused = [result for result in results.values() if isinstance(result, JobAlreadyRunning)]
        assert len(refused) == threads_count - 1, results
    for thread in threads:
        thread.join(timeout=30)

    [winner] = [result for result in results.values() if isinstance(result, ExpiryJobRun)]
    assert winner.state == JobState.SUCCEEDED
    assert (winner.expired_found, winner.auto_paused, winner.marked_expired) == (5, 5, 1)
    assert {exc.extra["job_run_id"] for exc in refused} == {winner.job_run_id}
    assert list(ExpiryJobRun.objects.values_list("job_run_id", flat=True)) == [winner.job_run_id]
    assert AutoPauseLog.objects.count() == 5
    assert_one_pause_log_per_record()
    assert Mentor.objects.filter(status=MentorStatus.PAUSED).count() == 5
    assert all(Certification.objects.get(pk=cert.pk).auto_pause_applied for cert in certs)
    assert JobLock.objects.get(name=LOCK_NAME).holder == ""


def test_concurrent_api_triggers_get_one_200_and_409s(api_client):
    from rest_framework.test import APIClient

    make_lapsed(3)
    token = api_client._credentials["HTTP_AUTHORIZATION"]
    threads_count = 4
    barrier = threading.Barrier(threads_count)
    statuses: list[tuple[int, dict]] = []
    blocker = CertificationFactory(expires_at=dt.datetime(2026, 3, 1, tzinfo=UTC))

    def trigger() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        try:
            barrier.wait(timeout=10)
            response = client.post("/api/v1/certifications/expiry-job/run")
            statuses.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=trigger) for _ in range(threads_count)]
    with transaction.atomic():
        Certification.objects.select_for_update().get(pk=blocker.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(statuses) < threads_count - 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=30)

    codes = sorted(code for code, _ in statuses)
    assert codes == [200] + [409] * (threads_count - 1), statuses
    [winner] = [body for code, body in statuses if code == 200]
    for code, body in statuses:
        if code == 409:
            assert body["error"]["code"] == "job_already_running"
            assert body["error"]["job_run_id"] == winner["job_run_id"]
    assert winner["auto_paused"] == 4
    assert AutoPauseLog.objects.count() == 4
    assert_one_pause_log_per_record()


def test_a_run_killed_in_its_kth_batch_leaves_earlier_batches_applied_and_the_next_run_finishes(tmp_path):
    batch_size, lease_seconds, k = 2, 4, 2
    certs = make_lapsed(6)  # three batches of two
    applied_before_k = certs[: (k - 1) * batch_size]
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CERTHUB_VAR_DIR": str(tmp_path),
        "EXPIRY_JOB_BATCH_SIZE": str(batch_size),
        "EXPIRY_JOB_LOCK_TTL_SECONDS": str(lease_seconds),
        "PGAPPNAME": "certhub-killed-run",
    }
    env.pop("REDIS_URL", None)
    with transaction.atomic():
        # Batch k cannot lock its first record while this transaction holds it.
        Certification.objects.select_for_update().get(pk=certs[(k - 1) * batch_size].pk)
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_expiry_job"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                    waiting = cursor.fetchone()[0]
                applied = Certification.objects.filter(auto_pause_applied=True).count()
                if waiting and applied == len(applied_before_k):
                    break
                assert process.poll() is None, process.stdout.read().decode()
                time.sleep(0.05)
            else:
                pytest.fail("the run never reached its k-th batch")
            killed_at = timezone.now()
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()
    # The killed client's server session may still wait on the row lock; end it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'certhub-killed-run'"
        )

    killed = ExpiryJobRun.objects.get()
    assert killed.state == JobState.RUNNING  # it never got to record its end
    flagged = set(Certification.objects.filter(auto_pause_applied=True).values_list("pk", flat=True))
    assert flagged == {cert.pk for cert in applied_before_k}
    assert set(AutoPauseLog.objects.values_list("certification_id", "job_run_id")) == {
        (cert.pk, killed.pk) for cert in applied_before_k
    }
    assert set(Mentor.objects.filter(status=MentorStatus.PAUSED).values_list("pk", flat=True)) == {
        cert.mentor_id for cert in applied_before_k
    }

    # The dead run's lease is bounded: it ends at most lease_seconds after the kill.
    lock = JobLock.objects.get(name=LOCK_NAME)
    assert lock.holder == killed.job_run_id
    assert lock.lease_until <= killed_at + dt.timedelta(seconds=lease_seconds)
    if lock.lease_until > timezone.now() + dt.timedelta(seconds=1):
        with pytest.raises(JobAlreadyRunning):
            expiry_job_run(now=timezone.now())
    while timezone.now() <= lock.lease_until:
        time.sleep(0.1)

    run = expiry_job_run(now=timezone.now())
    assert run.state == JobState.SUCCEEDED
    assert (run.expired_found, run.auto_paused, run.failures) == (4, 4, [])
    assert Certification.objects.filter(auto_pause_applied=True).count() == 6
    assert AutoPauseLog.objects.count() == 6
    assert_one_pause_log_per_record()
    killed.refresh_from_db()
    assert killed.state == JobState.FAILED and "stopped" in killed.error
    assert JobLock.objects.get(name=LOCK_NAME).holder == ""


def test_a_renewal_committed_while_a_batch_waits_for_its_mentor_is_honoured():
    """The batch re-reads the due records after locking their mentors: no pause for a renewed mentor."""
    from certifications.services import certification_create

    [old] = make_lapsed(1)
    outcome: dict[str, object] = {}

    def run_job() -> None:
        try:
            outcome["run"] = expiry_job_run(now=NOW)
        except Exception as exc:
            outcome["run"] = exc
        finally:
            connections.close_all()

    job = threading.Thread(target=run_job)
    with transaction.atomic():
        # A renewal in progress: the new record is written and the mentor row is locked
        # (auto-resume runs inside the write), but nothing is committed yet.
        certification_create(
            by=TEST_ACTOR,
            mentor_id=old.mentor.mentor_id,
            certification_type="peer_mentor_basic",
            issued_at=dt.datetime(2026, 3, 20, tzinfo=UTC),
            now=NOW,
        )
        job.start()
        wait_until_blocked(job, outcome)  # the job's batch waits for the mentor row
    job.join(timeout=30)

    run = outcome["run"]
    assert isinstance(run, ExpiryJobRun), run
    # Listed as due before the renewal committed, then skipped under the lock.
    assert (run.expired_found, run.auto_paused, run.failures) == (1, 0, [])
    old.refresh_from_db()
    assert old.auto_pause_applied is False
    assert Mentor.objects.get(pk=old.mentor_id).status == MentorStatus.ACTIVE
    assert not AutoPauseLog.objects.exists()


@pytest.mark.parametrize("by_id", [False, True], ids=["record", "certification_id"])
def test_a_write_that_waits_for_a_record_whose_type_changes_meanwhile_applies_to_it_as_changed(by_id):
    """The write finds the row it waited for and sees the new type.

    Handed the record, the lock is taken without joining its type; handed the id (as
    the API does), the joined lock loses the row to the re-check and locks it alone.
    """
    cert = CertificationFactory(certification_type=cert_type("peer_mentor_basic"))
    outcome: dict[str, object] = {}

    def renew() -> None:
        try:
            outcome["result"] = certification_update(
                certification=cert.certification_id if by_id else cert,
                changes={"expires_at": dt.datetime(2029, 6, 15, tzinfo=UTC)},
                now=NOW,
                by=TEST_ACTOR,
            )
        except Exception as exc:
            outcome["result"] = exc
        finally:
            connections.close_all()

    writer = threading.Thread(target=renew)
    with transaction.atomic():
        # Another write changes the record's type and holds its row lock until it commits.
        Certification.objects.filter(pk=cert.pk).update(certification_type=cert_type("peer_mentor_advanced"))
        writer.start()
        wait_until_blocked(writer, outcome)  # the renewal waits for the record's row
    writer.join(timeout=30)

    result = outcome["result"]
    assert not isinstance(result, Exception), repr(result)
    cert.refresh_from_db()
    assert cert.certification_type.code == "peer_mentor_advanced"
    assert cert.expires_at == dt.datetime(2029, 6, 15, tzinfo=UTC)
    assert result.certification.certification_type.code == "peer_mentor_advanced"


def test_a_chunked_listing_leaves_out_a_record_changed_before_its_chunk_is_fetched():
    # Step 1 lists the records it marks in chunks from a server-side cursor: a
    # record changed by another transaction after the listing started, before
    # its chunk was fetched, is checked again then and left out.
    keys = sorted(cert.pk for cert in [CertificationFactory() for _ in range(6)])
    live = Certification.objects.filter(status=CertificationStatus.VALID)
    seen = []

    def expire_the_last() -> None:
        try:
            Certification.objects.filter(pk=keys[-1]).update(status=CertificationStatus.EXPIRED)
        finally:
            connections.close_all()

    with transaction.atomic():
        chunks = dialect().listed_pk_chunks(live.select_for_update(), size=2)
        seen += next(chunks)
        elsewhere = threading.Thread(target=expire_the_last)
        elsewhere.start()
        elsewhere.join(30)
        for chunk in chunks:
            seen += chunk
    assert Certification.objects.get(pk=keys[-1]).status == CertificationStatus.EXPIRED
    assert seen == keys[:-1]
