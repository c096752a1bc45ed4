"""The validation report: counts, attachment statistics and issues. Pure data, no printing.

`IssueCollector` keeps issues in the order they are found, up to a cap, while the counts by
code and severity stay exact: a 50 GB archive full of errors must not fill memory with them.
An issue about a reference to something not defined (yet) waits, kept or only counted, for
that definition: when it arrives (`IssueCollector.defined`) the issue becomes "defined-later".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archivekit.check.causes import CauseTally
from archivekit.check.facts import Counts, Unresolved
from archivekit.check.references import defined_later
from archivekit.issues import Issue, Severity

if TYPE_CHECKING:
    from archivekit.report.causes import RootCause
    from archivekit.report.shapes import Shape

DEFAULT_MAX_ISSUES = 1000
# Undefined targets whose issues wait for a definition (distinct targets; beyond this, an
# archive that references a million undefined users keeps its "unknown" errors as they are).
MAX_PENDING = 100_000
# A pending target longer than this is kept by a digest of its name, not the name (see
# `_pending_key`); shorter ones cost no more than a digest and need no hashing.
SHORT_KEY = 64


def _pending_key(target: Unresolved) -> tuple[str, str | bytes]:
    """What `IssueCollector` keeps of an undefined target while its issues wait: the target
    itself when its key is short, else its kind and a 128-bit digest of its key. Nothing reads
    a pending target's name back (its definition brings the name), and names are only bounded
    by the line: 100,000 distinct undefined 20 kB names (a generator writing random channel
    names) would otherwise keep 2 GB. A collision among 100,000 digests has odds of ~1e-29."""
    key = target.key
    if len(key) <= SHORT_KEY:
        return target
    from hashlib import blake2b  # only long names pay for its import (~5 ms of start-up)

    return (target.kind, blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest())


@dataclass(slots=True)
class AttachmentStats:
    """Files: `referenced` distinct members referenced and present, their `bytes`; `missing`
    references the server looks up and does not find; `dropped` reply attachments the server
    never looks up (an earlier attachment of the line failed), whether or not in the archive;
    `unreferenced` files under data/ nobody uses."""

    referenced: int = 0
    bytes: int = 0
    missing: int = 0
    dropped: int = 0
    unreferenced: int = 0
    unreferenced_bytes: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "referenced": self.referenced,
            "bytes": self.bytes,
            "missing": self.missing,
            "dropped": self.dropped,
            "unreferenced": self.unreferenced,
            "unreferenced_bytes": self.unreferenced_bytes,
        }


class _Pending:
    """The issues of references to one undefined target: the kept ones (their places in
    `IssueCollector.kept`), and how many the caps left out (only counted)."""

    __slots__ = ("kept", "left_out")

    def __init__(self) -> None:
        self.kept: list[int] = []
        self.left_out = 0


class IssueCollector:
    """Keeps the first `max_issues` issues (None: all), exact counts of every issue, and every
    issue's root cause (`causes`: added up from all issues, kept or not)."""

    def __init__(self, max_issues: int | None = DEFAULT_MAX_ISSUES) -> None:
        self.max_issues = max_issues
        self.kept: list[Issue] = []
        self.by_code: Counter[str] = Counter()
        self.errors = 0
        self.warnings = 0
        self.causes = CauseTally()
        self._pending: dict[tuple[str, str | bytes], _Pending] = {}

    def add(
        self, issue: Issue, unresolved: Unresolved | None = None, *, keep: bool = False
    ) -> None:
        """Record an issue; one about a reference to the undefined `unresolved` waits for its
        definition (`defined`). ``keep``: kept past the cap (an issue of line 1 held back
        until later lines were read: the place it would have had)."""
        self.causes.add(issue)
        self.by_code[issue.code] += 1
        if issue.severity is Severity.ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        kept = keep or self.max_issues is None or len(self.kept) < self.max_issues
        if kept:
            self.kept.append(issue)
        if unresolved is not None:
            pending = self._pending_for(unresolved)
            if pending is not None:
                if kept:
                    pending.kept.append(len(self.kept) - 1)
                else:
                    pending.left_out += 1

    def count(self, code: str, severity: Severity, n: int) -> None:
        """Count `n` issues that are not kept (left out by a parallel worker's cap)."""
        self.by_code[code] += n
        if severity is Severity.ERROR:
            self.errors += n
        else:
            self.warnings += n

    def left_out_unresolved(self, target: Unresolved, n: int) -> None:
        """`n` issues counted (`count`) but not kept were about references to `target`."""
        pending = self._pending_for(target)
        if pending is not None:
            pending.left_out += n

    def defined(self, target: Unresolved, line: int) -> None:
        """`target` is defined on `line`: the issues that waited for it become "defined-later"
        (kept ones rewritten in place, the others recounted), and so does their root cause."""
        if not self._pending:
            return
        pending = self._pending.pop(_pending_key(target), None)
        if pending is None:
            return
        for index in pending.kept:
            old = self.kept[index]
            new = self.kept[index] = defined_later(old, target, line)
            self._recount(old.code, new.code, 1)
        if pending.left_out:
            self._recount(f"unknown-{target.kind}", "defined-later", pending.left_out)
        self.causes.redefine(target.kind, target.key, len(pending.kept) + pending.left_out, line)

    def _pending_for(self, target: Unresolved) -> _Pending | None:
        key = _pending_key(target)
        pending = self._pending.get(key)
        if pending is None and len(self._pending) < MAX_PENDING:
            pending = self._pending[key] = _Pending()
        return pending

    def _recount(self, old_code: str, new_code: str, n: int) -> None:
        """`n` issues counted under `old_code` belong under `new_code` (same severity)."""
        self.by_code[old_code] -= n
        self.by_code[new_code] += n

    @property
    def truncated(self) -> bool:
        return self.errors + self.warnings > len(self.kept)


@dataclass(slots=True)
class Report:
    """What `validate` found. `valid` is False iff there is an error-severity issue."""

    archive: str
    jsonl: str | None
    lines: int
    counts: Counts
    attachments: AttachmentStats
    issues: list[Issue]
    issue_counts: dict[str, int]
    errors: int
    warnings: int
    truncated: bool
    limits: dict[str, dict[str, Any]] = field(default_factory=dict)
    what_to_change: list[str] = field(default_factory=list)
    revert: list[str] = field(default_factory=list)
    upload_seconds: float | None = None
    target_explicit: bool = False
    # The issues grouped by root cause (all of them, kept or not), in the order to fix them,
    # and what the archive's shape says (`archivekit.report.causes`, `.shapes`).
    causes: list[RootCause] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON document `archivekit validate --format json` prints (stable key order)."""
        return {
            "archive": self.archive,
            "valid": self.valid,
            "jsonl": self.jsonl,
            "lines": self.lines,
            "counts": self.counts.to_dict(),
            "attachment_stats": self.attachments.to_dict(),
            "errors": self.errors,
            "warnings": self.warnings,
            "issue_counts": dict(sorted(self.issue_counts.items())),
            "shapes": [s.to_dict() for s in self.shapes],
            "causes": [c.to_dict() for c in self.causes],
            "issues": [i.to_dict() for i in self.issues],
            "truncated": self.truncated,
            "limits": self.limits,
            "what_to_change": self.what_to_change,
            "revert": self.revert,
            "upload_seconds": self.upload_seconds,
            "target_explicit": self.target_explicit,
        }
