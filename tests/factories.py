"""factory_boy factories for the domain models."""

from __future__ import annotations

import datetime as dt

import factory

from certhub.ids import new_id
from certifications.history import Actor, Source
from certifications.models import Certification, CertificationStatus, CertificationType, Mentor
from certifications.services.effects import certification_snapshot
from certifications.totals.tallies import tally_certification_written

UTC = dt.UTC


def cert_type(code: str = "peer_mentor_basic") -> CertificationType:
    """One of the seeded types (the data migration made them)."""
    return CertificationType.objects.get(code=code)


class MentorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mentor

    mentor_id = factory.LazyFunction(lambda: new_id("mntr_", 10))
    name = factory.Faker("name")
    email = factory.Faker("email")


class CertificationFactory(factory.django.DjangoModelFactory):
    """A valid basic certification issued 2024-06-15, expiring 2027-06-15."""

    class Meta:
        model = Certification

    certification_id = factory.LazyFunction(lambda: new_id("cert_"))
    mentor = factory.SubFactory(MentorFactory)
    certification_type = factory.LazyFunction(cert_type)
    issued_at = dt.datetime(2024, 6, 15, tzinfo=UTC)
    expires_at = dt.datetime(2027, 6, 15, tzinfo=UTC)
    status = CertificationStatus.VALID

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Inserted directly, so the maintained totals are told here, as the services tell them."""
        cert = super()._create(model_class, *args, **kwargs)
        tally_certification_written(before=None, after=certification_snapshot(cert))
        return cert


# Who the tests' direct service calls write as (the entry points pass their own actor).
TEST_ACTOR = Actor(source=Source.CLI, reason="test")
