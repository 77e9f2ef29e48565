"""An import row's cells checked and read into values: the import's first step, which writes nothing.

Every cell at fault is named (``RowInvalid``), with the messages the API's
validation gives; applying the values is ``certifications.services.imports``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from certhub.api.fields import parse_timestamp
from certhub.ids import MENTOR_ID_RE
from certifications.bulk.rows import ACTIONS, ImportRow
from certifications.models import Certification, CertificationType, Mentor
from certifications.text import one_line


@dataclass(frozen=True)
class ParsedRow:
    """A row's values, each cell checked; ``key`` is the live record it names (mentor, type, issued_at)."""

    mentor_id: str
    cert_type: CertificationType
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    name: str | None
    email: str | None
    action: str
    reason: str

    @property
    def key(self) -> tuple:
        return (self.mentor_id, self.cert_type.pk, self.issued_at)


class RowInvalid(Exception):
    """The row's errors by column (``row`` for the row as a whole); nothing of it is applied."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _timestamp(cells: dict[str, str], name: str, errors: dict[str, list[str]]) -> dt.datetime | None:
    raw = cells.get(name, "")
    if not raw:
        return None
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return None


def parse_row(row: ImportRow, types: dict[str, CertificationType]) -> ParsedRow:
    """The row's values, each cell checked; ``RowInvalid`` lists every cell at fault."""
    cells, errors = row.cells, {}
    if "__extra__" in cells:
        errors["row"] = ["More cells than the header has columns."]
    mentor_id = cells.get("mentor_id", "")
    if not MENTOR_ID_RE.match(mentor_id):
        errors["mentor_id"] = ["A mentor id is 'mntr_' followed by 8 to 26 upper-case Crockford base32 characters."]
    code = cells.get("certification_type", "")
    cert_type = types.get(code)
    if cert_type is None:
        errors["certification_type"] = [f"Unknown certification type '{code}'."]
    elif not cert_type.is_active:
        errors["certification_type"] = [f"Certification type '{code}' is inactive."]
    if not cells.get("issued_at"):
        errors["issued_at"] = ["Required."]
    issued_at = _timestamp(cells, "issued_at", errors)
    expires_at = _timestamp(cells, "expires_at", errors)
    action = cells.get("action", "").lower() or "upsert"
    if action not in ACTIONS:
        errors["action"] = [f"One of {', '.join(ACTIONS)} (empty means upsert)."]
    reason = cells.get("revocation_reason", "")
    if reason and action != "revoke":
        errors["revocation_reason"] = ["Only a revoke row has a revocation reason."]
    email = cells.get("mentor_email") if "mentor_email" in cells else None
    if email:
        longest = Mentor._meta.get_field("email").max_length
        try:
            validate_email(email)
        except ValidationError:
            errors["mentor_email"] = ["Not a valid email address."]
        else:
            if len(email) > longest:
                errors["mentor_email"] = [f"At most {longest} characters."]
    name = one_line(cells["mentor_name"]) if "mentor_name" in cells else None
    if name is not None and len(name) > Mentor._meta.get_field("name").max_length:
        errors["mentor_name"] = ["At most 200 characters."]
    if len(reason) > Certification._meta.get_field("revocation_reason").max_length:
        errors["revocation_reason"] = ["At most 500 characters."]
    if errors:
        raise RowInvalid(errors)
    return ParsedRow(mentor_id, cert_type, issued_at, expires_at, name, email, action, reason)
