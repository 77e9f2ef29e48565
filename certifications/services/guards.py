"""The guard every write that names a mentor passes: an erased mentor is recorded no more (DESIGN "Personal data")."""

from __future__ import annotations

from certhub.errors import MentorErased
from certifications.models import Mentor


def mentor_id_not_erased(mentor_id: str) -> None:
    """Refuse (409 ``mentor_erased``) a write naming ``mentor_id`` when that mentor was erased (one query)."""
    check_not_erased(Mentor.objects.filter(mentor_id=mentor_id, erased_at__isnull=False).first())


def check_not_erased(mentor: Mentor | None) -> None:
    """Refuse (409 ``mentor_erased``) a write that names an erased mentor; nothing for others or no one."""
    if mentor is not None and mentor.erased_at is not None:
        raise MentorErased(
            f"The personal data of mentor {mentor.mentor_id} was erased: nothing more is recorded of them.",
            mentor_id=mentor.mentor_id,
        )
