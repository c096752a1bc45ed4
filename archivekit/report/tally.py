"""Adding up the engine's findings into what a report is made of.

`Tally.add` takes the `Findings` of one batch of lines — from the engine in this process, or
from a parallel worker, in line order either way — and keeps: the issue list (capped, counts
exact, in the `IssueCollector`, which turns an "unknown" reference into "defined later" when a
definition fact arrives), the facts the target limits need (fed to `Needs`), the post
identities (fed to the deduper), the counts and the files used.
One code path for one process and for many: the reports cannot differ.
"""

from __future__ import annotations

from archivekit.check.archive import empty_jsonl_issue
from archivekit.check.duplicates import Deduper, duplicate_post_issue
from archivekit.check.envelope import version_moved
from archivekit.check.facts import (
    DEFINITIONS,
    Counts,
    FilesUsed,
    FileUsed,
    Findings,
    UserDefined,
)
from archivekit.check.files import ReferencedFiles
from archivekit.check.limits import Needs
from archivekit.issues import Issue, Severity
from archivekit.report.model import IssueCollector
from archivekit.runtime import RunDirectory


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
        # version-missing (line 1 is another line), held back until a later version line or
        # the end: whether fix repairs it depends on that line (`version_moved`).
        self._version_missing: Issue | None = None

    def add(self, found: Findings) -> None:
        """One batch's findings, in line order (issues before the facts of the same batch: a
        reference and a later definition may share a batch, never the other way round)."""
        self.lines += found.lines
        self.counts.add(found.counts)
        self.missing += found.missing
        for issue, unresolved in found.issues:
            if issue.code == "version-missing" and issue.values.get("found") != "version":
                self._version_missing = issue
                continue
            if issue.code == "version-not-first" and self._version_missing is not None:
                self._release_version(bool(issue.values.get("versioned")))
            self.collector.add(issue, unresolved)
        for (code, severity), n in found.left_out.items():
            self.collector.count(code, severity, n)
        if found.left_out_causes is not None:
            self.collector.causes.merge(found.left_out_causes)
        for unresolved, n in found.left_out_unresolved.items():
            self.collector.left_out_unresolved(unresolved, n)
        for fact in found.facts:
            if isinstance(fact, DEFINITIONS):
                self.collector.defined(fact.defines, fact.line)
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

    def _release_version(self, moved: bool) -> None:
        """The held version-missing issue, named repairable when fix ``moved`` the first later
        version line to line 1 (it has a version)."""
        issue = self._version_missing
        self._version_missing = None
        if issue is not None:
            self.collector.add(version_moved(issue) if moved else issue, keep=True)

    def end_of_stream(self, member: str) -> None:
        """Archive-wide issues of the JSONL `member`, once every line is in."""
        self._release_version(False)
        if self.lines == 0:
            self.collector.add(empty_jsonl_issue(member))
        duplicates, total = self.deduper.duplicates()
        for dup_line, first in duplicates:
            self.collector.add(duplicate_post_issue(first).at(member, dup_line))
        # Beyond the deduper's cap only the count is kept.
        beyond = total - len(duplicates)
        self.collector.count("duplicate-post", Severity.WARNING, beyond)
        self.collector.causes.add_count(duplicate_post_issue(0), beyond)
