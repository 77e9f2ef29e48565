"""Unique random ids for the demo data set, drawn from its seeded generator and remembered compactly."""

from __future__ import annotations

import random
from array import array

from certhub.ids import CROCKFORD_ALPHABET

_PAIRS = [a + b for b in CROCKFORD_ALPHABET for a in CROCKFORD_ALPHABET]  # 10 bits -> 2 characters


class IntSet:
    """A set of non-negative integers in one open-addressing array, 8 bytes a slot.

    Holds the random bits of every id drawn (ten million of them in about 134
    MB, where a ``set`` of strings takes nine hundred). The bits are uniformly
    random, so their low bits are the slot; linear probing, grown at 3/4 full.
    """

    EMPTY = -1

    def __init__(self, expected: int = 0) -> None:
        capacity = 1024
        while capacity * 3 < expected * 4:
            capacity *= 2
        self.table = array("q", [self.EMPTY]) * capacity
        self.size = 0

    def add(self, value: int) -> bool:
        """Add ``value``; False when it was already there."""
        table, mask = self.table, len(self.table) - 1
        slot = value & mask
        while (current := table[slot]) != self.EMPTY:
            if current == value:
                return False
            slot = (slot + 1) & mask
        table[slot] = value
        self.size += 1
        if self.size * 4 > len(table) * 3:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self.table
        self.table = array("q", [self.EMPTY]) * (2 * len(old))
        self.size = 0
        for value in old:
            if value != self.EMPTY:
                self.add(value)


class SeededIds:
    """Unique random Crockford ids drawn from the seeded generator."""

    def __init__(self, rng: random.Random, prefix: str, length: int, *, expected: int = 0) -> None:
        self.rng, self.prefix, self.pairs = rng, prefix, length // 2
        self.seen = IntSet(expected)

    def next(self) -> str:
        while True:
            bits = self.rng.getrandbits(10 * self.pairs)
            if self.seen.add(bits):  # the token is a bijection of the bits
                return self.prefix + "".join(_PAIRS[(bits >> (10 * i)) & 1023] for i in range(self.pairs))
