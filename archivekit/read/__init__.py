"""The streaming reader: the only part of archivekit that knows about zip bytes.

`open_archive` opens a zip, a bare ``.jsonl`` or an export directory and returns an `Archive`
(members, lookups by the server's NFC key, member data in blocks); `iter_line_batches` frames
the JSONL's blocks into lines with Go scanner semantics; `records` (`RecordStream`,
`iter_records`, `Record`) gives the lines with their number and decoded envelope — how
validate (its workers too), inspect and the tables read the JSONL. Reconcile and the writers
frame the lines themselves with `iter_line_batches` / `iter_line_blocks` (their C code takes
most lines undecoded; the writers copy unchanged lines byte for byte). It only opens and
reads: what the server would think of
the archive is checked in `archivekit.check.archive`. Imports only `archivekit.gosem` and the
foundation (never pydantic or click).
"""

from typing import TYPE_CHECKING, Any

from archivekit.read.framing import (
    MAX_LINE_BYTES,
    LineBlock,
    LineTooLong,
    iter_line_batches,
    iter_line_blocks,
    rechunk,
)
from archivekit.read.inflate import ReadLimits
from archivekit.read.members import MemberIndex, OutsideData
from archivekit.read.source import BLOCK_SIZE, Archive, open_archive
from archivekit.read.zipdir import MemberInfo

if TYPE_CHECKING:
    from archivekit.read.records import Record, RecordStream, iter_records, read_record

# Imported on first use: the decoder is not needed to open an archive or copy its members.
_RECORDS = frozenset({"Record", "RecordStream", "iter_records", "read_record"})


def __getattr__(name: str) -> Any:
    if name in _RECORDS:
        from archivekit.read import records

        return getattr(records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BLOCK_SIZE",
    "MAX_LINE_BYTES",
    "Archive",
    "LineBlock",
    "LineTooLong",
    "MemberIndex",
    "MemberInfo",
    "OutsideData",
    "ReadLimits",
    "Record",
    "RecordStream",
    "iter_line_batches",
    "iter_line_blocks",
    "iter_records",
    "open_archive",
    "read_record",
    "rechunk",
]
