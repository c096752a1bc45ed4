"""Batches of lines counted into the tables' counters (`TableCounts`): by `tables` (its own
pass) and by validate's workers beside their checks (`validate(..., table_counts=)`: the
report page's one pass).

Runs of post and direct_post lines are counted in C when it is built
(`archivekit/check/fast/_report.c`: the same figures, keyed by names as written, folded in by
`TableCounts.add_counted` at the end); any line it does not take is decoded and counted in
Python. Memory: the counters only (teams, channels, DMs/GMs, users, days), never a line.
"""

from __future__ import annotations

from archivekit.check.fast import report_native
from archivekit.check.table_counts import TableCounts
from archivekit.read import Archive, LineTooLong
from archivekit.read.records import decode_plain

# The C counter of post and direct_post lines, or None: then every line is counted in Python.
NATIVE_TALLY = report_native.TALLY


class TableLines:
    """Counts the batches it is given (any subset of an archive's, in any order) into one
    `TableCounts`; `counts` ends it. `archive` stays open until then (attachment sizes)."""

    def __init__(self, archive: Archive) -> None:
        def size_of(key: str) -> int | None:
            member = archive.lookup(key)
            return None if member is None or member.is_dir else member.size

        self._tally = TableCounts(size_of)
        self._native = None if NATIVE_TALLY is None else NATIVE_TALLY(archive.index.table)

    def count(self, first: int, batch: list[bytes | LineTooLong]) -> None:
        """Count `batch`, whose first line is line number `first`."""
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
        tally = self._tally
        if self._native is not None:
            tally.add_counted(self._native.counts())
            self._native = None
        tally.lines = lines
        tally.detach()
        return tally
