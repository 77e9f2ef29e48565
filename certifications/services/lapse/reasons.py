"""Why a mentor was paused or resumed: the texts of the auto-pause log and of ``Mentor.pause_reason``.

The pause reason is a Django expression, computed by the database, so the
preview, both batch engines and the benchmarks annotate their queries with the
one definition of the text. The resume reason is built in Python from the
record a write changed and the write's kind.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, CharField, F, Func, Value, When
from django.db.models.functions import Concat

from certifications.changes import CertificationChange
from certifications.models import Certification, CertificationStatus


class UTCDay(Func):
    """A timestamp's UTC day as ``YYYY-MM-DD`` text, computed by the database."""

    output_field = CharField()
    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD')"

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores SQLite timestamps as UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 10)", **extra_context)


def pause_reason() -> Concat:
    """A certification row's auto-pause reason, as an expression to annotate a certification query with.

    ``Certification <type> expired on <date>``, or ``revoked on <date>`` for a
    revoked record; dates are UTC days. The one definition of the text: the
    preview, the job's batches and their log rows all read it from here.
    """
    return Concat(
        Value("Certification "),
        F("certification_type__code"),
        Case(
            When(
                status=CertificationStatus.REVOKED,
                revoked_at__isnull=False,
                then=Concat(Value(" revoked on "), UTCDay("revoked_at")),
            ),
            default=Concat(Value(" expired on "), UTCDay("expires_at")),
            output_field=CharField(),
        ),
        output_field=CharField(),
    )


def resume_reason(cause: Certification, *, change: CertificationChange) -> str:
    """Why a write resumed a mentor, named after the record it wrote and the write's kind.

    A renewal, or a new current record of the type, says until when it is
    valid; a soft delete says when; any other kind of write, only that
    nothing is lapsed any more.
    """
    code = cause.certification_type.code
    if change == CertificationChange.DELETED:
        deleted_on = cause.deleted_at.astimezone(dt.UTC)
        return f"Certification {code} record {cause.certification_id} deleted on {deleted_on:%Y-%m-%d}"
    current = cause.status == CertificationStatus.VALID
    if change in (CertificationChange.RENEWED, CertificationChange.CREATED) and current:
        return f"Certification {code} renewed until {cause.expires_at.astimezone(dt.UTC):%Y-%m-%d}"
    return f"Certification {code} no longer lapsed"
