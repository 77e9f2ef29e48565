"""``POST /api/v1/certifications/import`` and ``GET /api/v1/certifications/export.csv``.

The import takes a ``text/csv`` body or a multipart ``file``; a body larger
than ``IMPORT_MAX_BYTES`` is refused from its ``Content-Length`` before it is
read (and, without one, as soon as the limit is passed), more than
``IMPORT_MAX_ROWS`` rows is a 413. Rows are applied by
``services.certification_import``. The export streams the list's filtered rows.
"""

from __future__ import annotations

import hashlib
import io

from django.conf import settings
from django.http import StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ParseError, UnsupportedMediaType, ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.api.permissions import api_permission, require_perms_to_read
from certhub.api.viewsets import ApiActionViewSet, ApiViewSet
from certhub.errors import RuleViolation, TooLarge
from certhub.idempotency import idempotent
from certifications import services
from certifications.api.filters import CertificationFilter
from certifications.bulk.export import EXPORT_PERMISSIONS, export_rows, export_stream
from certifications.bulk.rows import iter_csv
from certifications.history import Actor
from certifications.selectors import certification_list

CHUNK = 64 * 1024
UPLOAD_ATTRIBUTE = "_certhub_import_upload"
IMPORT_PERMISSIONS = ("certifications.add_certification", "certifications.change_certification")


class CSVParser(BaseParser):
    """Declares ``text/csv`` as accepted; the view reads the body itself, within its byte limit."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"The upload is larger than {limit} bytes (IMPORT_MAX_BYTES).", max_bytes=limit)


def _read_body(django_request, limit: int) -> bytes:
    """The raw body in chunks, refused as soon as it passes ``limit`` bytes."""
    chunks, size = [], 0
    while chunk := django_request.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def read_upload(request: Request) -> bytes:
    """The uploaded CSV's bytes (a ``text/csv`` body or the multipart ``file``), read once per request."""
    cached = getattr(request, UPLOAD_ATTRIBUTE, None)
    if cached is not None:
        return cached
    limit = settings.IMPORT_MAX_BYTES
    django_request = request._request
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _too_large(limit)  # nothing of the body read
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type == "text/csv":
        data = _read_body(django_request, limit)
    elif media_type == "multipart/form-data":
        try:
            uploads = django_request.FILES.getlist("file")
        except MultiPartParserError:
            raise ParseError("The multipart body cannot be read (no boundary, or a malformed part).") from None
        if not uploads:
            raise RuleViolation("Send the CSV as the multipart field 'file'.", fields={"file": ["Required."]})
        if len(uploads) > 1:
            raise RuleViolation("Send one CSV file per import.", fields={"file": ["One file only."]})
        [upload] = uploads
        if upload.size > limit:
            raise _too_large(limit)
        data = upload.read()
    else:
        raise UnsupportedMediaType(media_type or "(none)", detail="Send the CSV as text/csv or multipart/form-data.")
    setattr(request, UPLOAD_ATTRIBUTE, data)
    return data


def _flag(request: Request, name: str) -> bool:
    """A ``true``/``false`` query flag, given at most once (``?dry_run=true&dry_run=false`` is a 400, not a guess)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: ["Give this flag once."]})
    raw = (values or [""])[0].strip().lower() or "false"  # empty means the default, as in a filter
    if raw not in ("true", "false"):
        raise ValidationError({name: ["Must be true or false."]})
    return raw == "true"


def _fingerprint(request: Request) -> dict:
    """An import is the same request when its file and its ``dry_run`` / ``partial`` are."""
    return {
        "sha256": hashlib.sha256(read_upload(request)).hexdigest(),
        "dry_run": _flag(request, "dry_run"),
        "partial": _flag(request, "partial"),
    }


class ImportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The row's line in the file; the header is line 1.")
    action = serializers.ChoiceField(choices=["new", "updated", "skipped", "invalid"])
    certification_id = serializers.CharField(allow_null=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ImportTotalsSerializer(serializers.Serializer):
    new = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    invalid = serializers.IntegerField()


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField()
    totals = ImportTotalsSerializer()
    rows = ImportRowSerializer(many=True)


@extend_schema_field({"type": "string", "format": "binary", "minLength": 1})
class CSVFileField(serializers.FileField):
    """The uploaded CSV; the schema says it is not empty (the import needs a header line)."""


class ImportUploadSerializer(serializers.Serializer):
    file = CSVFileField(help_text="The CSV file (UTF-8, BOM allowed).")


class CertificationImportViewSet(ApiActionViewSet):
    """``POST /api/v1/certifications/import``: a CSV of certifications, applied row by row through the services."""

    # An import creates and updates records: add_certification and change_certification, whatever the method.
    permission_classes = [
        api_permission(read=IMPORT_PERMISSIONS, write=IMPORT_PERMISSIONS, scope="certifications:write")
    ]
    parser_classes = [CSVParser, MultiPartParser]

    @idempotent("certification-import", fingerprint_data=_fingerprint)
    def create(self, request: Request) -> Response:
        dry_run, partial = _flag(request, "dry_run"), _flag(request, "partial")
        rows = iter_csv(io.BytesIO(read_upload(request)), max_rows=settings.IMPORT_MAX_ROWS)
        result = services.certification_import(
            rows=rows, now=timezone.now(), by=Actor.importer(request), dry_run=dry_run, partial=partial
        )
        return Response(
            {
                "dry_run": result.dry_run,
                "applied": result.applied,
                "totals": result.totals,
                "rows": [
                    {
                        "line": row.line,
                        "action": row.action,
                        "certification_id": row.certification_id,
                        "errors": row.errors,
                    }
                    for row in result.rows
                ],
            }
        )


class CertificationExportViewSet(ApiViewSet):
    """``GET /api/v1/certifications/export.csv``: every row the list's filters match, streamed as CSV."""

    permission_classes = [require_perms_to_read(*EXPORT_PERMISSIONS, scope="certifications:read")]
    filterset_class = CertificationFilter
    pagination_class = None

    def get_queryset(self):
        return certification_list().order_by("-issued_at", "-certification_id")

    def list(self, request: Request) -> StreamingHttpResponse:
        queryset = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(export_stream(export_rows(queryset)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="certifications.csv"'
        return response
