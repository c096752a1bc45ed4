"""Adding up the engine's findings into what a report is made of.

`Tally.add` takes the `Findings` of one batch of lines — from the engine in this process, or
from a parallel worker, in line order either way — and keeps: the issue list (capped, counts
exact) with "defined later" resolved as definitions arrive, the facts the target limits need
(fed to `Needs`), the post identities (fed to the deduper), the counts and the files used.
One code path for one process and for many: the reports cannot differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archivekit.check.archive import empty_jsonl_issue
from archivekit.check.duplicates import Deduper, duplicate_post_issue
from archivekit.check.facts import (
    DEFINITIONS,
    Counts,
    FilesUsed,
    FileUsed,
    Findings,
    Unresolved,
    UserDefined,
)
from archivekit.check.files import ReferencedFiles
from archivekit.check.limits import Needs
from archivekit.check.references import defined_later
from archivekit.issues import Severity
from archivekit.report.model import IssueCollector
from archivekit.runtime import RunDirectory

# Unresolved references remembered for "defined later" (distinct targets; beyond this, an
# archive that references a million undefined users keeps its "unknown" errors as they are).
MAX_PENDING = 100_000


@dataclass(slots=True)
class _Pending:
    """The issues of references to one undefined target: kept ones by index, and how many the
    cap left out (only counted)."""

    kept: list[int] = field(default_factory=list)
    left_out: int = 0


class Tally:
    """Everything the engine's findings add up to (see the module doc)."""

    def __init__(
        self,
        collector: IssueCollector,
        needs: Needs,
        run: RunDirectory | None = None,
        entries: int = 0,
    ) -> None:
        self.collector = collector
        self.needs = needs
        self.deduper = Deduper(run)
        self.counts = Counts()
        self.lines = 0
        self.missing = 0
        # Members the lines use (present in the archive: a bit per entry of its member
        # index, `entries` of them), and those whose damage stops the import (profile and
        # emoji images), for --verify-files.
        self.referenced = ReferencedFiles(entries)
        self.fatal_files: set[str] = set()
        # User lines that join a team (the archive's shape: users in no team at all).
        self.users_in_teams = 0
        self._pending: dict[Unresolved, _Pending] = {}

    def add(self, found: Findings) -> None:
        """One batch's findings, in line order (issues before the facts of the same batch: a
        reference and a later definition may share a batch, never the other way round)."""
        self.lines += found.lines
        self.counts.add(found.counts)
        self.missing += found.missing
        for issue, unresolved in found.issues:
            index = self.collector.add(issue)
            if unresolved is not None:
                pending = self._pending_for(unresolved)
                if pending is not None:
                    if index is None:
                        pending.left_out += 1
                    else:
                        pending.kept.append(index)
        for (code, severity), n in found.left_out.items():
            self.collector.count(code, severity, n)
        if found.left_out_causes is not None:
            self.collector.causes.merge(found.left_out_causes)
        for unresolved, n in found.left_out_unresolved.items():
            pending = self._pending_for(unresolved)
            if pending is not None:
                pending.left_out += n
        for fact in found.facts:
            if isinstance(fact, DEFINITIONS):
                self._defined(fact.defines, fact.line)
                if isinstance(fact, UserDefined) and fact.teams:
                    self.users_in_teams += 1
            elif isinstance(fact, FilesUsed):
                self.referenced.add_packed(fact.members)
            elif isinstance(fact, FileUsed):
                self.referenced.add(fact.entry)
                if fact.fatal:
                    self.fatal_files.add(fact.key)
            self.needs.see(fact)
        if found.identities:
            self.deduper.add_many(found.identities, found.identity_lines)

    def _pending_for(self, target: Unresolved) -> _Pending | None:
        pending = self._pending.get(target)
        if pending is None and len(self._pending) < MAX_PENDING:
            pending = self._pending[target] = _Pending()
        return pending

    def _defined(self, target: Unresolved, line: int) -> None:
        """A definition arrived: earlier "unknown" issues for it become "defined-later"."""
        pending = self._pending.pop(target, None)
        if pending is None:
            return
        for index in pending.kept:
            self.collector.replace(index, defined_later(self.collector.kept[index], target, line))
        if pending.left_out:
            self.collector.recount(f"unknown-{target.kind}", "defined-later", pending.left_out)
        self.collector.causes.redefine(
            target.kind, target.key, len(pending.kept) + pending.left_out, line
        )

    def end_of_stream(self, member: str) -> None:
        """Archive-wide issues of the JSONL `member`, once every line is in."""
        if self.lines == 0:
            self.collector.add(empty_jsonl_issue(member))
        duplicates, total = self.deduper.duplicates()
        for dup_line, first in duplicates:
            self.collector.add(duplicate_post_issue(first).at(member, dup_line))
        # Beyond the deduper's cap only the count is kept.
        beyond = total - len(duplicates)
        self.collector.count("duplicate-post", Severity.WARNING, beyond)
        self.collector.causes.add_count(duplicate_post_issue(0), beyond)
