"""Input fields of the webhook API whose rule the schema states as well."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field

from certhub.api.serializers import StrictCharField

# A URI's characters (RFC 3986: unreserved, reserved and "%"), so no space, CR, LF or other control.
_URI_CHARS = r"A-Za-z0-9\-._~!$&'()*+,;=%:@\[\]"
# http:// or https://, a host, then an optional path, query or fragment; nothing else.
WEBHOOK_URL_RE = re.compile(rf"^https?://[{_URI_CHARS}]+(?:[/?#][{_URI_CHARS}/?#]*)?$")
WEBHOOK_URL_MAX_LENGTH = 2000


@extend_schema_field(
    {"type": "string", "format": "uri", "pattern": WEBHOOK_URL_RE.pattern, "maxLength": WEBHOOK_URL_MAX_LENGTH}
)
class WebhookUrlField(StrictCharField):
    """A webhook URL as sent: ``http(s)://host...`` in URI characters only (a space or a line break is refused).

    Where it may point (public addresses, https in production) is checked by ``events.netguard``.
    """

    def __init__(self, **kwargs):
        super().__init__(max_length=WEBHOOK_URL_MAX_LENGTH, trim_whitespace=False, **kwargs)
        self.validators.append(_webhook_url_form)


def _webhook_url_form(value: str) -> None:
    """The whole value matches (``fullmatch``: a ``$`` alone would let a trailing line break through)."""
    if not WEBHOOK_URL_RE.fullmatch(value):
        raise ValidationError("An http:// or https:// URL with a host, without spaces or line breaks.")
