"""OpenAPI schema hooks."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from certhub.api.fields import YEAR_PATTERN
from certhub.idempotency import HEADER, KEY_PATTERN
from certhub.ids import MENTOR_ID_RE

ALIAS_MARKER = "/api/v1/certifications/api/v1/certifications"


OPTIONAL_SLASH = "/?$"


def exclude_contract_aliases(endpoints: list, **kwargs) -> list:
    """Keep the contract's literal doubled paths out of the schema; document routes without the slash.

    A route of :class:`~certhub.api.routers.OptionalSlashRouter` ends in ``/?``,
    which reads as ``.../name/``; the schema shows each route once, as ``.../name``.
    """
    kept = []
    for path, path_regex, method, callback in endpoints:
        if ALIAS_MARKER in path:
            continue
        if path_regex.endswith(OPTIONAL_SLASH):
            path = path.removesuffix("/")
        kept.append((path, path_regex, method, callback))
    return kept


PAGINATION_PARAMETERS = frozenset({"page", "limit"})


def describe_input_ranges(result: dict, **kwargs) -> dict:
    """Make the schema refuse what the API refuses in every input it reads.

    Timestamps in request bodies and query strings carry the year range
    (``YEAR_PATTERN``); the ``Idempotency-Key`` header carries its length and
    characters (printable ASCII, no space at either end, where a server strips it).
    """
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if not name.endswith("Request"):
            continue
        for field in component.get("properties", {}).values():
            if field.get("format") == "date-time":
                field["pattern"] = YEAR_PATTERN
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and schema.get("format") == "date-time":
                    schema["pattern"] = YEAR_PATTERN
                if parameter.get("in") == "header" and parameter["name"] == HEADER:
                    schema.update(pattern=KEY_PATTERN, minLength=1, maxLength=255)
    return result


NO_NUL_PATTERN = "^[^\\u0000]*$"


def describe_query_filters(result: dict, **kwargs) -> dict:
    """Make the documented filters say what the API does.

    An empty filter value (``?status=``) means "no filter", so filter parameters
    get ``allowEmptyValue``; ``auto_pause_applied`` is the string ``true`` or
    ``false`` (not a JSON boolean); ``mentor_id`` carries the id pattern that
    the filter validates, and any other free text says it holds no NUL character.
    A comma list drops its empty items (``?ordering=,`` is no ordering), so its
    items may be empty too.
    """
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query" or parameter["name"] in PAGINATION_PARAMETERS:
                    continue
                parameter["allowEmptyValue"] = True
                schema = parameter.get("schema", {})
                items = schema.get("items", {}) if schema.get("type") == "array" else {}
                if "" not in items.get("enum", [""]):
                    items["enum"] = [*items["enum"], ""]
                if schema.get("type") == "boolean" and schema.get("enum"):
                    parameter["schema"] = {"type": "string", "enum": ["true", "false"]}
                if parameter["name"] == "mentor_id" and schema.get("type") == "string":
                    schema["pattern"] = MENTOR_ID_RE.pattern
                elif schema.get("type") == "string" and not ({"enum", "pattern", "format"} & set(schema)):
                    # A query value holding a NUL character is refused (400) by Django's form fields.
                    schema["pattern"] = NO_NUL_PATTERN
    return result


class CertHubAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, told which reads are public while ``API_PUBLIC_READS`` is on.

    Only views whose permission says so (``public_read``) are: mentors, history,
    the export, notifications and the events API need credentials whatever the setting.
    """

    def get_auth(self) -> list:
        auths = super().get_auth()
        public = any(getattr(permission, "public_read", False) for permission in self.view.get_permissions())
        if self.method in SAFE_METHODS and settings.API_PUBLIC_READS and public and {} not in auths:
            auths.append({})
        return auths

    def get_operation(self, *args, **kwargs):
        """Each operation names the API key scope it needs (``x-required-scope``; absent: keys are refused)."""
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return operation
        scopes = {
            permission.scope_of(self.method, getattr(self.view, "action", None))
            for permission in self.view.get_permissions()
            if hasattr(permission, "scope_of")
        } - {None}
        if scopes:
            operation["x-required-scope"] = " ".join(sorted(scopes))
        return operation

    def _get_request_for_media_type(self, serializer, direction="request"):
        """A body that must name some field (``min_fields``) is required, even when each field is optional."""
        schema, required = super()._get_request_for_media_type(serializer, direction)
        return schema, required or bool(getattr(serializer, "min_fields", 0))


class ErrorBodySerializer(serializers.Serializer):
    """The ``error`` object: a stable ``code``, a readable ``message``, and per-field messages."""

    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per input field (validation_error only).",
    )
    certification_id = serializers.CharField(
        required=False, help_text="The existing record a duplicate collides with (conflict only)."
    )
    job_run_id = serializers.CharField(required=False, help_text="The run holding the lock (job_already_running only).")
    max_bytes = serializers.IntegerField(
        required=False, help_text="The byte limit the upload passed (too_large of an import only)."
    )
    max_rows = serializers.IntegerField(
        required=False, help_text="The row limit the file passed (too_large of an import only)."
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    """``{"error": {"code", "message", "fields"?}}``"""

    error = ErrorBodySerializer()


ERROR_DESCRIPTIONS = {
    400: "Invalid input (validation_error, parse_error)",
    401: (
        "No credentials (not_authenticated), a bad key or token (authentication_failed), an expired or revoked "
        "API key (key_expired, key_revoked), or a DRF token once they are off (legacy_token)"
    ),
    403: "Not allowed (permission_denied), or an API key without the operation's scope (insufficient_scope)",
    404: "Not found (not_found)",
    405: "Method not allowed (method_not_allowed)",
    409: "Conflict (conflict, job_already_running, idempotency_key_in_progress)",
    410: "Gone (cursor_expired): the feed no longer keeps the event named; read again without `after`",
    413: "Too large (too_large): an import above its byte or row limit",
    415: "The body is not JSON (unsupported_media_type)",
    422: "Idempotency-Key already used for a different request (idempotency_key_reused)",
    429: "Too many requests (throttled)",
    500: "A server error (server_error); details are logged, never returned",
    503: "A dependency is unavailable (service_unavailable)",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the error envelope at the given statuses (429 always included)."""
    wanted = sorted({*statuses, 429})
    return {code: OpenApiResponse(ErrorEnvelopeSerializer, description=ERROR_DESCRIPTIONS[code]) for code in wanted}


def _error_entry(status: int) -> dict:
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }


def document_common_errors(result: dict, **kwargs) -> dict:
    """Add the errors every operation can answer: 500 everywhere, and 400/415 wherever a body is read."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            wanted = [500]
            if "requestBody" in operation:
                wanted += [400, 415]
            for status in wanted:
                responses.setdefault(str(status), _error_entry(status))
            operation["responses"] = dict(sorted(responses.items()))
    return result


class StrictSerializerExtension(OpenApiSerializerExtension):
    """Request bodies of :class:`~certhub.api.serializers.StrictSerializer` refuse unknown fields
    (and, with ``min_fields``, a body naming fewer fields)."""

    target_class = "certhub.api.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        if self.target.min_fields:
            schema["minProperties"] = self.target.min_fields
        return schema


class StrictCharFieldExtension(OpenApiSerializerFieldExtension):
    """A :class:`~certhub.api.serializers.StrictCharField` holds no NUL character (DRF refuses one).

    (One or more characters: drf-spectacular states a blank value as a ``oneOf`` branch of its own.)
    """

    target_class = "certhub.api.serializers.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema.setdefault("pattern", "^[^\\u0000]+$")
        return schema


class DistinctListFieldExtension(OpenApiSerializerFieldExtension):
    """A :class:`~certhub.api.fields.DistinctListField` (or a subclass) is an array of ``uniqueItems``."""

    target_class = "certhub.api.fields.DistinctListField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema["uniqueItems"] = True
        return schema
