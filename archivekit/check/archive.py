"""Checks of the archive as a whole, as the server sees it (not of its lines)."""

from __future__ import annotations

from archivekit.issues import Issue, Severity


def empty_jsonl_issue(member: str) -> Issue:
    """A JSONL without a single line."""
    return Issue(
        "empty-archive",
        Severity.WARNING,
        "the JSONL has no lines: the server reports success and imports nothing",
        member,
        None,
    )
