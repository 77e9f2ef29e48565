"""Certification API viewsets: thin entry points that read the clock and call services.

``certifications.api.urls`` registers them on the router. Each operation's
schema (summary, description, bodies, error statuses) is declared here, next to
the action it documents.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils import formatting

from certhub.api.permissions import require_perm
from certhub.api.schema import error_responses
from certhub.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from certifications import services
from certifications.api.filters import AutoPauseLogFilter, CertificationFilter
from certifications.api.history import history_action_schema, history_response, history_view_permission
from certifications.api.serializers import (
    AutoPauseLogSerializer,
    CertificationCreateSerializer,
    CertificationDeletedSerializer,
    CertificationRowSerializer,
    CertificationSerializer,
    CertificationUpdateSerializer,
    ExpiryJobRunRequestSerializer,
    ExpiryJobRunResultSerializer,
    ExpiryJobRunSerializer,
    certification_rows,
)
from certifications.history import Actor
from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, JobState, JobTrigger
from certifications.selectors import auto_pause_log_list, certification_list

TAG_CERTS = ["certifications"]
TAG_JOB = ["expiry job"]

# An id is any one path segment, as Django's ``str`` converter takes it (DRF's
# default also stops at a dot). What is not an id answers 404 from the lookup.
ANY_SEGMENT = "[^/]+"
# Declared so the schema says "a string" rather than repeat ANY_SEGMENT as a pattern.
CERTIFICATION_ID = OpenApiParameter("certification_id", OpenApiTypes.STR, OpenApiParameter.PATH)
JOB_RUN_ID = OpenApiParameter("job_run_id", OpenApiTypes.STR, OpenApiParameter.PATH)
# Who may read a soft-deleted record's history: the users who can restore it in the admin.
DELETED_HISTORY_PERM = "certifications.delete_certification"

LIST_DESCRIPTION = "``/api/v1/certifications``: list (envelope, filters, ordering) and create."
DETAIL_DESCRIPTION = "``/api/v1/certifications/{certification_id}``: get, update (PUT = PATCH), soft delete."


class OneViewPerPath:
    """OPTIONS names and describes each path on its own, as the API always has.

    A viewset serves a list path and a detail path (and its actions); without this,
    OPTIONS would answer DRF's generated "... List" / "... Instance" and the class
    docstring for all of them. ``path_names`` maps the route kind (``"list"``,
    or ``"detail"``; an action lives on one of them) to its name and description.
    """

    path_names: dict[str, tuple[str, str]] = {}

    def _path_name(self) -> tuple[str, str] | None:
        return self.path_names.get("detail" if getattr(self, "detail", False) else "list")

    def get_view_name(self) -> str:
        named = self._path_name()
        return named[0] if named else super().get_view_name()

    def get_view_description(self, html: bool = False) -> str:
        named = self._path_name()
        if not named:
            return super().get_view_description(html)
        return formatting.markup_description(named[1]) if html else named[1]


@extend_schema_view(
    list=extend_schema(
        summary="List mentor certifications with optional filters",
        description=LIST_DESCRIPTION,
        tags=TAG_CERTS,
        responses={200: CertificationSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    create=extend_schema(
        summary="Record a new certification for a mentor",
        description=LIST_DESCRIPTION,
        tags=TAG_CERTS,
        request=CertificationCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={201: CertificationSerializer, **error_responses(400, 401, 403, 409, 422)},
        examples=[
            OpenApiExample(
                "Record an advanced certification",
                request_only=True,
                value={
                    "mentor_id": "mntr_01HX4V2K8P",
                    "certification_type": "peer_mentor_advanced",
                    "issued_at": "2026-03-26T00:00:00Z",
                    "expires_at": "2028-03-26T00:00:00Z",
                },
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get a specific certification record",
        description=DETAIL_DESCRIPTION,
        tags=TAG_CERTS,
        parameters=[CERTIFICATION_ID],
        responses={200: CertificationSerializer, **error_responses(401, 403, 404)},
    ),
    update=extend_schema(
        summary="Update a certification record (e.g. renew expiry date)",
        description="A partial update, as in the contract: send only the fields to change. PATCH behaves the same.",
        tags=TAG_CERTS,
        parameters=[CERTIFICATION_ID],
        request=CertificationUpdateSerializer,
        responses={200: CertificationSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
    partial_update=extend_schema(
        summary="Update a certification record (same as PUT)",
        description=DETAIL_DESCRIPTION,
        tags=TAG_CERTS,
        parameters=[CERTIFICATION_ID],
        request=CertificationUpdateSerializer,
        responses={200: CertificationSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
    destroy=extend_schema(
        summary="Remove a certification record",
        description="A soft delete: the record is gone from the API (404) but staff can restore it in the admin.",
        tags=TAG_CERTS,
        parameters=[CERTIFICATION_ID],
        responses={200: CertificationDeletedSerializer, **error_responses(401, 403, 404)},
    ),
)
class CertificationViewSet(
    OneViewPerPath,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Certification records: list (envelope, filters, ordering), create, get, update (PUT = PATCH), soft delete."""

    path_names = {
        "list": ("Certification List Create", LIST_DESCRIPTION),
        "detail": ("Certification Detail", DETAIL_DESCRIPTION),
    }

    serializer_class = CertificationSerializer
    filterset_class = CertificationFilter
    lookup_field = "certification_id"
    lookup_value_regex = ANY_SEGMENT

    def get_queryset(self) -> QuerySet[Certification]:
        """Live certifications with what the representation needs, in one query, newest first.

        A deleted record's history is served to those who may restore it (``delete_certification``,
        as in the admin); to everyone else, and on every other operation, a deleted record is a 404.
        """
        include_deleted = self.action == "history" and self.request.user.has_perm(DELETED_HISTORY_PERM)
        return certification_list(include_deleted=include_deleted).order_by("-issued_at", "-certification_id")

    def filter_queryset(self, queryset: QuerySet[Certification]) -> QuerySet[Certification]:
        """Filter the list only: a record is found by its id, whatever the query string says."""
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request: Request, *args, **kwargs) -> Response:
        """One page of the filtered list, fetched as plain rows (``certification_rows``), in the envelope."""
        page = self.paginate_queryset(certification_rows(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(CertificationRowSerializer(page, many=True).data)

    def list_total(self, queryset: QuerySet[Certification]) -> int | None:
        """The envelope's total from the maintained counts when the list's filters allow it, else None."""
        filterset = getattr(self, "filterset", None)  # validated by the filter backend (certhub.api.filters)
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
        """Change the fields sent (PUT and PATCH alike) through the service."""
        cert = self.get_object()
        body = CertificationUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cert = services.certification_update(
            certification=cert, changes=body.validated_data, now=timezone.now(), by=Actor.api(request)
        ).certification
        return Response(CertificationSerializer(cert).data)

    @history_action_schema(
        summary="The history of a certification",
        perm="certifications.view_certification",
        tags=TAG_CERTS,
        parameter=CERTIFICATION_ID,
        note=" A deleted record's history is served to users who may restore it (`delete_certification`);"
        " to others it is a 404.",
    )
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[history_view_permission("certifications.view_certification")],
        filterset_class=None,
    )
    def history(self, request: Request, certification_id: str) -> Response:
        """Every change of the record, newest first (envelope)."""
        return history_response(self, request, self.get_object())

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Soft-delete the record through the service."""
        cert = services.certification_delete(
            certification=self.get_object(), now=timezone.now(), by=Actor.api(request)
        ).certification
        return Response(CertificationDeletedSerializer(cert).data)


class ExpiryJobViewSet(OneViewPerPath, viewsets.ViewSet):
    """``POST /api/v1/certifications/expiry-job/run``: run the job now, or queue it."""

    path_names = {"list": ("Expiry Job Run", __doc__)}

    permission_classes = [require_perm("certifications.run_expiry_job")]

    @extend_schema(
        summary="Manually trigger the certification expiry auto-pause job",
        description=(
            "Runs synchronously and answers 200 with the counters; a run still going after "
            "`EXPIRY_JOB_SYNC_WAIT_SECONDS` (20 s) answers 202 with the run in state `running` and goes on. "
            "`dry_run: true` computes the counters "
            "and changes nothing. `async: true` queues the run on the worker and answers 202 with the run "
            "in state `queued`; follow it at `expiry-job/runs/{job_run_id}`. Needs the "
            "`certifications.run_expiry_job` permission. A non-dry run while another one runs is a 409 "
            "`job_already_running`."
        ),
        tags=TAG_JOB,
        request=ExpiryJobRunRequestSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            200: ExpiryJobRunResultSerializer,
            202: OpenApiResponse(
                ExpiryJobRunSerializer,
                description=(
                    "Queued on the worker (`async`), or a synchronous run still going after "
                    "`EXPIRY_JOB_SYNC_WAIT_SECONDS` (state `running`): it goes on, follow it at "
                    "`expiry-job/runs/{job_run_id}`."
                ),
            ),
            **error_responses(400, 401, 403, 409, 422, 503),
        },
    )
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


@extend_schema_view(
    list=extend_schema(
        summary="List auto-pause event logs from expiry job runs",
        description=(
            "Newest first. Holds `auto_pause` rows written by the job and `auto_resume` rows written by renewals."
        ),
        tags=TAG_JOB,
        responses={200: AutoPauseLogSerializer(many=True), **error_responses(400, 401, 403)},
    )
)
class AutoPauseLogViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """``GET /api/v1/certifications/expiry-job/logs``."""

    serializer_class = AutoPauseLogSerializer
    filterset_class = AutoPauseLogFilter

    def get_queryset(self) -> QuerySet[AutoPauseLog]:
        """Log rows with their mentor, certification and run, newest first."""
        return auto_pause_log_list().order_by("-applied_at", "-id")


@extend_schema_view(
    list=extend_schema(
        summary="List expiry job runs, newest first",
        description="``GET /api/v1/certifications/expiry-job/runs``.",
        tags=TAG_JOB,
        responses={200: ExpiryJobRunSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="Get one expiry job run with its state",
        description="``GET /api/v1/certifications/expiry-job/runs/{job_run_id}``.",
        tags=TAG_JOB,
        parameters=[JOB_RUN_ID],
        responses={200: ExpiryJobRunSerializer, **error_responses(401, 403, 404)},
    ),
)
class ExpiryJobRunViewSet(OneViewPerPath, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Expiry job runs: the list, newest first, and one run with its state."""

    path_names = {
        "list": ("Expiry Job Run List", "``GET /api/v1/certifications/expiry-job/runs``."),
        "detail": ("Expiry Job Run Detail", "``GET /api/v1/certifications/expiry-job/runs/{job_run_id}``."),
    }

    serializer_class = ExpiryJobRunSerializer
    filter_backends: list = []
    lookup_field = "job_run_id"
    lookup_value_regex = ANY_SEGMENT

    def get_queryset(self) -> QuerySet[ExpiryJobRun]:
        """Every run, newest first."""
        return ExpiryJobRun.objects.order_by("-created_at", "-id")

    def get_object(self) -> ExpiryJobRun:
        """The run named in the path, or 404."""
        return get_object_or_404(ExpiryJobRun, job_run_id=self.kwargs["job_run_id"])
