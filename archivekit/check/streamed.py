"""A stream's lines checked in one process or two, with the findings of a file's run.

One process (`stream_findings` with the default share): every line as it arrives, then the
stream's members and central directory, then the parts of lines that waited for them
(`archivekit.check.deferred`). Two (`validate` with ``workers`` 2): the parent starts a
second process that reads a copy of the stream (`archivekit.read.teed`); as a file's parallel
workers do (`archivekit.check.parallel`), each owns every other batch of lines — it checks
those in full and only the definition lines of the others (what it finds there is dropped),
so that both hold the same cross-line state. The deferred parts of every line a process
checked are replayed in both, in line order, whoever owns the line, for the same reason; the
findings of those in batches it does not own are dropped with their batch. The parent
interleaves its batches' findings with the second process's in batch order (`interleaved`):
the Tally adds up what a one-process run gives it. Everything after the lines (the archive's
issues, unreferenced files, limits) stays the parent's, which reads the whole stream too.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from archivekit.check.deferred import KEEP_FINDINGS, DeferredFiles, FindingsSpool, with_late
from archivekit.check.engine import LineProcessor
from archivekit.check.facts import Findings
from archivekit.check.parallel import BatchResult, definition_lines
from archivekit.check.references import Existing
from archivekit.check.rules.context import RuleContext
from archivekit.read import BLOCK_SIZE, LineTooLong, ReadLimits
from archivekit.read.records import RecordStream
from archivekit.runtime import RunDirectory

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from archivekit.read.stream import StreamArchive
    from archivekit.read.teed import TeedProcess

Progress = Callable[[int, int], None]


def stream_findings(
    archive: StreamArchive,
    run: RunDirectory,
    stack: contextlib.ExitStack,
    ctx: RuleContext,
    existing: Existing | None,
    block_size: int,
    progress: Progress | None,
    share: tuple[int, int] = (0, 1),
) -> Iterator[Findings]:
    """A stream read to its end: its lines as they arrive, then its members and central
    directory. Returns the findings of the batches of lines in `share` (``(me, processes)``:
    every `processes`-th batch from batch `me`), in order, as a file's run gives them: the
    part of each line that depends on the members (they come after the JSONL) waits until
    the end, and the findings of every batch with it."""
    me, processes = share
    deferred = DeferredFiles(run, processes)
    stack.callback(deferred.close)
    spool = FindingsSpool(run, KEEP_FINDINGS // processes)  # together, what one keeps
    stack.callback(spool.close)
    processor = LineProcessor(archive, ctx=ctx, existing=existing, deferred=deferred)
    stream = RecordStream(
        archive,
        block_size=block_size,
        progress=None if progress is None else lambda done: progress(done, 0),
    )
    sizes = array("q")  # the lines of every batch (a few per MiB of JSONL)
    for index, (first, batch) in enumerate(stream.raw_batches()):
        sizes.append(len(batch))
        if index % processes == me:
            processor.process_lines(first, batch)
            spool.add(processor.take())
        else:
            _keep_in_step(processor, first, batch)
    archive.finish(measure=deferred.profile_keys, keep=deferred.emoji_keys)
    every = with_late(_with_others(spool, sizes, share), processor.replay())
    if processes == 1:
        return every
    return (found for index, found in enumerate(every) if index % processes == me)


def _keep_in_step(processor: LineProcessor, first: int, batch: list[bytes | LineTooLong]) -> None:
    """A batch another process owns: its definition lines only, for the cross-line state
    (their deferred parts wait with the others: `stream_findings`); what they find is not
    this process's to report."""
    for index in definition_lines(batch):
        processor.process(first + index, batch[index])
    processor.take()


def _with_others(
    spool: Iterable[Findings], sizes: array[int], share: tuple[int, int]
) -> Iterator[Findings]:
    """The spooled findings of this process's batches, an empty `Findings` of the right
    number of lines in place of each of the others' (`with_late` places the deferred parts
    by line)."""
    me, processes = share
    own = iter(spool)
    for index, lines in enumerate(sizes):
        if index % processes == me:
            yield next(own)
        else:
            yield Findings(lines=lines)


class StreamJob(NamedTuple):
    """What the second process needs to check its share of a stream's lines."""

    path: str  # the stream's name: its copy is read as it (kind, messages)
    run: str  # the parent's run directory: the process's own goes inside it
    read_limits: ReadLimits | None
    verify: bool
    ctx: RuleContext
    existing: Existing | None
    max_issues: int | None
    block_size: int = BLOCK_SIZE


def check_copy(results: Connection, fd: int, job: StreamJob) -> None:
    """The second process (`archivekit.read.teed.TeedProcess`'s target): batches 1, 3, 5...
    of the copy of the stream on `fd`, their findings sent in order as `BatchResult`s, then
    ("end",). Its temporary files are in the parent's run directory,
    which the parent removes however this process ends."""
    from archivekit.read.stream import open_stream

    with contextlib.ExitStack() as stack:
        run = stack.enter_context(RunDirectory(job.run))
        archive = stack.enter_context(
            open_stream(job.path, run=run, limits=job.read_limits, verify=job.verify, fd=fd)
        )
        found_in = stream_findings(
            archive, run, stack, job.ctx, job.existing, job.block_size, None, (1, 2)
        )
        # The parent keeps at most max_issues issues, the first ones in line order: those
        # are among this process's first max_issues. Beyond them only counts travel.
        budget = job.max_issues
        index = 1
        for found in found_in:
            if budget is not None:
                found.keep_issues(budget)
                budget -= len(found.issues)
            results.send(BatchResult(index, 0, found))
            index += 2
        results.send(("end",))


def interleaved(own: Iterator[Findings], other: TeedProcess) -> Iterator[Findings]:
    """The findings of every batch in order: the even ones from `own` (this process's
    `stream_findings` with share (0, 2)), the odd ones from the second process."""
    batch = 0
    while True:
        if batch % 2 == 0:
            found = next(own, None)
            if found is None:
                break
            yield found
        else:
            message = other.receive()
            if not isinstance(message, BatchResult):
                _check_end(message, batch, next(own, None) is None)
                return
            if message.batch != batch:
                raise RuntimeError(f"batch {message.batch} of the second process for {batch}")
            yield message.findings
        batch += 1
    _check_end(other.receive(), batch, True)


def _check_end(message: object, batch: int, own_ended: bool) -> None:
    """Both processes' batches end at `batch` (they framed the same lines)."""
    if message != ("end",) or not own_ended:
        raise RuntimeError(f"the two processes' batches differ at batch {batch}: {message!r}")
