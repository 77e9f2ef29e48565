"""Text the domain keeps on one line: a mentor's name as it is stored and as a message shows it.

A name reaches a plain-text e-mail, a CSV export and the admin as it was typed;
a line break in it would start a new line of the message, and a bidirectional
control would reorder what a reader sees around it. ``one_line`` is the one rule,
applied when a name is written (``certifications.services.mentors``, the bulk
import) and again when a message shows data written before the rule existed.
"""

from __future__ import annotations

import re
import unicodedata

# Unicode's explicit bidi controls: embeddings and overrides (U+202A to U+202E), isolates
# (U+2066 to U+2069), the left-to-right and right-to-left marks and the Arabic letter mark.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

# What ends a line for ``str.splitlines`` (CR, LF, VT, FF, the file/group/record separators, NEL,
# the line and paragraph separators), and the tab: each becomes a space.
_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` on one line: breaks and tabs become spaces, other controls and bidi controls go, spaces collapse."""
    spaced = _BREAKS.sub(" ", text or "")
    kept = "".join(char for char in spaced if char not in BIDI_CONTROLS and unicodedata.category(char) != "Cc")
    return " ".join(kept.split())
