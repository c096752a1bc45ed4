"""Batches of lines counted into the tables' counters (`TableCounts`): by `tables` (its own
pass) and by validate's workers beside their checks (`validate(..., table_counts=)`: the
report page's one pass).

Runs of post and direct_post lines are counted in C when it is built
(`archivekit/check/fast/_report.c`: the same figures, keyed by names as written, folded in by
`TableCounts.add_counted` at the end); any line it does not take is decoded and counted in
Python. Memory: the counters only (teams, channels, DMs/GMs, users, periods: C holds its days
under the same caps as `TableCounts`, widening the period as it counts), never a line.

`background`: the batches are counted in a thread of their own, in the order given. The C
counter lets the GIL go while it counts, so on two cores the report's one pass counts a batch
while validate's checks (which keep the GIL) run over the next: the counting leaves the pass's
critical path. At most `QUEUED` batches wait (memory: a few batches).
"""

from __future__ import annotations

import queue
import threading

from archivekit.check import table_counts
from archivekit.check.fast import report_native
from archivekit.check.table_counts import TableCounts
from archivekit.read import Archive, LineTooLong
from archivekit.read.records import decode_plain
from archivekit.runtime import start_thread

# The C counter of post and direct_post lines, or None: then every line is counted in Python.
NATIVE_TALLY = report_native.TALLY


QUEUED = 4  # batches waiting for the counting thread

_Batch = tuple[int, list[bytes | LineTooLong]]


class TableLines:
    """Counts the batches it is given (any subset of an archive's, in any order) into one
    `TableCounts`; `counts` ends it. `archive` stays open until then (attachment sizes).
    `background`: counted in a thread (see the module docstring); `close` stops it when the
    pass ends before `counts`."""

    def __init__(self, archive: Archive, *, background: bool = False) -> None:
        def size_of(key: str) -> int | None:
            member = archive.lookup(key)
            return None if member is None or member.is_dir else member.size

        self._tally = TableCounts(size_of)
        self._native = (
            None
            if NATIVE_TALLY is None
            else NATIVE_TALLY(
                archive.index.table, table_counts.PERIODS_HELD, table_counts.BUCKETS_HELD
            )
        )
        self._queue: queue.Queue[_Batch | None] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        if background and self._native is not None:  # a thread only helps C's counting
            self._queue = queue.Queue(QUEUED)
            self._thread = start_thread(self._run, "TableLines.count")

    def count(self, first: int, batch: list[bytes | LineTooLong]) -> None:
        """Count `batch`, whose first line is line number `first` (the caller leaves the list
        as it is)."""
        if self._queue is not None:
            self._queue.put((first, batch))
        else:
            self._count(first, batch)

    def _run(self) -> None:
        assert self._queue is not None
        while (item := self._queue.get()) is not None:
            if self._error is None:  # after an error, batches are only taken off the queue
                try:
                    self._count(*item)
                except BaseException as exc:  # raised by `counts`
                    self._error = exc

    def close(self) -> None:
        """Stop the counting thread (idempotent)."""
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = self._thread = None

    def _count(self, first: int, batch: list[bytes | LineTooLong]) -> None:
        native, add = self._native, self._tally.add
        start, end = 0, len(batch)
        while start < end:
            if native is not None:
                start = native.count(batch, start)
                if start == end:
                    break
            raw = batch[start]
            if isinstance(raw, LineTooLong):
                add(first + start, raw.length, None)
            else:
                add(first + start, len(raw), decode_plain(raw))
            start += 1

    def counts(self, lines: int) -> TableCounts:
        """Everything counted, for a JSONL of `lines` lines; detached from the archive (it
        pickles and merges)."""
        self.close()
        if self._error is not None:
            raise self._error
        tally = self._tally
        if self._native is not None:
            tally.add_counted(self._native.counts())
            self._native = None
        tally.lines = lines
        tally.detach()
        return tally
