"""The mentors' maintained tally: how many mentors are in each ``(status, paused_by)`` group, without counting them.

``certifications.services.effects`` calls the writers inside the write's own
transaction (a mentor created, paused or resumed, a bulk create's new mentors,
a job batch's automatic pauses), so the tally moves with the rows it counts.
As the certifications' tallies, only inserts: the fold (``tallies_fold``) sums
each group's rows into one, and ``tallies_rebuild`` recounts from the mentors.
A read sums the rows of a table of a few rows (plus the deltas since the last fold).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count, Sum

from certifications.models import Mentor, MentorStatus, PausedBy
from certifications.totals.models import MentorTally

TABLE = MentorTally._meta.db_table
KEY = "status, paused_by"
VALUES = ("mentors",)

Group = tuple[str, str]  # (status, paused_by); paused_by is "" for an active mentor


def _group(fields: Mapping[str, Any]) -> Group:
    return fields["status"], fields["paused_by"] or ""


def _insert(moves: Counter[Group]) -> None:
    rows = [MentorTally(status=s, paused_by=by, mentors=n) for (s, by), n in moves.items() if n]
    if rows:
        MentorTally.objects.bulk_create(rows)


def tally_mentor_written(*, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
    """One mentor written (``before`` None: created): plus one in its new group, minus one in its old (if moved)."""
    moves = Counter({_group(after): 1})
    if before is not None:
        moves[_group(before)] -= 1
    _insert(moves)


def tally_mentors_created(*, afters: Iterable[Mapping[str, Any]]) -> None:
    """New mentors (a bulk create): plus one each in its group, in one ``INSERT``."""
    _insert(Counter(_group(after) for after in afters))


def tally_mentors_auto_paused(*, count: int) -> None:
    """A job batch paused ``count`` active mentors automatically: two rows moving them, in one ``INSERT``."""
    _insert(Counter({(MentorStatus.ACTIVE.value, ""): -count, (MentorStatus.PAUSED.value, PausedBy.AUTO.value): count}))


def auto_paused_sql(source: str) -> str:
    """``tally_mentors_auto_paused`` for the mentors of ``source`` (a ``WITH`` name): an ``INSERT`` for a ``WITH``.

    The two rows moving them from active to paused by ``auto``, none when
    ``source`` is empty; for the data-modifying ``WITH`` of the statement that paused them.
    """
    moved = f"count(*) FROM {source} HAVING count(*) > 0"
    return (
        f"INSERT INTO {TABLE} ({KEY}, mentors) "
        f"SELECT '{MentorStatus.ACTIVE.value}', '', -{moved} "
        f"UNION ALL SELECT '{MentorStatus.PAUSED.value}', '{PausedBy.AUTO.value}', {moved}"
    )


def mentor_totals() -> dict[Group, int]:
    """Mentors per ``(status, paused_by)`` group, exactly (groups with none left out); one query of a small table."""
    rows = MentorTally.objects.order_by().values_list("status", "paused_by").annotate(n=Sum("mentors"))
    return {(status, paused_by): n for status, paused_by, n in rows if n}


def rebuild_sql() -> tuple[str, list[Any]]:
    """The ``INSERT … SELECT`` that recounts the tally from the mentors (into an emptied table)."""
    groups = Mentor.objects.order_by().values("status", "paused_by").annotate(n=Count("*"))
    sql, params = groups.query.sql_with_params()
    return f"INSERT INTO {TABLE} ({KEY}, mentors) SELECT g.status, g.paused_by, g.n FROM ({sql}) g", list(params)
