"""Small measuring helpers shared by the rules (Go's byte and rune lengths)."""

from __future__ import annotations

from typing import Any


def byte_len(s: str) -> int:
    """Go ``len(s)``: UTF-8 bytes. ASCII strings skip the encode (the common case)."""
    return len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))


def rune_len(s: str) -> int:
    """Go ``utf8.RuneCountInString``: code points (decode already replaced lone surrogates)."""
    return len(s)


def is_blank(value: Any) -> bool:
    """Absent or the empty string (how the server tests optional strings)."""
    return value is None or value == ""
