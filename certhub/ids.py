"""Public identifiers: a prefix plus Crockford base32 characters.

Generated ids use the canonical alphabet (no I, L, O, U). Ids received from
clients (mentor ids) are checked with :data:`MENTOR_ID_RE`, which also admits
I, L and O because Crockford decoding accepts them as aliases of 1 and 0 (the
published contract's own example ``mntr_02BY7M3RL`` holds an L).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, models, transaction

from certhub.sql import dialect

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MENTOR_ID_RE = re.compile(r"^mntr_[0-9A-TV-Z]{8,26}$")
ID_ATTEMPTS = 8

M = TypeVar("M", bound=models.Model)


class IdSpaceExhausted(RuntimeError):
    """Raised when every attempt at a fresh id collided with an existing one."""


def random_token(length: int = 8) -> str:
    """Return ``length`` random characters of the Crockford base32 alphabet."""
    # One draw of 5 bits per character (the alphabet has 32 symbols): a tenth
    # of the cost of a secrets.choice per character, which counts in bulk.
    bits = secrets.randbits(5 * length)
    return "".join([CROCKFORD_ALPHABET[(bits >> (5 * i)) & 31] for i in range(length)])


def new_id(prefix: str, length: int = 8) -> str:
    """Return a fresh random id such as ``cert_04QR8TZ2``."""
    return prefix + random_token(length)


# The bytes of a version 4 UUID whose low 5 bits are all random (its version and variant
# bits are the high bits of bytes 6 and 8): one Crockford character each.
UUID_RANDOM_BYTES = (0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15)


def drawn_id_sql(prefix: str, length: int, *, row: str) -> str:
    """PostgreSQL: a fresh id per row of a statement, as ``new_id(prefix, length)`` draws one.

    Each character takes 5 random bits of one ``gen_random_uuid()`` drawn for the
    row. The subquery refers to the row's ``row`` (any expression of it), so it is
    evaluated again for every row, not once for the statement. The statement that
    writes the ids decides what a taken one does (``ON CONFLICT``, a check).
    """
    if not 1 <= length <= len(UUID_RANDOM_BYTES):
        raise ValueError(f"an id drawn in SQL has 1 to {len(UUID_RANDOM_BYTES)} characters, not {length}")
    characters = " || ".join(
        f"substr('{CROCKFORD_ALPHABET}', 1 + (get_byte(drawn.bytes, {index}) & 31), 1)"
        for index in UUID_RANDOM_BYTES[:length]
    )
    return (
        f"(SELECT '{prefix}' || {characters} FROM (SELECT uuid_send(gen_random_uuid()) AS bytes "
        f"WHERE {row} IS NOT NULL OR {row} IS NULL) AS drawn)"
    )


def create_with_unique_id(
    model: type[M],
    *,
    field: str,
    prefix: str,
    values: dict,
    generate: Callable[[str], str] | None = None,
) -> M:
    """Insert a row whose ``field`` is a fresh random id, retrying on collision.

    Each attempt runs in its own savepoint, so a collision leaves the outer
    transaction usable. An IntegrityError that is not an id collision is re-raised.
    """
    make = generate or new_id
    for _ in range(ID_ATTEMPTS):
        candidate = make(prefix)
        try:
            with transaction.atomic():
                obj = model(**values, **{field: candidate})
                obj.save(force_insert=True)
                return obj
        except IntegrityError:
            if model._default_manager.filter(**{field: candidate}).exists():
                continue
            raise
    raise IdSpaceExhausted(f"no free {prefix} id after {ID_ATTEMPTS} attempts")


def fresh_ids(
    model: type[models.Model],
    *,
    field: str,
    prefix: str,
    count: int,
    generate: Callable[[str], str] | None = None,
) -> list[str]:
    """Return ``count`` distinct new ids not yet used in ``model.field`` (for bulk inserts).

    One query checks each round of candidates; ids that repeat or are taken are
    replaced in the next round. Gives up after :data:`ID_ATTEMPTS` rounds.
    """
    make = generate or new_id
    ids: set[str] = set()
    for _ in range(ID_ATTEMPTS):
        missing = count - len(ids)
        if missing <= 0:
            break
        candidates = {make(prefix) for _ in range(missing)} - ids
        among = dialect().field_in(model, field, candidates)
        taken = set(model._default_manager.filter(among).values_list(field, flat=True))
        ids |= candidates - taken
    if len(ids) < count:
        raise IdSpaceExhausted(f"no {count} free {prefix} ids after {ID_ATTEMPTS} rounds")
    return list(ids)
