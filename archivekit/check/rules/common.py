"""Small helpers shared by the rules (Go's byte and rune lengths: `archivekit.gosem.strings`)."""

from __future__ import annotations

from typing import Any


def is_blank(value: Any) -> bool:
    """Absent or the empty string (how the server tests optional strings)."""
    return value is None or value == ""
