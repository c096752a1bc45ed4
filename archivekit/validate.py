"""`validate`: stream an archive through every rule and return a `Report`.

Order of the report's issues: problems of the archive itself (found when it is opened), then
line issues by line number, then archive-wide findings (unreferenced files, target limits).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from archivekit.check.archive import archive_issues
from archivekit.check.engine import LineProcessor
from archivekit.check.facts import Findings
from archivekit.check.files import DROPPED_FILE_CODE, Unreferenced, unreferenced_issues
from archivekit.check.limits import DEFAULT_BANDWIDTH_BPS, Needs, check_limits
from archivekit.check.references import Existing
from archivekit.check.target import TargetConfig, rule_context
from archivekit.issues import Issue
from archivekit.read import BLOCK_SIZE, Archive, LineTooLong, ReadLimits, open_archive
from archivekit.read.records import RecordStream
from archivekit.read.source import file_path, is_stream
from archivekit.report.model import DEFAULT_MAX_ISSUES, AttachmentStats, IssueCollector, Report
from archivekit.report.shapes import archive_shapes
from archivekit.report.tally import Tally
from archivekit.runtime import RunDirectory, default_workers

if TYPE_CHECKING:
    from archivekit.check.causes import CauseTally
    from archivekit.check.table_counts import TableCounts
    from archivekit.check.table_lines import TableLines
    from archivekit.report.causes import RootCause

Progress = Callable[[int, int], None]


class BatchReader(Protocol):
    """Something else made of the lines validate reads (`validate(..., also_read=)`)."""

    def read_batch(self, first: int, batch: list[bytes | LineTooLong]) -> None:
        """Take `batch` (raw lines as framed), whose first line is line number `first`."""


def _ordered(issues: list[Issue], opened: int) -> list[Issue]:
    """Archive issues first, line issues by line (stable), archive-wide findings last.
    version-missing, which `report.tally.Tally` holds back until a later version line or the
    end of the JSONL, takes its place back: line 1's first issue."""
    head = issues[:opened]
    rest = issues[opened:]
    located = sorted(
        (i for i in rest if i.line is not None),
        key=lambda i: (i.line or 0, i.code != "version-missing"),
    )
    tail = [i for i in rest if i.line is None]
    return head + located + tail


def validate(
    path: str | os.PathLike[str],
    *,
    target: TargetConfig | None = None,
    explicit: bool = False,
    bandwidth_bps: float = DEFAULT_BANDWIDTH_BPS,
    max_issues: int | None = DEFAULT_MAX_ISSUES,
    read_limits: ReadLimits | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    block_size: int = BLOCK_SIZE,
    verify_files: bool = False,
    existing: Existing | None = None,
    table_counts: TableCounts | None = None,
    tables_counted: Callable[[TableCounts], None] | None = None,
    also_read: BatchReader | None = None,
) -> Report:
    """Check every line of an archive as the server would, and the archive against a target.

    Args:
        path: a zip export, a bare ``.jsonl`` or an unzipped export directory; ``-``
            (standard input) or a pipe: read front to back (`archivekit.read.stream`), with
            the same report as from the file (`archivekit.check.streamed`).
        target: the target server's settings (defaults: a stock server).
        explicit: whether `target` was given by the user; limit hits are then errors.
        bandwidth_bps: upload bandwidth in bits per second for the timeout estimate.
        max_issues: keep at most this many issues (counts stay exact); None keeps all.
        read_limits: zip-bomb limits.
        progress: called with (uncompressed JSONL bytes read, total) now and then.
        workers: processes to use; None picks one per core for large archives (for a
            stream, whose size is not known: one per core, at most two). The report is the
            same whatever the number.
        block_size: bytes of JSONL inflated at a time (the unit of work of a worker).
        verify_files: also read every referenced file in full and report damaged data (costs
            as much I/O as the files are large).
        existing: teams, channels, users and schemes the target already has: references to
            them resolve without a defining line (for imports into a populated server).
        table_counts: when given, the tables' figures of every line
            (`archivekit.check.table_counts`) are added to it, counted in the same read as
            the checks (each worker counts the batches it checks: the report page's one
            pass). Not for a stream (``-`` or a pipe), which is then refused.
        tables_counted: called with `table_counts` once every line is counted, before the
            checks that follow the read (the report starts drawing its charts then).
        also_read: given every batch of lines, in order, as the checks read it (the report
            page reads the reconciliation's SOURCE side from validate's read). The lines are
            then read in one process (`workers` is not used); not for a stream either.

    Raises:
        ArchiveError: the archive cannot be used at all (exit code 3 in the CLI).
    """
    target = target or TargetConfig()
    ctx = rule_context(target)
    collector = IssueCollector(max_issues)
    count_tables = table_counts is not None
    # Counting tables (or reading lines for another) needs a file: opened as one, a stream is
    # refused with its ArchiveError.
    stream = is_stream(path) and not count_tables and also_read is None
    source = file_path(path)
    # Temporary files of the run live in one directory, removed however the run ends.
    with contextlib.ExitStack() as stack:
        run = stack.enter_context(RunDirectory())
        archive: Archive
        streamed: Iterator[Findings] | None = None
        if stream:
            # Only a stream pays for the stream reader and the deferred checks.
            from archivekit.check.streamed import StreamJob, check_copy, interleaved
            from archivekit.check.streamed import stream_findings as read_stream
            from archivekit.read.stream import open_stream
            from archivekit.read.teed import TeedProcess, stream_workers

            teed, tee, share = None, None, (0, 1)
            if stream_workers(workers) > 1:
                # Started before the stream's reader starts a thread: a second process
                # checks every other batch of lines of a copy of the stream.
                job = StreamJob(
                    os.fspath(path), str(run.path), read_limits, verify_files, ctx, existing,
                    max_issues, block_size,
                )  # fmt: skip
                teed = stack.enter_context(TeedProcess(check_copy, (job,), "validation"))
                tee, share = teed.take_tee(), (0, 2)
            archive = stack.enter_context(
                open_stream(path, run=run, limits=read_limits, verify=verify_files, tee=tee)
            )
            streamed = read_stream(archive, run, stack, ctx, existing, block_size, progress, share)
            if teed is not None:
                streamed = interleaved(streamed, teed)
        else:
            archive = stack.enter_context(open_archive(source, limits=read_limits))
        for issue in archive_issues(archive):
            collector.add(issue)
        opened = len(collector.kept)
        needs = Needs(target, jsonl_member=archive.jsonl.name)
        # One process or several, a file or a stream, the engine's findings are added up by
        # the same Tally, in the same order.
        tally = Tally(collector, needs, run, len(archive.index))
        if workers is None:
            workers = default_workers(archive.jsonl.size)
        if streamed is not None:
            for found in streamed:
                tally.add(found)
        elif workers > 1 and archive.kind != "jsonl" and also_read is None:
            from archivekit.check.parallel import ParallelRun  # only a parallel run pays for it

            run.remove_abandoned()
            with ParallelRun(
                source,
                workers=workers,
                ctx=ctx,
                read_limits=read_limits,
                max_issues=max_issues,
                block_size=block_size,
                existing=existing,
                progress=progress,
                total=archive.jsonl.size,
                index=archive.index,
                count_tables=count_tables,
            ) as parallel:
                for found in parallel:
                    tally.add(found)
            if table_counts is not None:
                parallel.add_table_counts(table_counts)
        else:
            processor = LineProcessor(archive, ctx=ctx, existing=existing)
            total = archive.jsonl.size
            tables = None
            if count_tables:
                # Only the report page's run counts the tables (and pays for their import).
                from archivekit.check.table_lines import TableLines

                # Counted in a thread while the checks run (one process: two cores help).
                tables = TableLines(archive, background=True)
                stack.callback(tables.close)
            found_in = _process(processor, archive, block_size, progress, total, tables, also_read)
            for found in found_in:
                tally.add(found)
            if table_counts is not None and tables is not None:
                table_counts.merge(tables.counts(tally.lines))
        if table_counts is not None and tables_counted is not None:
            tables_counted(table_counts)
        tally.end_of_stream(archive.jsonl.name)
        if archive.kind != "jsonl":
            room = None if max_issues is None else max(max_issues - len(collector.kept), 0)
            _add_unreferenced(collector, unreferenced_issues(archive, tally.referenced, room))
        if verify_files and archive.kind != "jsonl":
            from archivekit.check.verify import verify_files as check_files  # --verify-files

            referenced = (archive.index[i].key for i in tally.referenced.indexes())
            for issue in check_files(archive, referenced, tally.fatal_files):
                collector.add(issue)
        needs.archive(archive.size, archive.jsonl.size)
        limits = check_limits(needs, target, explicit=explicit, bandwidth_bps=bandwidth_bps)
        for issue in limits.issues:
            collector.add(issue if issue.member else issue.at(archive.jsonl.name, issue.line))
        stats = _attachment_stats(archive, tally, collector.by_code[DROPPED_FILE_CODE])
        causes = _root_causes(collector.causes, limits.limits)
        shapes = archive_shapes(
            tally.counts,
            causes,
            users_in_teams=tally.users_in_teams,
            files_missing=stats.missing,
            files_present=stats.referenced + stats.unreferenced,
            zipped=archive.kind != "jsonl",
        )
        return Report(
            archive=str(path),
            jsonl=archive.jsonl.name,
            lines=tally.lines,
            counts=tally.counts,
            attachments=stats,
            issues=_ordered(collector.kept, opened),
            issue_counts={code: n for code, n in collector.by_code.items() if n},
            errors=collector.errors,
            warnings=collector.warnings,
            truncated=collector.truncated,
            limits=limits.limits,
            what_to_change=limits.what_to_change,
            revert=limits.revert,
            upload_seconds=limits.upload_seconds,
            target_explicit=explicit,
            causes=causes,
            shapes=shapes,
        )


def _root_causes(tally: CauseTally, limits: dict[str, dict[str, Any]]) -> list[RootCause]:
    """The report's root causes; report.causes (their words: a large module) is loaded only
    when there is a problem to put in words, not on a start-up-bound run of a valid archive."""
    if not tally.causes and not tally.others:
        return []
    from archivekit.report.causes import root_causes

    return root_causes(tally, limits)


def _process(
    processor: LineProcessor,
    archive: Archive,
    block_size: int,
    progress: Progress | None,
    total: int,
    tables: TableLines | None = None,
    also_read: BatchReader | None = None,
) -> Iterator[Findings]:
    """Every line of the JSONL through `processor`, in this process, batch by batch
    (`total`: its size for the progress, 0 when unknown); counted into `tables` too when
    given, and to `also_read` when given. Raw lines: the engine's fast path takes most of
    them undecoded and makes a record only of the others."""
    stream = RecordStream(
        archive,
        block_size=block_size,
        progress=None if progress is None else lambda done: progress(done, total),
    )
    for first, batch in stream.raw_batches():
        processor.process_lines(first, batch)
        if tables is not None:
            tables.count(first, batch)
        if also_read is not None:
            also_read.read_batch(first, batch)
        yield processor.take()


def _add_unreferenced(collector: IssueCollector, found: Unreferenced) -> None:
    """The issues of the files no line uses, those only counted too (as if each were added:
    the counts and the root cause stay exact)."""
    for issue in found.issues:
        collector.add(issue)
    if found.counted:
        like = found.issues[0]  # the counted ones come after MAX_NAMES built ones at least
        collector.count(like.code, like.severity, found.counted)
        collector.causes.add_count(like, found.counted, folder=found.folder)


def _attachment_stats(archive: Archive, tally: Tally, dropped: int) -> AttachmentStats:
    stats = AttachmentStats(missing=tally.missing, dropped=dropped)
    if archive.kind == "jsonl":
        return stats
    index = archive.index
    # A repeated name counts once (the server keeps only one of them); the JSONL not at all.
    stats.referenced, stats.bytes, stats.unreferenced, stats.unreferenced_bytes = index.stats(
        tally.referenced.bits, index.find(archive.jsonl.key)
    )
    return stats
