"""The streaming reader: the only part of archivekit that knows about zip bytes.

`open_archive` opens a zip, a bare ``.jsonl`` or an export directory and returns an `Archive`
(members, lookups by the server's NFC key, member data in blocks); `iter_line_batches` frames
the JSONL's blocks into lines with Go scanner semantics. It only opens and reads: what the
server would think of the archive is checked in `archivekit.check.archive`. Imports only
`archivekit.gosem` and the foundation (never pydantic or click).
"""

from archivekit.read.framing import (
    MAX_LINE_BYTES,
    LineBlock,
    LineTooLong,
    iter_line_batches,
    iter_line_blocks,
    rechunk,
)
from archivekit.read.inflate import ReadLimits
from archivekit.read.members import MemberIndex
from archivekit.read.source import BLOCK_SIZE, Archive, open_archive
from archivekit.read.zipdir import MemberInfo

__all__ = [
    "BLOCK_SIZE",
    "MAX_LINE_BYTES",
    "Archive",
    "LineBlock",
    "LineTooLong",
    "MemberIndex",
    "MemberInfo",
    "ReadLimits",
    "iter_line_batches",
    "iter_line_blocks",
    "open_archive",
    "rechunk",
]
