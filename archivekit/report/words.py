"""Words every report shares (its own module: the text report of a valid archive needs them
without loading `archivekit.report.causes`)."""

from __future__ import annotations


def plural(n: int, one: str, several: str | None = None) -> str:
    """'1 line', '2 lines' (`several` for irregular plurals)."""
    return f"{n:,} {one if n == 1 else several or one + 's'}"
