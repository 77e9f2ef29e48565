"""Import and export in the admin (django-import-export): CSV and XLSX, a dry-run preview, then confirm.

The resource hands the whole file to ``services.certification_import``, the
API's import, so every row goes through the write services (never a bare
``save()``) and the preview is exactly what the confirm step will do: the
preview runs the import and rolls it back. The uploaded file waits between
the two steps in ``IMPORT_EXPORT_TMP_STORAGE_CLASS`` (the cache, Redis when
configured, or the media storage: never a process's memory), so any gunicorn
worker can confirm it. The export writes the filtered change list in the
API export's columns, formula cells made inert; like the API's, it needs
``view_certification`` and ``view_mentor``.
"""

from __future__ import annotations

import datetime as dt

import tablib
from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export import fields, resources
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.results import Error, Result, RowResult

from certhub.errors import DomainError
from certifications import services
from certifications.bulk.export import EXPORT_PERMISSIONS, HEADER, export_rows, restored
from certifications.bulk.rows import ImportRow, check_header
from certifications.history import Actor, Source
from certifications.models import Certification

ROW_TYPES = {
    "new": RowResult.IMPORT_TYPE_NEW,
    "updated": RowResult.IMPORT_TYPE_UPDATE,
    "skipped": RowResult.IMPORT_TYPE_SKIP,
}


def cell_text(value: object) -> str:
    """A spreadsheet cell as the import's text: a date (or a midnight without zone) as ``YYYY-MM-DD``.

    Text loses the ``'`` the export put before a formula character, as in a CSV import.
    """
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):
            return value.date().isoformat()  # a date cell: midnight UTC, as a bare date in a CSV
        return value.isoformat()  # a date-time without a zone is refused, as in a CSV
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return restored(str(value).strip())


class CertificationResource(resources.ModelResource):
    """Certifications in the import's columns; imports go through ``services.certification_import``."""

    certification_id = fields.Field(column_name="certification_id")
    mentor_id = fields.Field(column_name="mentor_id")
    certification_type = fields.Field(column_name="certification_type")
    issued_at = fields.Field(column_name="issued_at")
    expires_at = fields.Field(column_name="expires_at")
    mentor_name = fields.Field(column_name="mentor_name")
    mentor_email = fields.Field(column_name="mentor_email")
    action = fields.Field(column_name="action")
    revocation_reason = fields.Field(column_name="revocation_reason")
    status = fields.Field(column_name="status")

    class Meta:
        model = Certification
        fields = HEADER
        export_order = HEADER

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        """The export's rows (``certifications.bulk.export``), whatever fields the form selected."""
        rows = export_rows(queryset if queryset is not None else Certification.objects.alive())
        header = next(rows)
        return tablib.Dataset(*rows, headers=header)

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs) -> Result:
        """Apply (or, on a dry run, preview) the file through the import service, all rows or none."""
        result = Result()
        headers = [str(name or "") for name in dataset.headers or []]
        result.diff_headers = headers
        result.total_rows = len(dataset)
        try:
            names = check_header(headers)
        except DomainError as exc:
            result.append_base_error(Error(ValidationError(exc.message)))
            return result
        rows = [
            ImportRow(
                line=number + 1, cells={name: cell_text(value) for name, value in zip(names, values, strict=False)}
            )
            for number, values in enumerate(dataset, 1)
        ]
        by = Actor(source=Source.IMPORT, user=kwargs.get("user"))
        outcome = services.certification_import(rows=rows, now=timezone.now(), by=by, dry_run=dry_run)
        for row, values, answer in zip(rows, dataset, outcome.rows, strict=True):
            cells = {name: cell_text(value) for name, value in zip(headers, values, strict=False)}
            if answer.action == "invalid":
                errors = {name if name in headers else "__all__": messages for name, messages in answer.errors.items()}
                result.append_invalid_row(row.line, cells, ValidationError(errors))
                invalid = RowResult()
                invalid.import_type = RowResult.IMPORT_TYPE_INVALID
                result.increment_row_result_total(invalid)
                continue
            row_result = RowResult()
            row_result.import_type = ROW_TYPES[answer.action]
            row_result.object_id = answer.certification_id
            row_result.object_repr = answer.certification_id or f"line {row.line}"
            row_result.diff = [cells.get(name, "") for name in headers]
            result.append_row_result(row_result)
            result.increment_row_result_total(row_result)
        return result


class BulkAdminMixin(ImportExportMixin):
    """Import (CSV, XLSX) with preview and confirm, and export of the filtered change list."""

    resource_classes = [CertificationResource]
    import_formats = [base_formats.CSV, base_formats.XLSX]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    skip_admin_log = True  # the history records every row's change, with its user and source 'import'

    def has_import_permission(self, request) -> bool:
        """An import creates and changes records: both permissions."""
        return request.user.has_perms(["certifications.add_certification", "certifications.change_certification"])

    def has_export_permission(self, request) -> bool:
        """The API export's rule: the rows name mentors and hold their addresses."""
        return request.user.has_perms(EXPORT_PERMISSIONS)
