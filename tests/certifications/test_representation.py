"""A certification's representation is said once (``certifications.representation``) and every output follows it."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications import representation
from certifications.api.serializers import CertificationSerializer, ExpiryJobRunResultSerializer
from certifications.bulk.export import HEADER, export_rows
from certifications.history.models import Subject
from certifications.history.record import TRACKED, snapshot
from certifications.models import Certification, CertificationStatus, ExpiryJobRun
from certifications.tasks import summary
from tests.factories import CertificationFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
OUTPUTS = {
    "api": representation.API,
    "event": representation.EVENT,
    "expired event": representation.EXPIRED_EVENT,
    "export": representation.EXPORT,
    "history": representation.HISTORY,
}


def test_every_model_field_is_in_the_specification_or_said_not_represented():
    """A field added to ``Certification`` fails here until the specification (or ``NOT_REPRESENTED``) names it."""
    read = {field.path.split("__")[0] for field in representation.FIELDS}
    for field in Certification._meta.concrete_fields:
        assert (field.name in read) != (field.name in representation.NOT_REPRESENTED), field.name
    assert set(representation.NOT_REPRESENTED) <= {field.name for field in Certification._meta.concrete_fields}


def test_every_output_names_fields_of_the_specification_and_every_field_is_shown():
    for output, names in OUTPUTS.items():
        assert set(names) <= set(representation.SPEC), output
        assert len(set(names)) == len(names), output
    assert set().union(*OUTPUTS.values()) == set(representation.SPEC)


def test_the_outputs_are_spelled_from_the_specification():
    assert tuple(CertificationSerializer().fields) == representation.API
    assert HEADER == (
        "certification_id",
        "mentor_id",
        "certification_type",
        "issued_at",
        "expires_at",
        "mentor_name",
        "mentor_email",
        "action",
        "revocation_reason",
        "status",
    )
    attributes = tuple(representation.SPEC[name].attribute for name in representation.HISTORY)
    assert TRACKED[Subject.CERTIFICATION] == attributes


@pytest.mark.django_db
def test_a_record_reads_the_same_loaded_or_fetched_as_rows():
    cert = CertificationFactory(status=CertificationStatus.REVOKED, revoked_at=NOW, revocation_reason="")
    for names in OUTPUTS.values():
        row = Certification.objects.filter(pk=cert.pk).values_list(*representation.columns(names)).get()
        assert representation.read(cert, names) == row
    assert snapshot(cert) == {name: getattr(cert, name) for name in TRACKED[Subject.CERTIFICATION]}


@pytest.mark.django_db
def test_the_api_shows_a_reason_only_on_a_revoked_record_and_the_export_an_empty_cell():
    cert = CertificationFactory(revoked_at=NOW, revocation_reason="Withdrawn")  # revoked once, restored to valid
    row = representation.api_representation(representation.read(cert, representation.API))
    assert (row["status"], row["revoked_at"], row["revocation_reason"]) == ("valid", None, None)
    header, cells = list(export_rows(Certification.objects.filter(pk=cert.pk)))
    assert dict(zip(header, cells, strict=True))["revocation_reason"] == ""
    assert dict(zip(header, cells, strict=True))["action"] == "upsert"


def test_the_run_counters_are_said_once():
    run = ExpiryJobRun(
        job_run_id="job_26MAR2026_01", mentors_scanned=4, expired_found=3, auto_paused=2, marked_expired=1
    )
    counters = {"mentors_scanned": 4, "expired_found": 3, "auto_paused": 2, "marked_expired": 1}
    assert representation.run_counters(run) == counters
    assert set(representation.RUN_COUNTERS) <= set(ExpiryJobRunResultSerializer().fields)
    assert {name: summary(run)[name] for name in representation.RUN_COUNTERS} == counters
