"""The mentor's renewal link: ``<PUBLIC_BASE_URL>/renew/<token>``, a signed, expiring capability for one mentor.

The token is Django's signing of the mentor id with a salt of its own (a
token signed for anything else never opens this page), stamped with the
time it was made; it opens the page for ``RENEWAL_LINK["DAYS"]`` days. It
holds no secret of the mentor's (only the id, as every notice does) and
needs no table: forging or altering one breaks the signature.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

from certifications.models import Mentor

SALT = "certhub.renewals.mentor-link"


def renewal_token(mentor: Mentor) -> str:
    """A fresh token for ``mentor``'s renewal page (valid ``RENEWAL_LINK["DAYS"]`` days from now)."""
    return signing.dumps(mentor.mentor_id, salt=SALT)


def renewal_path(mentor: Mentor) -> str:
    return reverse("renewal-link", kwargs={"token": renewal_token(mentor)})


def renewal_link(mentor: Mentor) -> str:
    """The absolute link for a notice; empty without ``PUBLIC_BASE_URL`` (the notice then says whom to write)."""
    base = settings.PUBLIC_BASE_URL
    return f"{base}{renewal_path(mentor)}" if base else ""


def program_contact() -> str:
    """Whom a mentor writes to: ``PROGRAM_CONTACT_EMAIL``, else ``DEFAULT_FROM_EMAIL`` (notices and the page say it)."""
    return settings.PROGRAM_CONTACT_EMAIL or settings.DEFAULT_FROM_EMAIL


def mentor_for_token(token: str) -> Mentor | None:
    """The mentor a valid token was made for; None for a forged, altered or expired token, or an unknown mentor."""
    try:
        mentor_id = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=settings.RENEWAL_LINK["DAYS"]))
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(mentor_id, str):
        return None
    return Mentor.objects.filter(mentor_id=mentor_id).first()
