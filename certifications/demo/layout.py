"""How the demo data set is laid out: which chains of renewals each mentor holds, and how each ends.

``plan`` draws, from the seeded generator, which mentors hold both
certification types, the lengths of the chains and how each chain ends
(current, lapsed and already applied, deleted, or due at ``now``). It keeps
every chain in a few compact arrays (a few bytes per record), so that the rows
themselves can be generated mentor by mentor (``certifications.demo.dataset``).
"""

from __future__ import annotations

import datetime as dt
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from math import floor

# Shares of the non-due chains by how they end.
APPLIED_EXPIRED_SHARE = 0.13
APPLIED_REVOKED_SHARE = 0.02
DELETED_ORPHAN_SHARE = 0.005
REVOKED_THEN_REISSUED_SHARE = 0.02
DELETED_OLD_RECORD_SHARE = 0.01
STAFF_PAUSED_SHARE = 0.005
TWO_TYPES_SHARE = 0.35

# Chain kinds, in the order of their codes in the layout's arrays.
KINDS = ("current", "applied_expired", "applied_revoked", "deleted_orphan", "due_expired", "due_revoked")


class SeedError(ValueError):
    """The requested sizes cannot be laid out (e.g. more mentors than records)."""


@dataclass(frozen=True)
class SeedSpec:
    """What to generate."""

    certs: int
    due: int
    seed: int
    now: dt.datetime
    mentors: int | None = None
    window_days: int = 7

    @property
    def mentor_count(self) -> int:
        return self.mentors if self.mentors is not None else default_mentors(self.certs)


def default_mentors(certs: int) -> int:
    """About 2.5 records per mentor."""
    return max(1, certs * 2 // 5)


@dataclass
class Chain:
    type_pk: int
    kind: str  # one of KINDS
    length: int


def _lengths_summing_to(rng: random.Random, total: int, count: int) -> array:
    """``count`` lengths of at least 1 summing to ``total``, the extra records spread at random.

    Draws exactly what ``rng.choices(range(count), k=total - count)`` draws,
    without holding the list of picks.
    """
    lengths = array("l", [1]) * count
    if count:
        draw, n = rng.random, float(count)
        for _ in range(total - count):
            lengths[floor(draw() * n)] += 1
    return lengths


def _due_lengths(rng: random.Random, due: int) -> list[int]:
    lengths: list[int] = []
    left = due
    while left:
        pick = 1 if rng.random() < 0.75 else (2 if rng.random() < 0.8 else 3)
        pick = min(pick, left)
        lengths.append(pick)
        left -= pick
    return lengths


@dataclass
class Layout:
    """Every chain in compact arrays, by position: its type, kind (index in KINDS) and length.

    The chains of mentor ``m`` are the positions ``order[starts[m]:starts[m + 1]]``, ascending.
    """

    mentors: int
    types: array
    kinds: array
    lengths: array
    order: array
    starts: array

    def chains(self, mentor_index: int) -> Iterator[Chain]:
        for position in self.order[self.starts[mentor_index] : self.starts[mentor_index + 1]]:
            yield Chain(self.types[position], KINDS[self.kinds[position]], self.lengths[position])


def plan(spec: SeedSpec, rng: random.Random, basic: int, advanced: int) -> Layout:
    """Lay out (mentor, type) slots, then put the due chains and the other chains in them."""
    certs, due, mentors = spec.certs, spec.due, spec.mentor_count
    if certs < 1 or due < 0 or mentors < 1:
        raise SeedError("--certs and --mentors must be at least 1 and --due at least 0.")
    if due > certs:
        raise SeedError("--due cannot exceed --certs.")
    two_types = bytearray(rng.random() < TWO_TYPES_SHARE for _ in range(mentors))
    due_lengths = _due_lengths(rng, due)
    others_total = certs - due
    other_slots = mentors + sum(two_types) - len(due_lengths)
    index = 0
    while other_slots > others_total and index < mentors:  # not enough records: fewer two-type mentors
        if two_types[index]:
            two_types[index] = False
            other_slots -= 1
        index += 1
    if other_slots > others_total or other_slots < 0 or (other_slots == 0 and others_total > 0):
        raise SeedError(
            f"Cannot lay out {certs} records ({due} due) over {mentors} mentors: "
            "every mentor needs a record; use fewer mentors or fewer due records."
        )
    # A slot is ``mentor index * 2 + (1 if advanced)``: one integer in an array, shuffled in place.
    slots = array("q")
    for mentor_index, both in enumerate(two_types):
        if both:
            slots.extend((2 * mentor_index, 2 * mentor_index + 1))
        else:
            slots.append(2 * mentor_index + (0 if rng.random() < 0.75 else 1))
    rng.shuffle(slots)
    lengths = array("l", due_lengths) + _lengths_summing_to(rng, others_total, other_slots)
    kinds = array("b", bytes(len(slots)))
    for position in range(len(slots)):
        if position < len(due_lengths):
            kinds[position] = 4 if rng.random() < 0.8 else 5  # due_expired | due_revoked
            continue
        roll = rng.random()
        if roll < APPLIED_EXPIRED_SHARE:
            kinds[position] = 1
        elif roll < APPLIED_EXPIRED_SHARE + APPLIED_REVOKED_SHARE:
            kinds[position] = 2
        elif roll < APPLIED_EXPIRED_SHARE + APPLIED_REVOKED_SHARE + DELETED_ORPHAN_SHARE and lengths[position] == 1:
            kinds[position] = 3
    # Group the positions by mentor (a counting sort, stable: ascending positions within a mentor).
    starts = array("l", [0]) * (mentors + 1)
    for slot in slots:
        starts[(slot >> 1) + 1] += 1
    for mentor_index in range(mentors):
        starts[mentor_index + 1] += starts[mentor_index]
    fill, order = array("l", starts), array("l", [0]) * len(slots)
    for position, slot in enumerate(slots):
        order[fill[slot >> 1]] = position
        fill[slot >> 1] += 1
    types = array("l", (advanced if slot & 1 else basic for slot in slots))
    return Layout(mentors, types, kinds, lengths, order, starts)
