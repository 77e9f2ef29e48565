"""The demo data set (``certifications.demo``) and ``manage.py seed_demo``: deterministic, streamed, consistent."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import re

import pytest
from django.core.management import CommandError, call_command

from certifications.demo.dataset import DatasetStream, build
from certifications.demo.ids import IntSet
from certifications.demo.layout import SeedSpec
from certifications.demo.loader import seed
from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, Mentor, MentorStatus, PausedBy
from certifications.services import expiry_job_run

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
NOW_ARG = "2026-03-26T01:00:00Z"

pytestmark = pytest.mark.django_db


def seed_command(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--no-progress", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_seed_makes_exactly_the_requested_due_records_and_a_consistent_history():
    seed_command("--certs", "600", "--due", "11", "--seed", "5", "--now", NOW_ARG)

    assert Certification.objects.count() == 600
    assert Certification.objects.due(now=NOW).count() == 11
    types = set(Certification.objects.values_list("certification_type__code", flat=True))
    assert types == {"peer_mentor_basic", "peer_mentor_advanced"}
    statuses = set(Certification.objects.values_list("status", flat=True))
    assert statuses == {"valid", "expired", "revoked"}
    # Every applied record is lapsed and has its log row; every auto-paused mentor holds a lapsed record.
    applied = Certification.objects.filter(auto_pause_applied=True)
    assert applied.exists()
    assert applied.count() == Certification.objects.lapsed(now=NOW).filter(auto_pause_applied=True).count()
    assert AutoPauseLog.objects.count() == applied.count()
    assert set(AutoPauseLog.objects.values_list("certification_id", flat=True)) == set(
        applied.values_list("pk", flat=True)
    )
    lapsed_mentors = set(Certification.objects.lapsed(now=NOW).values_list("mentor_id", flat=True))
    auto_paused = set(
        Mentor.objects.filter(status=MentorStatus.PAUSED, paused_by=PausedBy.AUTO).values_list("pk", flat=True)
    )
    assert auto_paused and auto_paused <= lapsed_mentors
    # Renewed records: superseded by a current record of the same type, never due.
    superseded = (
        Certification.objects.alive()
        .filter(expires_at__lte=NOW)
        .exclude(pk__in=Certification.objects.lapsed(now=NOW).values("pk"))
    )
    assert superseded.count() > 50
    assert ExpiryJobRun.objects.filter(state="succeeded").exists()


def test_seeded_ids_follow_the_formats_and_are_unique():
    seed_command("--certs", "400", "--due", "4", "--now", NOW_ARG)

    cert_ids = list(Certification.objects.values_list("certification_id", flat=True))
    log_ids = list(AutoPauseLog.objects.values_list("log_id", flat=True))
    mentor_ids = list(Mentor.objects.values_list("mentor_id", flat=True))
    assert all(re.fullmatch(r"cert_[0-9A-HJKMNP-TV-Z]{8}", value) for value in cert_ids)
    assert all(re.fullmatch(r"log_[0-9A-HJKMNP-TV-Z]{8}", value) for value in log_ids)
    assert all(re.fullmatch(r"mntr_[0-9A-HJKMNP-TV-Z]{10}", value) for value in mentor_ids)
    assert len(set(cert_ids)) == len(cert_ids)


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows():
    spec = SeedSpec(certs=300, due=7, seed=42, now=NOW)
    first, again = build(spec), build(spec)
    other = build(SeedSpec(certs=300, due=7, seed=43, now=NOW))

    assert first.certifications == again.certifications
    assert first.mentors == again.mentors
    assert first.logs == again.logs
    assert first.certifications != other.certifications


def test_the_job_on_a_seeded_set_applies_exactly_the_due_records_then_nothing():
    data = seed(SeedSpec(certs=500, due=9, seed=3, now=NOW))

    run = expiry_job_run(now=NOW, trigger="cli")

    assert run.expired_found == 9 == data.expected_due
    assert run.auto_paused == data.expected_auto_paused
    assert run.marked_expired == data.expected_marked_expired
    assert run.mentors_scanned == data.expected_mentors_scanned
    assert Certification.objects.due(now=NOW).count() == 0
    assert expiry_job_run(now=NOW, trigger="cli").expired_found == 0


def test_no_arguments_make_the_small_demo_set():
    out = seed_command()

    assert Certification.objects.count() == 300
    assert "300 certifications" in out


def test_the_demo_runs_are_readable_through_the_api(anon_client):
    seed_command()

    assert ExpiryJobRun.objects.exists()
    assert all(failures == [] for failures in ExpiryJobRun.objects.values_list("failures", flat=True))
    response = anon_client.get("/api/v1/certifications/expiry-job/runs")
    assert response.status_code == 200
    assert response.json()["data"][0]["failures"] == []


def test_if_empty_seeds_an_empty_database_and_leaves_one_with_data_alone():
    seed_command("--if-empty", "--certs", "200", "--due", "3")
    assert Certification.objects.count() == 200
    before = set(Certification.objects.values_list("certification_id", flat=True))

    out = seed_command("--if-empty", "--certs", "900")

    assert "nothing seeded" in out
    assert set(Certification.objects.values_list("certification_id", flat=True)) == before


def test_a_database_with_data_is_refused_unless_flushed():
    seed_command("--certs", "200", "--due", "2", "--seed", "1")
    before = set(Certification.objects.values_list("certification_id", flat=True))

    with pytest.raises(CommandError, match="--flush"):
        seed_command("--certs", "200", "--due", "2", "--seed", "2")
    assert set(Certification.objects.values_list("certification_id", flat=True)) == before

    seed_command("--certs", "250", "--due", "2", "--seed", "2", "--flush")
    assert Certification.objects.count() == 250
    assert not before & set(Certification.objects.values_list("certification_id", flat=True))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--certs", "10", "--due", "11"], "--due cannot exceed"),
        (["--certs", "10", "--mentors", "50"], "Cannot lay out"),
        (["--certs", "0"], "at least 1"),
        (["--now", "yesterday"], "--now"),
    ],
)
def test_impossible_sizes_are_refused_and_write_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        seed_command(*args)
    assert not Mentor.objects.exists()
    assert not Certification.objects.exists()


# --- Streaming: the same rows as the whole build made, in bounded memory ----------------------------------

# SHA-256 of the rows (``repr`` of each tuple, one a line) that the in-memory builder
# made before the data set was streamed, with the counters it expected.
BEFORE_STREAMING = {
    (300, 7, 42, None, 7): {
        "digests": {
            "mentors": "5bcbea509750b51a462bae91691d8b8a80b536f053aa1c4d2144b3501a142749",
            "certifications": "f49091ecc385ed7ed10980837ac569c9fc5a5d581d596d2c94552cf4420e78ba",
            "runs": "b9c3da4a6d80a5f87617c90519674a9fa52def3029773fc057e93dfde81edb9c",
            "logs": "1c8e439ee18245b981345abf27402cc1aa392e6613a5edf2122859516bec4ef8",
        },
        "expected": (7, 5, 5, 120),  # due, marked expired, auto-paused, mentors scanned
        "counts": (120, 300, 1446, 49),  # mentors, certifications, runs, logs
    },
    (2000, 40, 9, 600, 3): {
        "digests": {
            "mentors": "682861705b878e1411c3e4a22022582cf7551046ed40f4b30b875700043b183c",
            "certifications": "fb8efc354cb960a2ad4a9221aa55ff5c9963d0876e36d49bc2a64adf5d906851",
            "runs": "f7b0322d88f48ea85d14f238146cc52a2bdaad6719ffc06865712e38cff908bd",
            "logs": "d229b907b00349684d81eca47b442471b7d9afd9bcab11bc91160140defd775d",
        },
        "expected": (40, 23, 27, 600),
        "counts": (600, 2000, 1480, 287),
    },
}


def _digest(rows: list[tuple]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(row).encode() + b"\n")
    return digest.hexdigest()


def _spec(key: tuple) -> SeedSpec:
    certs, due, seed_, mentors, window = key
    return SeedSpec(certs=certs, due=due, seed=seed_, now=NOW, mentors=mentors, window_days=window)


@pytest.mark.parametrize("key", list(BEFORE_STREAMING))
@pytest.mark.parametrize("chunk", [7, 20_000])
def test_a_streamed_data_set_has_exactly_the_rows_and_counters_of_the_whole_build_before_it(key, chunk):
    stream = DatasetStream(_spec(key), chunk=chunk)
    rows: dict[str, list[tuple]] = {"mentors": [], "certifications": [], "runs": [], "logs": []}
    handed_out = []
    for table, part in stream:
        handed_out.append(table)
        rows[table].extend(part)
    if chunk == 7:  # about 7 records a chunk: handed out in many parts
        assert handed_out.count("certifications") > 30 and handed_out.count("logs") > 5

    assert {table: _digest(each) for table, each in rows.items()} == BEFORE_STREAMING[key]["digests"]
    summary = stream.summary
    expected = (
        summary.expected_due,
        summary.expected_marked_expired,
        summary.expected_auto_paused,
        summary.expected_mentors_scanned,
    )
    assert expected == BEFORE_STREAMING[key]["expected"]
    counts = (summary.mentor_count, summary.certification_count, summary.run_count, summary.log_count)
    assert counts == BEFORE_STREAMING[key]["counts"]


def test_seeding_streams_chunks_into_the_database_and_writes_the_rows_of_the_whole_build():
    spec = SeedSpec(certs=600, due=11, seed=5, now=NOW)
    whole = build(spec)

    summary = seed(spec, chunk=50)

    assert summary.expected_due == whole.expected_due == 11
    assert summary.certification_count == 600 and summary.mentor_count == len(whole.mentors)
    assert summary.log_count == len(whole.logs) and summary.run_count == len(whole.runs)
    assert list(Certification.objects.order_by("pk").values_list("pk", "certification_id", "mentor_id", "status")) == [
        (row[0], row[1], row[2], row[6]) for row in whole.certifications
    ]
    assert list(Mentor.objects.order_by("pk").values_list("pk", "mentor_id", "status")) == [
        (row[0], row[1], row[4]) for row in whole.mentors
    ]
    assert list(AutoPauseLog.objects.order_by("pk").values_list("pk", "log_id", "certification_id", "job_run_id")) == [
        (row[0], row[1], row[3], row[4]) for row in whole.logs
    ]
    assert Certification.objects.due(now=NOW).count() == 11


def test_the_compact_id_set_finds_every_repeat_across_growth():
    rng = random.Random(3)
    values = [rng.getrandbits(40) for _ in range(5000)]
    seen = IntSet()

    assert all(seen.add(value) for value in values)
    assert not any(seen.add(value) for value in values[::7])
    assert seen.size == 5000 and len(seen.table) >= 5000 * 4 // 3
