"""Validation on several cores: replicated line processors, one owner per block of lines.

Every worker process opens the archive itself, inflates the whole JSONL (cheap with ISA-L) and
frames it into the same batches. The owner of batch ``b`` (``b % workers``) does all the work
for that batch's lines and sends back its issues and limit facts; the other workers still
process the batch's *definition* lines (teams, channels, users...) silently, so that every
worker holds the same cross-line state, but skip its post lines — the bulk of any export — on
a cheap prefix test. Nothing but results crosses process boundaries: no line data.

The parent merges batch results in order, so issues come out exactly as from one process.
"""

from __future__ import annotations

import multiprocessing
import os
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from archivekit.check.engine import Hooks, LineProcessor
from archivekit.check.files import ReferencedFiles
from archivekit.check.hooks import Dimensions, NeedsHooks
from archivekit.check.limits import Needs
from archivekit.check.references import Existing
from archivekit.check.target import TargetConfig, rule_context
from archivekit.errors import ArchiveError
from archivekit.issues import Issue, Severity
from archivekit.read import (
    Archive,
    LineTooLong,
    MemberIndex,
    ReadLimits,
    iter_line_batches,
    open_archive,
    rechunk,
)
from archivekit.report.model import Counts, IssueCollector

# Lines the non-owners may skip: exports write the type first, exactly like this.
POST_PREFIXES = (b'{"type":"post"', b'{"type":"direct_post"')


class RecordingNeeds:
    """Records `Needs` calls for replay in the parent; maxima are pre-filtered."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._longest = 0
        self._most_files = 0

    def team(self, *args: Any) -> None:
        self.calls.append(("team", args))

    def channel(self, *args: Any) -> None:
        self.calls.append(("channel", args))

    def user_teams(self, *args: Any) -> None:
        self.calls.append(("user_teams", args))

    def attachment(self, *args: Any) -> None:
        self.calls.append(("attachment", args))

    def attachment_totals(self, *args: Any) -> None:
        self.calls.append(("attachment_totals", args))

    def profile_image(self, *args: Any) -> None:
        self.calls.append(("profile_image", args))

    def post_message(self, line: int, field: str, runes: int) -> None:
        if runes > self._longest:
            self._longest = runes
            self.calls.append(("post_message", (line, field, runes)))

    def post_files(self, line: int, field: str, count: int) -> None:
        if count > self._most_files:
            self._most_files = count
            self.calls.append(("post_files", (line, field, count)))

    def take(self) -> list[tuple[str, tuple[Any, ...]]]:
        calls, self.calls = self.calls, []
        return calls


class BatchCollector(IssueCollector):
    """Issues of the current batch, with the marker of an unresolved reference if any."""

    def __init__(self, max_issues: int | None) -> None:
        super().__init__(max_issues)
        self.batch: list[tuple[Issue, tuple[str, str] | None]] = []
        self.sent = 0
        self.dropped: Counter[tuple[str, str]] = Counter()
        # Unresolved references among the dropped issues, so that the parent can still
        # turn their counts into "defined-later".
        self.dropped_unresolved: Counter[tuple[str, str]] = Counter()

    def add(self, issue: Issue) -> int | None:
        if self.max_issues is None or self.sent + len(self.batch) < self.max_issues:
            self.batch.append((issue, None))
            return len(self.batch) - 1
        self.dropped[(issue.code, issue.severity.value)] += 1
        return None

    def take(self) -> list[tuple[Issue, tuple[str, str] | None]]:
        batch, self.batch = self.batch, []
        self.sent += len(batch)
        return batch


class _NullCollector(IssueCollector):
    def add(self, issue: Issue) -> int | None:
        return None


class WorkerProcessor(LineProcessor):
    """A LineProcessor whose issues carry unresolved-reference markers to the parent."""

    def _add(self, issue: Issue, line: int | None) -> None:
        index = self.collector.add(issue.at(issue.member or self.member, line))
        unresolved = self.refs.last_unresolved
        if unresolved is not None:
            self.refs.last_unresolved = None
            collector = self.collector
            if isinstance(collector, BatchCollector):
                if index is not None:
                    collector.batch[index] = (collector.batch[index][0], unresolved)
                elif len(collector.dropped_unresolved) < 100_000:
                    collector.dropped_unresolved[unresolved] += 1

    def _defined(self, kind: str, key: str, line: int) -> None:
        # "Defined later" is decided by the parent, which sees every worker's issues.
        return None


@dataclass(slots=True)
class BatchResult:
    index: int
    nbytes: int
    issues: list[tuple[Issue, tuple[str, str] | None]]
    calls: list[tuple[str, tuple[Any, ...]]]
    identities: bytes
    lines: bytes


@dataclass(slots=True)
class WorkerTotals:
    batches: int
    lines: int
    counts: Counts
    missing: int
    referenced: ReferencedFiles
    fatal_files: set[str]
    dropped: Counter[tuple[str, str]]
    dropped_unresolved: Counter[tuple[str, str]]
    definitions: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WorkerJob:
    """What a worker needs to replay the validation of its share."""

    path: str
    read_limits: ReadLimits | None
    target: TargetConfig
    me: int
    workers: int
    max_issues: int | None
    block_size: int
    existing: Existing | None = None
    # The parent's member index: shared by a forked worker (pickled for a spawned one it
    # becomes None, and the worker reads the directory itself).
    index: MemberIndex | None = None


def _worker(conn: Connection, job: WorkerJob) -> None:
    try:
        _work(conn, job)
    except ArchiveError as exc:
        conn.send(("archive-error", exc.issue))
    except BaseException as exc:  # reported to the parent, which decides
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _work(conn: Connection, job: WorkerJob) -> None:
    path, read_limits, target = job.path, job.read_limits, job.target
    me, workers, max_issues, block_size = job.me, job.workers, job.max_issues, job.block_size
    with open_archive(path, limits=read_limits, index=job.index) as archive:
        collector = BatchCollector(max_issues)
        recorder = RecordingNeeds()
        hooks = NeedsHooks(recorder, Dimensions(archive))
        processor = WorkerProcessor(
            archive,
            collector,
            ctx=rule_context(target),
            hooks=hooks,
            default_channels=tuple(target.default_channels()),
            existing=job.existing,
        )
        counts, silent_counts = processor.counts, Counts()
        deduper, null_collector, null_hooks = processor.deduper, _NullCollector(None), Hooks()
        identities = array("Q")
        identity_lines = array("Q")

        def record(identity: int, line: int) -> None:
            identities.append(identity)
            identity_lines.append(line)

        def record_many(identities_bytes: bytes, lines_bytes: bytes) -> None:
            identities.frombytes(identities_bytes)
            identity_lines.frombytes(lines_bytes)

        deduper.add = record  # type: ignore[method-assign]
        deduper.add_many = record_many  # type: ignore[method-assign,assignment]
        line = 0
        batch_index = -1
        for batch_index, batch in enumerate(
            iter_line_batches(rechunk(archive.iter_jsonl_blocks(block_size), block_size))
        ):
            owner = batch_index % workers == me
            if owner:
                processor.process_lines(line + 1, batch)
                line += len(batch)
                conn.send(
                    BatchResult(
                        batch_index,
                        sum(len(r) + 1 for r in batch if not isinstance(r, LineTooLong)),
                        collector.take(),
                        recorder.take(),
                        identities.tobytes(),
                        identity_lines.tobytes(),
                    )
                )
                del identities[:], identity_lines[:]
                continue
            # Not ours: keep the cross-line state in step, report nothing.
            processor.collector, processor.hooks = null_collector, null_hooks
            processor.counts = silent_counts
            missing = processor.missing
            for raw in batch:
                line += 1
                if isinstance(raw, LineTooLong) or raw.startswith(POST_PREFIXES):
                    continue
                processor.process(line, raw)
            processor.collector, processor.hooks, processor.counts = collector, hooks, counts
            processor.missing = missing
            del identities[:], identity_lines[:]
        processor.lines = line
        conn.send(("end", batch_index + 1))
        request = conn.recv()  # pending (kind, key) pairs the parent wants resolved
        definitions = {}
        for kind, key in {*request, *collector.dropped_unresolved}:
            defined = processor.refs.is_defined(kind, key)
            if defined is not None:
                definitions[(kind, key)] = defined
        conn.send(
            (
                "done",
                WorkerTotals(
                    batch_index + 1,
                    line,
                    counts,
                    processor.missing,
                    processor.referenced,
                    processor.fatal_files,
                    collector.dropped,
                    collector.dropped_unresolved,
                    definitions,
                ),
            )
        )


@dataclass(slots=True)
class ParallelOutcome:
    lines: int
    counts: Counts
    missing: int
    referenced: ReferencedFiles
    deduper_pairs: list[tuple[bytes, bytes]]


def default_workers(jsonl_size: int) -> int:
    """Two or more cores and a JSONL worth it (≥ 32 MB): one worker per core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not cores or cores < 2 or jsonl_size < 32 * 2**20:
        return 1
    return min(cores, 8)


def run_parallel(
    path: str,
    archive: Archive,
    collector: IssueCollector,
    needs: Needs,
    target: TargetConfig,
    *,
    workers: int,
    read_limits: ReadLimits | None,
    max_issues: int | None,
    progress: Callable[[int, int], None] | None,
    block_size: int = 1 << 20,
    existing: Existing | None = None,
) -> LineProcessor:
    """Validate the JSONL with `workers` processes; returns a LineProcessor holding the totals
    (its `finish` runs the archive-wide checks in the parent)."""
    # fork: the children start at once with the modules already imported.
    context: Any = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    pipes: list[Connection] = []
    processes = []
    for me in range(workers):
        parent_end, child_end = context.Pipe(duplex=True)
        process = context.Process(
            target=_worker,
            args=(
                child_end,
                WorkerJob(
                    path,
                    read_limits,
                    target,
                    me,
                    workers,
                    max_issues,
                    block_size,
                    existing,
                    archive.index if archive.kind == "zip" else None,
                ),
            ),
            daemon=True,
        )
        process.start()
        child_end.close()
        pipes.append(parent_end)
        processes.append(process)
    merged = LineProcessor(
        archive,
        collector,
        ctx=rule_context(target),
        default_channels=tuple(target.default_channels()),
    )
    pending: dict[tuple[str, str], list[int | None]] = {}
    done_bytes = 0
    try:
        batch_index = 0
        while True:
            last = batch_index % workers
            message = pipes[last].recv()
            if not isinstance(message, BatchResult):
                _raise_for(message)
                if message[0] != "end":
                    _never(message)
                break
            for issue, unresolved in message.issues:
                index = collector.add(issue)
                if unresolved is not None:
                    # Dropped by the cap here (index None): still counted when it turns
                    # out to be defined later.
                    pending.setdefault(unresolved, []).append(index)
            for name, args in message.calls:
                getattr(needs, name)(*args)
            if message.identities:
                hashes = array("Q", message.identities)
                lines = array("Q", message.lines)
                for identity, line in zip(hashes, lines, strict=True):
                    merged.deduper.add(identity, line)
            done_bytes += message.nbytes
            if progress is not None:
                progress(done_bytes, archive.jsonl.size)
            batch_index += 1
        # Every other worker has sent all its batches: its next message is its end too.
        for other in range(workers):
            if other != last:
                message = pipes[other].recv()
                _raise_for(message)
                if message[0] != "end":
                    _never(message)
        # The others first: their dropped unresolved references join the question to worker 0.
        for other in range(1, workers):
            pipes[other].send([])
        others = [_final(pipes[other]) for other in range(1, workers)]
        for part in others:
            for marker, n in part.dropped_unresolved.items():
                pending.setdefault(marker, []).extend([None] * n)
        # Worker 0 saw every definition: ask where the pending references were defined.
        pipes[0].send(list(pending))
        totals = _final(pipes[0])
        for marker, n in totals.dropped_unresolved.items():
            pending.setdefault(marker, []).extend([None] * n)
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    every = [totals, *others]
    merged.lines = totals.lines
    for part in every:
        for name in merged.counts.__slots__:
            setattr(merged.counts, name, getattr(merged.counts, name) + getattr(part.counts, name))
        merged.missing += part.missing
        merged.referenced |= part.referenced
        merged.fatal_files |= part.fatal_files
        for (code, severity), n in part.dropped.items():
            collector.by_code[code] += n
            if severity == Severity.ERROR.value:
                collector.errors += n
            else:
                collector.warnings += n
    for (kind, key), indexes in pending.items():
        defined = totals.definitions.get((kind, key))
        if defined is not None:
            for index in indexes:
                merged.mark_defined_later(index, kind, key, defined)
    return merged


def _never(message: Any) -> WorkerTotals:
    raise RuntimeError(f"unexpected worker message {message!r}")


def _raise_for(message: Any) -> None:
    if isinstance(message, tuple) and message and message[0] == "archive-error":
        raise ArchiveError(message[1])
    if isinstance(message, tuple) and message and message[0] == "crash":
        raise RuntimeError(f"validation worker failed: {message[1]}")


def _final(pipe: Connection) -> WorkerTotals:
    message = pipe.recv()
    _raise_for(message)
    if not (isinstance(message, tuple) and message[0] == "done"):
        return _never(message)
    totals: WorkerTotals = message[1]
    return totals
