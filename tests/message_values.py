"""Which values an issue's message speaks of that its structured `values` do not hold.

A heuristic (conftest.py applies it to every issue the test suite makes): the numbers and the
quoted names of the message, once the text every message of its kind says the same way (rule
descriptions, versions, pull requests, commands) is set aside, must each be found in
`values` — a number equal to a numeric value or written in a text value, a name within a text
value (a name the message cut short, ``'abc…'``, as the start of one).
"""

from __future__ import annotations

import ast
import re

from archivekit.issues import Issue

# A Python repr in single quotes, as messages quote names (not an apostrophe: "post's").
QUOTED = re.compile(r"(?<![\w'])'(?:[^'\\\n]|\\.)*'(?![\w])")
# A number on its own (not part of a word, a path index, a version, a range "1-64", a compound
# "26-character" or a negative number): 7, 1,024, 2.5.
NUMBER = re.compile(r"(?<![\w.,\[#/+\-])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w\]]|\.\d|-\w)")

# Text that says the same in every message of its kind: not values of this issue.
STATIC = re.compile(
    "|".join(
        [
            r"`[^`]*`",  # code: commands, examples
            r"… \(\d[\d,]* characters\)",  # the length of a value the message cut short
            r"UTF-(?:8|16)",
            r"U\+[0-9A-F]{4,6}",
            r"CRC-32",
            r"\bv\d+(?:\.\d+)+",  # versions: v11.5, v0.16.0
            r"\bGo \d+\.\d+",
            r"mattermost/mattermost#\d+(?:, (?:late )?\d{4})?",  # a pull request and its date
            r"\bHTTP \d{3}",
            r"\(\d+(?:\.\d+)? MiB\)",  # a size in bytes, also in MiB
            r"1970-01-01",
            r"\d+ \(direct message\) or \d+ to \d+ \(group message\)",
            r"\d+ for a direct message, \d+ to \d+ for a group message",
            r'\{"type": "version", "version": 1\}',
            r"only imports version 1",
            r"(?:as|line) 1\b",  # the version line's place
            r"line(?: number)? 0\b",  # where the server reports batch errors
            r"batch of 1000 lines",
            r"at least 2 lowercase",
            r"40 hex characters",
            r"16,383 characters on a standard schema",
        ]
    )
)
# Quoted text that is part of the wording (commands, characters a rule allows), not a value.
STATIC_QUOTED = re.compile(r"'(?:mmctl [^']*|[+_\-/]|\.\.|ï)'")


_TICK = "\ue000"  # a private-use character: stands for a backtick while STATIC runs


def _quoted(message: str) -> list[tuple[str, str]]:
    """Each quoted name: as the repr reads back, and as written between the quotes."""
    names = []
    for match in QUOTED.finditer(message):
        written = match.group()[1:-1]
        try:
            names.append((str(ast.literal_eval(match.group())), written))
        except (ValueError, SyntaxError):
            names.append((written, written))
    return names


def unkept_values(issue: Issue) -> list[str]:
    """The numbers and quoted names of `issue.message` that `issue.values` does not hold."""
    texts = [v for v in issue.values.values() if isinstance(v, str) and v]
    numbers = {
        v for v in issue.values.values() if isinstance(v, int | float) and not isinstance(v, bool)
    }
    # A backtick inside a quoted name (a garbage member name) is no code span for STATIC.
    kept = QUOTED.sub(lambda m: m.group().replace("`", _TICK), issue.message)
    message = STATIC_QUOTED.sub("", STATIC.sub("", kept)).replace(_TICK, "`")
    unkept = []
    for name, written in _quoted(message):
        cut = name[:-1] if name.endswith("…") else name
        if cut and not any(cut in text or written in text for text in texts):
            unkept.append(repr(name))
    for match in NUMBER.finditer(QUOTED.sub("''", message)):
        digits, fraction = match.group(1), match.group(2) or ""
        # An integer of int64 size stays one: a time near 2**63 has no exact float.
        whole = digits.replace(",", "")
        exact = not fraction and len(whole) <= 20
        number: float = int(whole) if exact else float(whole + fraction)
        if number in numbers or any(digits + fraction in text for text in texts):
            continue
        unkept.append(match.group())
    return unkept
