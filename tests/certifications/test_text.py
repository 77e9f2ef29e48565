"""``certifications.text.one_line``: the one rule for a mentor's name on one line."""

from __future__ import annotations

import pytest

from certifications.text import BIDI_CONTROLS, one_line


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Ada\r\nLovelace", "Ada Lovelace"),
        ("Ada\tLovelace\n", "Ada Lovelace"),
        ("Ada\u2028Lovelace\x85", "Ada Lovelace"),  # Unicode line and paragraph breaks are breaks too
        ("  Ada   \n\n  Lovelace  ", "Ada Lovelace"),
        ("Ada\x00\x07\x1b[31m Lovelace\x7f", "Ada[31m Lovelace"),  # other controls go
        ("\u202eecalevoL\u202c Ada", "ecalevoL Ada"),
        ("\u2066Ada\u2069 \u200eLove\u200flace\u061c", "Ada Lovelace"),
        ("Zoë Ñúñez-O'Brien 李小龍 محمد", "Zoë Ñúñez-O'Brien 李小龍 محمد"),  # letters of every script stay
        ("\u202e\n\t", ""),
        ("", ""),
    ],
)
def test_one_line_turns_breaks_into_spaces_drops_controls_and_collapses_spaces(raw, clean):
    assert one_line(raw) == clean


def test_every_bidi_control_the_rule_names_is_removed():
    assert {f"U+{ord(char):04X}" for char in BIDI_CONTROLS} == {
        *(f"U+{code:04X}" for code in range(0x202A, 0x202F)),
        *(f"U+{code:04X}" for code in range(0x2066, 0x206A)),
        "U+200E",
        "U+200F",
        "U+061C",
    }
    assert one_line("a" + "".join(sorted(BIDI_CONTROLS)) + "b") == "ab"
