"""Go's string semantics where Python's differ (archivekit.gosem.strings)."""

from __future__ import annotations

import pytest

from archivekit.gosem.strings import go_lower, is_go_int


@pytest.mark.parametrize(
    ("text", "lowered"),
    [
        ("ABC", "abc"),
        # Go's ToLower maps rune by rune (simple case mapping): a capital sigma is always σ.
        # Python's str.lower applies the final-sigma rule and gives ς at the end of a word.
        ("ΑΣ", "ασ"),
        ("ΟΔΥΣΣΕΥΣ", "οδυσσευσ"),
        ("ΑΣ ΒΣ", "ασ βσ"),
        ("Σ", "σ"),
        # U+0130 lowers to a plain i in Go, to i + U+0307 in Python.
        ("\u0130STANBUL", "istanbul"),
        ("\u0130Σ", "iσ"),
        # Characters ToLower leaves alone (they only fold).
        ("\u212a\u017f", "k\u017f"),
    ],
)
def test_go_lower_is_go_strings_to_lower(text: str, lowered: str) -> None:
    assert go_lower(text) == lowered


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("42", True),
        ("+7", True),
        ("-0", True),
        ("007", True),
        ("", False),
        ("-", False),
        (" 1", False),
        ("1_000", False),  # underscores only with base 0
        ("1.0", False),
        ("\u0661", False),  # an Arabic-Indic one: a digit to Python, not to Go
    ],
)
def test_is_go_int_is_the_syntax_strconv_atoi_accepts(text: str, accepted: bool) -> None:
    assert is_go_int(text) is accepted
