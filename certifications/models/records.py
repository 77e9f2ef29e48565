"""Certification records and their reads: the lifecycle a record is in at a moment, lapsed and due.

The lifecycle is derived, never stored: ``lifecycle_state`` is one database
expression and ``lifecycle_condition`` the same partition as plain filters.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Case, Exists, F, Func, OuterRef, Q, Value, When
from django.db.models.lookups import Exact, GreaterThan
from django.utils import timezone

from certifications.models.mentors import Mentor
from certifications.models.types import CertificationType


class CertificationStatus(models.TextChoices):
    VALID = "valid", "Valid"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


LIVE = Q(deleted_at__isnull=True)


class DaysAfter(Func):
    """A timestamp plus a whole number of days, both expressions, computed by the database."""

    arity = 2
    output_field = models.DateTimeField()
    template = "(%(expressions)s)"
    arg_joiner = " + INTERVAL '1 day' * "

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores SQLite timestamps as UTC text; datetime() answers in the same form.
        return self.as_sql(
            compiler,
            connection,
            template="datetime(%(expressions)s || ' days')",
            arg_joiner=", '+' || ",
            **extra_context,
        )


def grace_ends_at() -> DaysAfter:
    """When a record's grace ends: ``expires_at`` plus its type's ``grace_days``."""
    return DaysAfter(F("expires_at"), F("certification_type__grace_days"))


def renewal_exists(*, now: dt.datetime) -> Exists:
    """True for a record whose mentor holds a current record of the same type (a renewal covers it)."""
    return Exists(
        Certification.objects.current(now=now).filter(
            mentor_id=OuterRef("mentor_id"), certification_type_id=OuterRef("certification_type_id")
        )
    )


class Lifecycle(models.TextChoices):
    """Where a record stands at a moment (derived, never stored); the first that applies wins."""

    SUPERSEDED = "superseded", "Superseded (a newer record of the type is current)"
    REVOKED = "revoked", "Revoked"
    LAPSED = "lapsed", "Lapsed (expired, grace over)"
    GRACE = "grace", "In grace (expired, grace not over)"
    RENEWAL_DUE = "renewal_due", "Renewal due (within the renewal window)"
    ACTIVE = "active", "Active"


def newer_current_exists(*, now: dt.datetime) -> Exists:
    """True for a record whose mentor holds a current record of the same type issued after it."""
    return Exists(
        Certification.objects.current(now=now).filter(
            mentor_id=OuterRef("mentor_id"),
            certification_type_id=OuterRef("certification_type_id"),
            issued_at__gt=OuterRef("issued_at"),
        )
    )


def renewal_window_opens(*, now: dt.datetime) -> DaysAfter:
    """``now`` plus the record's type's ``renewal_window_days``: a current record expiring by then is renewal due."""
    return DaysAfter(Value(now, output_field=models.DateTimeField()), F("certification_type__renewal_window_days"))


def lifecycle_condition(value: str, *, now: dt.datetime) -> Q:
    """The records whose ``lifecycle_state`` is ``value``, as a plain condition the planner can estimate.

    The same partition as ``lifecycle_state`` (each state excludes the ones
    before it), spelt out so that a filter on one state neither computes the
    whole ``CASE`` for every row nor hides its selectivity from the planner.
    Each state past *superseded* is written with the one ``NOT EXISTS`` it
    needs, which PostgreSQL runs as an anti-join probing the current-record
    index row by row: a record that is not current is superseded exactly when
    some current record of its type covers it (a newer current one is such a
    record), and a current record exactly when a newer current one exists.
    Needs the aliases ``grace_ends_at`` and ``window_opens`` (``in_lifecycle``).
    """
    current = Q(status=CertificationStatus.VALID, expires_at__gt=now)
    if value == Lifecycle.SUPERSEDED:
        # One EXISTS (a current record of the type, issued later or covering a record no longer current)
        # rather than the OR of two, which PostgreSQL could only run by hashing every current record.
        outer_current = Q(Exact(OuterRef("status"), Value(CertificationStatus.VALID))) & Q(
            GreaterThan(OuterRef("expires_at"), Value(now))
        )
        return Q(
            Exists(
                Certification.objects.current(now=now)
                .filter(mentor_id=OuterRef("mentor_id"), certification_type_id=OuterRef("certification_type_id"))
                .filter(Q(issued_at__gt=OuterRef("issued_at")) | ~outer_current)
            )
        )
    if value == Lifecycle.REVOKED:
        return Q(status=CertificationStatus.REVOKED) & ~Q(renewal_exists(now=now))
    not_covered = ~Q(status=CertificationStatus.REVOKED) & ~Q(renewal_exists(now=now))
    if value == Lifecycle.LAPSED:
        return Q(expires_at__lte=now, grace_ends_at__lte=now) & not_covered
    if value == Lifecycle.GRACE:
        return Q(expires_at__lte=now, grace_ends_at__gt=now) & not_covered
    not_newer = ~Q(newer_current_exists(now=now))
    if value == Lifecycle.RENEWAL_DUE:
        return current & Q(expires_at__lte=F("window_opens")) & not_newer
    if value == Lifecycle.ACTIVE:
        return current & Q(expires_at__gt=F("window_opens")) & not_newer
    raise ValueError(f"unknown lifecycle state {value!r}")


def lifecycle_state(*, now: dt.datetime) -> Case:
    """The record's ``Lifecycle`` at ``now``, as one database expression (needs no extra query)."""
    newer_current = newer_current_exists(now=now)
    expired = Q(expires_at__lte=now)
    # A record no longer current that another current record of its type covers is superseded too
    # (so "lapsed" below means what lapsed() means).
    covered = ~Q(status=CertificationStatus.VALID, expires_at__gt=now) & Q(renewal_exists(now=now))
    window_opens = renewal_window_opens(now=now)
    return Case(
        When(Q(newer_current) | covered, then=Value(Lifecycle.SUPERSEDED)),
        When(status=CertificationStatus.REVOKED, then=Value(Lifecycle.REVOKED)),
        When(expired & Q(grace_ends_at__lte=now), then=Value(Lifecycle.LAPSED)),
        When(expired, then=Value(Lifecycle.GRACE)),
        When(expires_at__lte=window_opens, then=Value(Lifecycle.RENEWAL_DUE)),
        default=Value(Lifecycle.ACTIVE),
        output_field=models.CharField(),
    )


class CertificationQuerySet(models.QuerySet):
    """Reusable reads over certifications; ``now`` is always the caller's."""

    def alive(self) -> CertificationQuerySet:
        """Records not soft-deleted."""
        return self.filter(LIVE)

    def current(self, *, now: dt.datetime) -> CertificationQuerySet:
        """Live records that are ``valid`` and not yet past expiry."""
        return self.filter(LIVE, status=CertificationStatus.VALID, expires_at__gt=now)

    def lapsed(self, *, now: dt.datetime) -> CertificationQuerySet:
        """Live records revoked, or past expiry and its type's grace, whose mentor holds no current record of the type.

        A revoked record lapses at once; an expired one once ``expires_at +
        grace_days <= now`` (``expires_at <= now`` is stated too, so that the
        expiry index serves the search before the grace is checked per row).
        """
        return (
            self.filter(LIVE)
            .alias(grace_ends_at=grace_ends_at())
            .filter(Q(status=CertificationStatus.REVOKED) | Q(expires_at__lte=now, grace_ends_at__lte=now))
            .filter(~renewal_exists(now=now))
        )

    def with_lifecycle(self, *, now: dt.datetime) -> CertificationQuerySet:
        """Each record annotated with its ``lifecycle`` (a ``Lifecycle`` value) at ``now`` and its ``grace_ends_at``."""
        return self.annotate(grace_ends_at=grace_ends_at()).annotate(lifecycle=lifecycle_state(now=now))

    def in_lifecycle(self, value: str, *, now: dt.datetime) -> CertificationQuerySet:
        """Records whose ``Lifecycle`` at ``now`` is ``value`` (as ``with_lifecycle`` would annotate them).

        *In grace* and *renewal due* also bound ``expires_at`` by the widest
        grace and window of any type (one small query): implied by the state,
        it lets the expiry index serve the search instead of every record
        being checked (with no type in grace, none is read at all).
        """
        bound = Q()
        if value in (Lifecycle.GRACE, Lifecycle.RENEWAL_DUE):
            widest = CertificationType.objects.aggregate(
                grace=models.Max("grace_days"), window=models.Max("renewal_window_days")
            )
            if value == Lifecycle.GRACE:
                bound = Q(expires_at__gt=now - dt.timedelta(days=widest["grace"] or 0))
            else:
                bound = Q(expires_at__lte=now + dt.timedelta(days=widest["window"] or 0))
        return self.alias(grace_ends_at=grace_ends_at(), window_opens=renewal_window_opens(now=now)).filter(
            lifecycle_condition(value, now=now), bound
        )

    def due(self, *, now: dt.datetime) -> CertificationQuerySet:
        """Lapsed records whose auto-pause has not been applied yet."""
        return self.lapsed(now=now).filter(auto_pause_applied=False)


class Certification(models.Model):
    """One certification held by a mentor. Deleting is a soft delete (``deleted_at``)."""

    certification_id = models.CharField(max_length=13, unique=True, editable=False)
    mentor = models.ForeignKey(Mentor, on_delete=models.PROTECT, related_name="certifications")
    # No index of its own: a handful of types, and every list filter by type is served by an ordering index.
    certification_type = models.ForeignKey(
        CertificationType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=CertificationStatus.choices, default=CertificationStatus.VALID)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=500, blank=True)
    auto_pause_applied = models.BooleanField("auto-pause applied", default=False)
    auto_pause_applied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = CertificationQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-certification_id"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("issued_at")), name="cert_expires_after_issued"),
            models.CheckConstraint(condition=Q(status__in=CertificationStatus.values), name="cert_status_known"),
            models.CheckConstraint(
                condition=~Q(status=CertificationStatus.REVOKED) | Q(revoked_at__isnull=False),
                name="cert_revoked_has_revoked_at",
            ),
            models.CheckConstraint(
                condition=Q(auto_pause_applied=False, auto_pause_applied_at__isnull=True)
                | Q(auto_pause_applied=True, auto_pause_applied_at__isnull=False),
                name="cert_auto_pause_flag_matches_time",
            ),
            models.UniqueConstraint(
                fields=["mentor", "certification_type", "issued_at"],
                condition=LIVE,
                name="cert_unique_live_issue",
            ),
        ]
        indexes = [
            # Step 1 of the job: valid records reaching expiry.
            models.Index(
                fields=["expires_at"],
                condition=Q(status=CertificationStatus.VALID) & LIVE,
                name="cert_valid_expiry_idx",
            ),
            # Renewal look-ups: a current record of the same mentor and type.
            models.Index(
                fields=["mentor", "certification_type", "expires_at"],
                condition=Q(status=CertificationStatus.VALID) & LIVE,
                name="cert_current_lookup_idx",
            ),
            # The list filtered by status (e.g. status=expired&expires_before=...): the page walks the
            # status in issue order, and the exact total is an index-only count (expires_at is in the
            # key rather than an INCLUDE, which SQLite would warn about).
            models.Index(
                fields=["status", "issued_at", "certification_id", "expires_at"],
                condition=LIVE,
                name="cert_status_issued_idx",
            ),
            models.Index(fields=["issued_at", "certification_id"], condition=LIVE, name="cert_issued_order_idx"),
            models.Index(fields=["expires_at", "certification_id"], condition=LIVE, name="cert_expires_order_idx"),
            models.Index(fields=["created_at", "certification_id"], condition=LIVE, name="cert_created_order_idx"),
            models.Index(fields=["updated_at", "certification_id"], condition=LIVE, name="cert_updated_order_idx"),
            # The admin's *Deleted* list, in issue order: a few per cent of the records, kept apart.
            models.Index(fields=["issued_at", "certification_id"], condition=~LIVE, name="cert_deleted_issued_idx"),
        ]
        verbose_name_plural = "certifications"

    def __str__(self) -> str:
        return self.certification_id
