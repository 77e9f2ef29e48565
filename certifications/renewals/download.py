"""An evidence file as an HTTP answer: an attachment no browser runs or sniffs (the API's and the admin's)."""

from __future__ import annotations

from django.http import FileResponse

from certifications.models import RenewalRequest


def evidence_response(renewal: RenewalRequest) -> FileResponse | None:
    """The file of ``renewal`` streamed as ``<request id>.<ext>``; None when it is no longer kept."""
    if not renewal.evidence:  # deleted by retention (certifications.renewals.retention)
        return None
    try:
        file = renewal.evidence.open("rb")
    except FileNotFoundError:
        return None
    extension = renewal.evidence.name.rsplit(".", 1)[-1]
    response = FileResponse(
        file,
        as_attachment=True,
        filename=f"{renewal.renewal_request_id}.{extension}",
        content_type=renewal.evidence_content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
