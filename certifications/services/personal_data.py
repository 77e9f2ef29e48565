"""A mentor's personal data: the export (logged) and the erasure (DESIGN "Personal data").

The erasure blanks the person everywhere CertHub keeps them and keeps the
shape of the audit: ids, dates, states, the auto-pause log and every total
stay. It is a fixed number of set-based statements, each on an index that
leads with the mentor (their history rows, renewal requests, notifications),
whatever the number of records the mentor or the program holds. The export's
members are read by ``certifications.personal_export``; the guard later
writes pass is ``guards.check_not_erased``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from certhub.errors import RuleViolation
from certhub.models import IdempotencyKey
from certhub.personal_data import ERASED, EXPORTED, personal_data_handled
from certhub.sql import dialect
from certhub.zipstream import zip_stream
from certifications.changes import MentorChange
from certifications.history import Actor
from certifications.history.models import HistoryEntry, Subject
from certifications.models import Mentor, RenewalRequest, RenewalState
from certifications.personal_export import export_members
from certifications.renewals.evidence import evidence_clear
from certifications.services import effects

# What a history value of a personal field becomes.
ERASED_VALUE = "[erased]"
# The mentor's fields that are personal data; each history row keeps them under these keys.
PERSONAL_FIELDS = ("name", "email")
REASON_MAX = 300


@dataclass(frozen=True)
class ErasureResult:
    """The mentor as erased; ``erased_now`` False when an earlier erasure had done it (a repeat)."""

    mentor: Mentor
    erased_now: bool


def mentor_export(*, mentor: Mentor, now: dt.datetime, by: Actor, request=None) -> Iterator[bytes]:
    """Record the export in the security log, and return the ZIP of the mentor's data, built as it is sent."""
    with transaction.atomic():
        personal_data_handled.send(
            sender=Mentor, action=EXPORTED, subject=mentor.mentor_id, actor=by.user, request=request, now=now
        )
    return zip_stream(export_members(mentor))


def mentor_erase(*, mentor: Mentor, reason: str, now: dt.datetime, by: Actor, request=None) -> ErasureResult:
    """Erase the mentor's personal data, in one transaction; a repeat returns the first erasure's result.

    1. lock the mentor; one already erased is returned as it is;
    2. withdraw their pending renewal requests (their evidence is about to go);
    3. empty the name and email, set ``erased_at``, and pass the write through the effects
       (``MentorChange.ERASED``): the history row with the reason, and each app's share
       (notifications blank recipients, subjects and errors and skip queued notices;
       events write ``mentor.erased``);
    4. every history value of a personal field becomes ``"[erased]"`` (one UPDATE per field);
    5. renewal requests lose their note and decision reason; the admin's log its copy of the name;
       remembered idempotent answers naming the mentor are forgotten;
    6. the security log records the erasure (``certhub.personal_data``);
    7. the requests name no evidence file any more; the files are deleted after commit.
    """
    reason = reason.strip()
    if not reason:
        raise RuleViolation("An erasure needs a reason.", fields={"reason": ["Say why the data is erased."]})
    if len(reason) > REASON_MAX:
        raise RuleViolation("The reason is too long.", fields={"reason": [f"At most {REASON_MAX} characters."]})
    by = replace(by, reason=reason)
    with transaction.atomic():
        locked = Mentor.objects.select_for_update().get(pk=mentor.pk)
        if locked.erased_at is not None:
            return ErasureResult(mentor=locked, erased_now=False)
        _withdraw_pending(locked, now=now, by=by)
        before = effects.mentor_snapshot(locked)
        locked.name, locked.email, locked.erased_at, locked.updated_at = "", "", now, now
        locked.save(update_fields=["name", "email", "erased_at", "updated_at"])
        effects.mentor_written(change=MentorChange.ERASED, before=before, after=locked, now=now, by=by)
        _erase_history(locked)
        _erase_renewal_requests(locked)
        _erase_copies(locked)
        personal_data_handled.send(
            sender=Mentor,
            action=ERASED,
            subject=locked.mentor_id,
            actor=by.user,
            request=request,
            now=now,
            detail=reason,
        )
    return ErasureResult(mentor=locked, erased_now=True)


def _withdraw_pending(mentor: Mentor, *, now: dt.datetime, by: Actor) -> None:
    """Withdraw the mentor's pending requests (at most one per type): no decision can be taken without evidence."""
    pending = RenewalRequest.objects.select_for_update().filter(mentor=mentor, state=RenewalState.PENDING)
    for request in pending.order_by("pk"):
        request.state, request.decided_by, request.decided_at = RenewalState.WITHDRAWN, by.user, now
        request.save(update_fields=["state", "decided_by", "decided_at"])
        effects.renewal_request_written(before_state=RenewalState.PENDING, after=request, now=now, by=by)


def _erase_history(mentor: Mentor) -> None:
    """``[old, new]`` of each personal field in the mentor's history rows becomes ``"[erased]"`` twice, set-based."""
    table = connection.ops.quote_name(HistoryEntry._meta.db_table)
    column = connection.ops.quote_name(HistoryEntry._meta.get_field("changes").column)
    with connection.cursor() as cursor:
        for key in PERSONAL_FIELDS:
            expression, holds, params, holds_params = dialect().json_key_replaced(
                column, key, [ERASED_VALUE, ERASED_VALUE]
            )
            cursor.execute(
                f"UPDATE {table} SET {column} = {expression} WHERE subject = %s AND object_pk = %s AND {holds}",
                [*params, Subject.MENTOR, mentor.pk, *holds_params],
            )


def _erase_renewal_requests(mentor: Mentor) -> None:
    """Blank the mentor's notes and decision reasons; their evidence files go after commit (``evidence_clear``)."""
    requests = RenewalRequest.objects.filter(mentor=mentor)
    requests.update(note="", decision_reason="")
    evidence_clear(requests)


def _erase_copies(mentor: Mentor) -> None:
    """The admin's log shows the mentor by id; an idempotent answer that carried their data is forgotten."""
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Mentor), object_id=str(mentor.pk)).update(
        object_repr=mentor.mentor_id
    )
    # Remembered answers live a day (IDEMPOTENCY_KEY_TTL_HOURS): a small table, read once.
    answers = IdempotencyKey.objects.annotate(body=Cast("response_body", TextField()))
    answers.filter(body__contains=mentor.mentor_id).delete()
