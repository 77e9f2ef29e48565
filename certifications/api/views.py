"""Certification API viewsets: thin entry points that read the clock and call services.

``certifications.api.urls`` registers them on the router; their OpenAPI
documentation is ``certifications.api.schema``.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.permissions import api_permission, require_perms_to_read
from certhub.api.viewsets import ApiActionViewSet, ApiViewSet
from certhub.idempotency import idempotent
from certifications import services
from certifications.api.filters import AutoPauseLogFilter, CertificationFilter
from certifications.api.history import history_response
from certifications.api.serializers import (
    AutoPauseLogSerializer,
    CertificationCreateSerializer,
    CertificationDeletedSerializer,
    CertificationSerializer,
    CertificationUpdateSerializer,
    ExpiryJobRunRequestSerializer,
    ExpiryJobRunResultSerializer,
    ExpiryJobRunSerializer,
    certification_rows,
    represent_row,
)
from certifications.history import Actor
from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, JobState, JobTrigger
from certifications.selectors import auto_pause_log_list, certification_list
from certifications.totals.counts import CertificationCount

# Who may read a soft-deleted record's history: the users who can restore it in the admin.
DELETED_HISTORY_PERM = "certifications.delete_certification"

LIST_DESCRIPTION = "``/api/v1/certifications``: list (envelope, filters, ordering) and create."
DETAIL_DESCRIPTION = "``/api/v1/certifications/{certification_id}``: get, update (PUT = PATCH), soft delete."


class CertificationViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Certification records: list (envelope, filters, ordering), create, get, update (PUT = PATCH), soft delete."""

    path_names = {
        "list": ("Certification List Create", LIST_DESCRIPTION),
        "detail": ("Certification Detail", DETAIL_DESCRIPTION),
    }
    permission_classes = [api_permission(scope="certifications")]

    serializer_class = CertificationSerializer
    filterset_class = CertificationFilter
    lookup_field = "certification_id"

    def get_queryset(self) -> QuerySet[Certification]:
        """Live certifications with what the representation needs, in one query, newest first.

        A deleted record's history is served to those who may restore it (``delete_certification``,
        as in the admin); to everyone else, and on every other operation, a deleted record is a 404.
        """
        include_deleted = self.action == "history" and self.request.user.has_perm(DELETED_HISTORY_PERM)
        return certification_list(include_deleted=include_deleted).order_by("-issued_at", "-certification_id")

    def list(self, request: Request, *args, **kwargs) -> Response:
        """One page of the filtered list, fetched as plain rows (``certification_rows``), in the envelope.

        Each row is rendered by ``represent_row``, what ``CertificationSerializer`` renders a record
        by, without a list serializer around it (the schema still names ``CertificationSerializer``).
        """
        queryset = self.filter_queryset(self.get_queryset())
        # The records are counted, the page is fetched as rows: a count of the rows would join the types too.
        page = self.paginator.paginate_queryset(queryset, request, view=self, rows=certification_rows)
        return self.get_paginated_response([represent_row(row) for row in page])

    def list_total(self, queryset: QuerySet[Certification]) -> int | None:
        """The envelope's total from the maintained counts when the list's filters allow it, else None."""
        filterset = getattr(self, "filterset", None)  # validated by the filter backend (certhub.api.filters)
        if filterset is None and self.action == "list":  # the list, no filter named: every live record
            return CertificationCount(deleted=False).total()
        count = filterset.tally_count() if isinstance(filterset, CertificationFilter) else None
        return count.total() if count is not None else None

    @idempotent("certification-create")
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Record a certification through the service."""
        body = CertificationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # The service's record is rendered as written: a concurrent delete must not turn a 201 into an error.
        cert = services.certification_create(
            **body.validated_data, now=timezone.now(), by=Actor.api(request)
        ).certification
        return Response(CertificationSerializer(cert).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        """Change the fields sent (PUT and PATCH alike) through the service, which reads the record once."""
        body = CertificationUpdateSerializer(data=request.data)
        if not body.is_valid():
            self.get_object()  # an unknown id answers 404 before its body answers 400
            raise ValidationError(body.errors)
        cert = services.certification_update(
            certification=kwargs[self.lookup_field],
            changes=body.validated_data,
            now=timezone.now(),
            by=Actor.api(request),
        ).certification
        return Response(CertificationSerializer(cert).data)

    @action(
        detail=True,
        methods=["get"],
        permission_classes=[require_perms_to_read("certifications.view_certification", scope="certifications:read")],
        filterset_class=None,
    )
    def history(self, request: Request, certification_id: str) -> Response:
        """Every change of the record, newest first (envelope)."""
        return history_response(self, request, self.get_object())

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Soft-delete the record through the service, which reads it once."""
        cert = services.certification_delete(
            certification=kwargs[self.lookup_field], now=timezone.now(), by=Actor.api(request)
        ).certification
        return Response(CertificationDeletedSerializer(cert).data)


class ExpiryJobViewSet(ApiActionViewSet):
    """``POST /api/v1/certifications/expiry-job/run``: run the job now, or queue it."""

    path_names = {"list": ("Expiry Job Run", __doc__)}

    permission_classes = [api_permission(write=["certifications.run_expiry_job"], scope="jobs:run")]

    @action(detail=False, methods=["post"], name="Expiry Job Run")
    @idempotent("expiry-job-run")
    def run(self, request: Request) -> Response:
        """Run the expiry job through the service (200), or queue it on the worker (202)."""
        body = ExpiryJobRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dry_run = body.validated_data["dry_run"]
        user = request.user if request.user.is_authenticated else None
        if body.validated_data["async"]:
            run = services.expiry_job_enqueue(
                now=timezone.now(), dry_run=dry_run, trigger=JobTrigger.API, requested_by=user
            )
            return Response(ExpiryJobRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
        run = services.expiry_job_run(
            now=timezone.now(),
            dry_run=dry_run,
            trigger=JobTrigger.API,
            requested_by=user,
            wait_seconds=settings.EXPIRY_JOB_SYNC_WAIT_SECONDS,
        )
        if run.state == JobState.RUNNING:  # past the wait: it goes on after this answer
            return Response(ExpiryJobRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
        return Response(ExpiryJobRunResultSerializer(run).data)


class AutoPauseLogViewSet(mixins.ListModelMixin, ApiViewSet):
    """``GET /api/v1/certifications/expiry-job/logs``."""

    permission_classes = [api_permission(scope="certifications")]

    serializer_class = AutoPauseLogSerializer
    filterset_class = AutoPauseLogFilter

    def get_queryset(self) -> QuerySet[AutoPauseLog]:
        """Log rows with their mentor, certification and run, newest first."""
        return auto_pause_log_list().order_by("-applied_at", "-id")


class ExpiryJobRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Expiry job runs: the list, newest first, and one run with its state."""

    path_names = {
        "list": ("Expiry Job Run List", "``GET /api/v1/certifications/expiry-job/runs``."),
        "detail": ("Expiry Job Run Detail", "``GET /api/v1/certifications/expiry-job/runs/{job_run_id}``."),
    }

    permission_classes = [api_permission(scope="certifications")]
    serializer_class = ExpiryJobRunSerializer
    filter_backends: list = []
    lookup_field = "job_run_id"

    def get_queryset(self) -> QuerySet[ExpiryJobRun]:
        """Every run, newest first."""
        return ExpiryJobRun.objects.order_by("-created_at", "-id")
