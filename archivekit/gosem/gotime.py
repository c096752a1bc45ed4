"""Go's `time.Time` JSON decoding: which strings `time.Parse(time.RFC3339, s)` accepts.

``Time.UnmarshalJSON`` hands the raw bytes between the quotes to ``parseStrictRFC3339``, which
tries the strict fast parser and falls back to the general layout parser (Go keeps the
"strict" re-checks disabled, go.dev/issue/54580). So the accepted language is that of the
layout parser with layout ``2006-01-02T15:04:05Z07:00``, which is laxer than RFC 3339:
a one-digit hour, a comma before the fraction, any number of fraction digits, and zone
offsets up to ``+24:00`` / ``:60`` all pass. ``T`` and ``Z`` must be upper case.
"""

from __future__ import annotations

LAYOUT = "2006-01-02T15:04:05Z07:00"
_DIGITS = frozenset("0123456789")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_digit(s: str, i: int) -> bool:
    return i < len(s) and s[i] in _DIGITS


def _getnum(s: str, fixed: bool) -> tuple[int, str] | None:
    """Go's ``getnum``: one or two leading digits (exactly two when `fixed`)."""
    if not _is_digit(s, 0):
        return None
    if not _is_digit(s, 1):
        if fixed:
            return None
        return int(s[0]), s[1:]
    return int(s[:2]), s[2:]


def _days_in(month: int, year: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def check_go_rfc3339(value: str) -> str | None:
    """None when Go parses `value` as a `time.Time`, else a Go-like reason."""
    bad = f'parsing time "{value}" as "{LAYOUT}": cannot parse'
    s = value
    # 2006: four characters, the first a digit, all digits (Go's atoi on the four bytes).
    if len(s) < 4 or not all(c in _DIGITS for c in s[:4]):
        return f"{bad} year"
    year, s = int(s[:4]), s[4:]
    if not s.startswith("-"):
        return f"{bad} '-'"
    got = _getnum(s[1:], fixed=True)
    if got is None:
        return f"{bad} month"
    month, s = got
    if not 1 <= month <= 12:
        return f"{bad}: month out of range"
    if not s.startswith("-"):
        return f"{bad} '-'"
    got = _getnum(s[1:], fixed=True)
    if got is None:
        return f"{bad} day"
    day, s = got
    if not s.startswith("T"):
        return f"{bad} 'T'"
    got = _getnum(s[1:], fixed=False)  # the layout's "15" takes one or two digits
    if got is None:
        return f"{bad} hour"
    hour, s = got
    if hour >= 24:
        return f"{bad}: hour out of range"
    if not s.startswith(":"):
        return f"{bad} ':'"
    got = _getnum(s[1:], fixed=True)
    if got is None or got[0] >= 60:
        return f"{bad} minute"
    s = got[1]
    if not s.startswith(":"):
        return f"{bad} ':'"
    got = _getnum(s[1:], fixed=True)
    if got is None or got[0] >= 60:
        return f"{bad} second"
    s = got[1]
    # A fraction the layout does not mention: '.' or ',' then any number of digits.
    if len(s) >= 2 and s[0] in ".," and s[1] in _DIGITS:
        n = 2
        while _is_digit(s, n):
            n += 1
        s = s[n:]
    if s.startswith("Z"):
        s = s[1:]
    else:
        if len(s) < 6 or s[3] != ":":
            return f"{bad} zone offset"
        sign, hours, minutes, s = s[0], s[1:3], s[4:6], s[6:]
        hh = _getnum(hours, fixed=True)
        mm = _getnum(minutes, fixed=True)
        if hh is None or mm is None:
            return f"{bad} zone offset"
        # Go compares with > here: offsets of 24 hours or 60 minutes are accepted.
        if hh[0] > 24 or mm[0] > 60:
            return f"{bad}: time zone offset out of range"
        if sign not in "+-":
            return f"{bad} zone offset sign"
    if s:
        return f'parsing time "{value}": extra text: "{s}"'
    if not 1 <= day <= _days_in(month, year):
        return f'parsing time "{value}": day out of range'
    return None
