"""Loading a certification for a write: found, locked and read in as few statements as the row allows.

A write takes the record as a model instance (the admin, an import, the
expiry job's callers hold one) or as its ``certification_id`` (the API's paths
name it): either way the row is read once, under its lock, inside the write's
transaction; an id that names no live record is a 404.
"""

from __future__ import annotations

from certhub.errors import NotFound
from certifications.models import Certification

RELATIONS = ("mentor", "certification_type")


def certification_locked(certification: Certification | str) -> Certification:
    """The record read afresh under a row lock, with its mentor and type.

    The lock of a record handed in reads the record alone, without a join:
    PostgreSQL re-checks a locked row that changed while it waited against the
    joined rows it had read before, so a concurrent change of the record's type
    would have left no row at all. The mentor and type the caller loaded with
    ``certification`` (the API's lookup joins them) are kept while the record
    still points at them; otherwise they are read with the record once more.
    Neither is locked: the mentor is locked afterwards by auto-resume, in the
    job's order (record, then mentor), and locking the type would serialize
    every write of that type.
    """
    if isinstance(certification, str):
        return _locked_by_id(certification)
    cert = Certification.objects.select_for_update().get(pk=certification.pk)
    relations = (Certification.mentor.field, Certification.certification_type.field)
    if not all(
        field.is_cached(certification) and getattr(certification, field.attname) == getattr(cert, field.attname)
        for field in relations
    ):
        return Certification.objects.select_related(*RELATIONS).get(pk=certification.pk)
    for field in relations:
        field.set_cached_value(cert, field.get_cached_value(certification))
    return cert


def _locked_by_id(certification_id: str) -> Certification:
    """The live record ``certification_id`` names, locked and read with its mentor and type; else a 404.

    One statement joins the relations and locks the record alone (``OF self``).
    When the record's mentor or type changed while the lock waited, the join's
    re-check drops the row (see ``certification_locked``): the record is then
    locked alone and read once more with its relations as they now are. A record
    deleted before the lock was granted is a 404, as one deleted before the request.
    """
    joined = Certification.objects.select_related(*RELATIONS).select_for_update(of=("self",))
    cert = next(iter(joined.filter(certification_id=certification_id)), None)
    if cert is None:
        locked = Certification.objects.select_for_update().filter(certification_id=certification_id)
        pk = locked.values_list("pk", flat=True).first()
        cert = Certification.objects.select_related(*RELATIONS).get(pk=pk) if pk is not None else None
    if cert is None or cert.deleted_at is not None:
        raise NotFound("Not found.")
    return cert
