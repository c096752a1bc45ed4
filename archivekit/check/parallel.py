"""Validation on several cores: replicated engines, one owner per block of lines.

Every worker process opens the archive itself, inflates the whole JSONL (cheap with ISA-L) and
frames it into the same batches. The owner of batch ``b`` (``b % workers``) processes all of
the batch's lines and sends back what the engine found (`Findings`); the other workers still
process the batch's *definition* lines (teams, channels, users...) and drop what they find, so
that every worker holds the same cross-line state, but skip its post lines — the bulk of any
export — on a cheap test that decides a line's type exactly as the decoder does
(`type_is_settled`: Go keeps the last of repeated, case-folded ``type`` keys). Nothing but
findings crosses process boundaries: no line data. For the report page a worker also counts
the tables' figures of the batches it owns, in the same read (`count_tables`), and sends
those counters (bounded by teams, channels and users) with its end.

`ParallelRun` yields the findings in batch order: the caller adds them up exactly as it adds
up a one-process run's (`archivekit.report.tally`), so the report is the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

from archivekit.check.engine import LineProcessor
from archivekit.check.facts import Findings
from archivekit.check.fast.fastpath import (
    DIRECT_POST_TYPE_PREFIX,
    NATIVE_SETTLED,
    POST_TYPE_PREFIX,
)
from archivekit.check.references import Existing
from archivekit.check.rules.context import RuleContext
from archivekit.check.table_counts import TableCounts
from archivekit.check.table_lines import TableLines
from archivekit.errors import ArchiveError
from archivekit.gosem.decode import type_is_settled
from archivekit.read import BLOCK_SIZE, LineTooLong, MemberIndex, ReadLimits, open_archive
from archivekit.read.records import RecordStream
from archivekit.runtime import forking_workers, guard_worker, worker_ended

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# Runs of post lines whose type is settled (`type_is_settled`), found in C without a call
# per line; None without the extension (every line then meets `defines_nothing`).
SETTLED_POSTS = NATIVE_SETTLED


def definition_lines(batch: list[bytes | LineTooLong]) -> Iterator[int]:
    """Indexes of the lines of `batch` that may define something: every line but posts and
    direct posts as Go decodes them (runs of those are passed over in C when it is built)."""
    index, end = 0, len(batch)
    while index < end:
        if SETTLED_POSTS is not None:
            index = SETTLED_POSTS(batch, index)
            if index == end:
                return
        if not defines_nothing(batch[index]):
            yield index
        index += 1


def defines_nothing(raw: bytes | LineTooLong) -> bool:
    """Whether a line can change no worker's cross-line state: too long (the server stops
    there), or a post or direct post as Go decodes it (or not decodable at all)."""
    if isinstance(raw, LineTooLong):
        return True
    return type_is_settled(raw, POST_TYPE_PREFIX) or type_is_settled(raw, DIRECT_POST_TYPE_PREFIX)


class WorkerJob(NamedTuple):
    """What a worker needs to replay the validation of its share."""

    path: str
    read_limits: ReadLimits | None
    ctx: RuleContext
    me: int
    workers: int
    max_issues: int | None
    block_size: int
    existing: Existing | None = None
    parent: int = 0  # the parent's pid: a worker ends when its parent is gone
    # The parent's member index: shared by a forked worker (pickled for a spawned one it
    # becomes None, and the worker reads the central directory itself).
    member_index: MemberIndex | None = None
    # Also count the tables' figures of its own batches, in the same read (the report page).
    count_tables: bool = False


class BatchResult(NamedTuple):
    """The findings of one batch, and its size in JSONL bytes (for the progress)."""

    batch: int  # its index in the JSONL
    nbytes: int
    findings: Findings


def _worker(conn: Connection, job: WorkerJob) -> None:
    guard_worker(job.parent)
    try:
        _work(conn, job)
    except ArchiveError as exc:
        conn.send(("archive-error", exc.issue))
    except BaseException as exc:  # reported to the parent, which decides
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _work(conn: Connection, job: WorkerJob) -> None:
    with open_archive(job.path, limits=job.read_limits, index=job.member_index) as archive:
        processor = LineProcessor(archive, ctx=job.ctx, existing=job.existing)
        tables = TableLines(archive) if job.count_tables else None
        # The parent keeps at most max_issues issues, the first ones in line order: those are
        # among this worker's first max_issues. Beyond them only counts travel.
        budget = job.max_issues
        batch_index = -1
        # Every batch: those of the other workers for their definitions.
        stream = RecordStream(archive, block_size=job.block_size)
        for batch_index, (first, batch) in enumerate(stream.raw_batches()):
            if batch_index % job.workers == job.me:
                processor.process_lines(first, batch)
                if tables is not None:
                    tables.count(first, batch)
                found = processor.take()
                if budget is not None:
                    found.keep_issues(budget)
                    budget -= len(found.issues)
                nbytes = sum(len(r) + 1 for r in batch if not isinstance(r, LineTooLong))
                conn.send(BatchResult(batch_index, nbytes, found))
            else:
                # Not ours: keep the cross-line state in step; the owner reports this batch.
                for index in definition_lines(batch):
                    processor.process(first + index, batch[index])
                processor.take()
        conn.send(("end", batch_index + 1, None if tables is None else tables.counts(stream.lines)))


class ParallelRun:
    """`workers` processes validating one archive; iterate for the findings in batch order.

    Use as a context manager: leaving it ends the workers (after an error, too).
    """

    def __init__(
        self,
        path: str,
        *,
        workers: int,
        ctx: RuleContext,
        read_limits: ReadLimits | None,
        max_issues: int | None,
        block_size: int = BLOCK_SIZE,
        existing: Existing | None = None,
        progress: Callable[[int, int], None] | None = None,
        total: int = 0,
        index: MemberIndex | None = None,
        count_tables: bool = False,
    ) -> None:
        """`index`: the archive's member index, already read (forked workers share it);
        `count_tables`: the workers also count the tables' figures of their batches
        (`add_table_counts`, once the run is over)."""
        self.workers = workers
        parent = os.getpid()
        self.jobs = [
            WorkerJob(
                path,
                read_limits,
                ctx,
                me,
                workers,
                max_issues,
                block_size,
                existing,
                parent,
                index,
                count_tables,
            )
            for me in range(workers)
        ]
        self._counted: list[TableCounts | None] = [None] * workers
        self.progress = progress
        self.total = total
        self._pipes: list[Connection] = []
        self._processes: list[Any] = []

    def __enter__(self) -> ParallelRun:
        # Imported here: a one-process run never pays for multiprocessing.
        import multiprocessing

        # fork: the children start at once with the modules already imported.
        context: Any = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        with forking_workers():  # no SIGTERM before a worker's own handlers (guard_worker)
            for job in self.jobs:
                parent_end, child_end = context.Pipe(duplex=True)
                process = context.Process(target=_worker, args=(child_end, job), daemon=True)
                process.start()
                child_end.close()
                self._pipes.append(parent_end)
                self._processes.append(process)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Stopped early (an error, Ctrl-C, SIGTERM): end the workers now, they may be blocked
        # sending batches nobody will read. Otherwise they are ending on their own.
        if exc_type is not None:
            for process in self._processes:
                process.kill()
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        for pipe in self._pipes:
            pipe.close()

    def __iter__(self) -> Iterator[Findings]:
        workers = self.workers
        done_bytes = 0
        batch_index = 0
        while True:
            last = batch_index % workers
            message = self._receive(last)
            if not isinstance(message, BatchResult):
                self._end(last, message)
                break
            yield message.findings
            done_bytes += message.nbytes
            if self.progress is not None:
                self.progress(done_bytes, self.total)
            batch_index += 1
        # Every other worker has sent all its batches: its next message is its end too.
        for other in range(workers):
            if other != last:
                self._end(other, self._receive(other))

    def _end(self, worker: int, message: Any) -> None:
        """Raise what a worker reported instead of a batch, unless it is its end; keep the
        table counts that come with its end."""
        _raise_for(message)
        self._counted[worker] = message[2]

    def add_table_counts(self, into: TableCounts) -> None:
        """Merge the workers' table counts (`count_tables`) into `into`, in worker order
        (once, after the iteration)."""
        for part in self._counted:
            if part is None:
                raise RuntimeError("the workers were not asked to count the tables")
            into.merge(part)
        self._counted = []

    def _receive(self, worker: int) -> Any:
        """The next message of `worker`; a worker that died (OOM killer, kill -9) ends the
        run with an error rather than leaving the parent waiting."""
        try:
            return self._pipes[worker].recv()
        except EOFError:
            process = self._processes[worker]
            process.join(timeout=1)
            what = f"validation worker {worker + 1} of {len(self._processes)}"
            raise worker_ended(what, process.exitcode) from None


def _raise_for(message: Any) -> None:
    """Raise what a worker reported instead of a batch, unless it is its end."""
    if isinstance(message, tuple) and message and message[0] == "end":
        return
    if isinstance(message, tuple) and message and message[0] == "archive-error":
        raise ArchiveError(message[1])
    if isinstance(message, tuple) and message and message[0] == "crash":
        raise RuntimeError(f"validation worker failed: {message[1]}")
    raise RuntimeError(f"unexpected worker message {message!r}")
