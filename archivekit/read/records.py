"""Records: the JSONL's lines with their number, raw bytes and decoded envelope, pulled.

How validate, inspect and the tables read the JSONL (what else reads it, and why: the README's
"Layout", under read/). A `Record` is one line: its 1-based
number, its bytes (without the ``\\n``), its size, the envelope it decodes to (a dict; None when
it cannot be decoded) and the issues of framing and decoding. `RecordStream` pulls an
archive's JSONL as records, block by block, in bounded memory; a consumer with a fast path of
its own over raw lines (the validator's and inspect's C scanners) pulls the stream's raw
batches and decodes only the lines that path does not take, with the stream's `record` (or
`read_record`).

Two ways to decode:

* exact (the default): Go's ``encoding/json`` as the server runs it
  (`archivekit.gosem.decode.decode_line`), with its issues; a line over the scanner's limit is
  the ``line-too-long`` issue. What `validate` sees.
* plain (``exact=False``): any JSON object counts, as orjson reads it, and only a line orjson
  refuses is decoded as Go would (so that, say, invalid UTF-8 still counts). No issues. What
  counting (inspect, tables, reconcile) needs: faster, and lenient about what the server
  would refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from typing import Any, NamedTuple

import orjson

from archivekit.gosem.decode import decode_line
from archivekit.issues import Issue, error
from archivekit.read.framing import MAX_LINE_BYTES, LineTooLong, iter_shared_batches, rechunk
from archivekit.read.source import BLOCK_SIZE, Archive

Envelope = dict[str, Any]

FILE_SCAN_ID = "app.import.bulk_import.file_scan.error"


class Record(NamedTuple):
    """One line of the JSONL (a named tuple: cheap to make, to send and to import)."""

    line: int  # 1-based
    raw: bytes  # without the "\n" (a trailing "\r" kept); b"" for a line too long
    size: int  # its length in bytes (for a line too long: the length it has)
    envelope: Envelope | None  # the decoded line; None: it cannot be decoded
    issues: tuple[Issue, ...] = ()  # framing and decoding (exact decoding only)

    @property
    def type(self) -> str | None:
        """The line type as written (``post``, ``user``...), None when there is none."""
        envelope = self.envelope
        kind = None if envelope is None else envelope.get("type")
        return kind if isinstance(kind, str) else None

    @property
    def payload(self) -> Envelope | None:
        """The object under the line type's key (``{"type": "post", "post": {...}}``)."""
        kind = self.type
        payload = None if kind is None or self.envelope is None else self.envelope.get(kind)
        return payload if type(payload) is dict else None


def line_too_long(length: int) -> Issue:
    """The issue of a line over the server's scanner limit."""
    return error(
        "line-too-long",
        f"line is {length:,} bytes; the server reads lines of at most "
        f"{MAX_LINE_BYTES:,} bytes and stops the whole import here (reported with line 0, "
        "after importing every earlier line) — split the content (e.g. move large "
        "props or replies into separate lines)",
        server_error_id=FILE_SCAN_ID,
        values={"found": length, "limit": MAX_LINE_BYTES, "unit": "bytes"},
    )


def read_record(line: int, raw: bytes | LineTooLong, *, exact: bool = True) -> Record:
    """Line `line` (as `iter_line_batches` frames it) decoded (see the module doc)."""
    # Records are made with tuple.__new__: a named tuple's own __new__ costs twice as much,
    # and counting passes make one per line.
    if type(raw) is not bytes:
        assert isinstance(raw, LineTooLong)
        too_long = (line_too_long(raw.length),) if exact else ()
        return _new(Record, (line, b"", raw.length, None, too_long))
    if exact:
        envelope, issues = decode_line(raw)
        return _new(Record, (line, raw, len(raw), envelope, issues))
    value = decode_plain(raw)
    return _new(Record, (line, raw, len(raw), value if type(value) is dict else None, ()))


def decode_plain(raw: bytes) -> Any:
    """A line decoded plainly (see the module doc): as orjson parses it, as Go decodes it
    when orjson refuses it; None when neither can. Any JSON value, not only an object."""
    try:
        return _loads(raw)
    except JSONDecodeError:
        value, _ = decode_line(raw)
        return value


_new = tuple.__new__
_loads = orjson.loads
JSONDecodeError = orjson.JSONDecodeError


class RecordStream:
    """An archive's JSONL as `Record`s, in line order; iterate once.

    Args:
        archive: the opened archive.
        exact: Go-exact decoding with issues, or plain (see the module doc).
        block_size: uncompressed bytes inflated at a time (the unit of a `share`).
        share: ``(me, workers)``: only the lines of every `workers`-th block of lines from
            block `me` (a worker's share of a parallel pass); the others' lines are only
            counted.
        wanted: only these line numbers are decoded and yielded (a second pass over a few).
        progress: called with the number of JSONL bytes read so far, after each block.

    `lines` is the number of lines framed so far: all of them once the stream is exhausted,
    whatever `share` and `wanted` left out.
    """

    def __init__(
        self,
        archive: Archive,
        *,
        exact: bool = True,
        block_size: int = BLOCK_SIZE,
        share: tuple[int, int] = (0, 1),
        wanted: Container[int] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.archive = archive
        self.exact = exact
        self.block_size = block_size
        self.share = share
        self.wanted = wanted
        self.progress = progress
        self.lines = 0

    def _blocks(self) -> Iterator[bytes]:
        blocks = rechunk(self.archive.iter_jsonl_blocks(self.block_size), self.block_size)
        progress = self.progress
        if progress is None:
            return blocks
        return _counted(blocks, progress)

    def raw_batches(self) -> Iterator[tuple[int, list[bytes | LineTooLong]]]:
        """(number of the first line, the lines as framed) of each block of lines in the
        share, not decoded: for a consumer with a fast path over raw lines, which decodes
        the lines it does not take with `record`."""
        # The other workers' batches are only counted (`iter_shared_batches`).
        for batch in iter_shared_batches(self._blocks(), self.share):
            if isinstance(batch, int):
                self.lines += batch
                continue
            first = self.lines + 1
            self.lines += len(batch)
            yield first, batch

    def record(self, line: int, raw: bytes | LineTooLong) -> Record:
        """One line of a raw batch decoded as this stream decodes (`read_record`)."""
        return read_record(line, raw, exact=self.exact)

    def __iter__(self) -> Iterator[Record]:
        # One record at a time: a block's decoded lines are never all alive at once.
        exact, wanted = self.exact, self.wanted
        for first, batch in self.raw_batches():
            line = first
            for raw in batch:
                if wanted is None or line in wanted:
                    yield read_record(line, raw, exact=exact)
                line += 1


def _counted(blocks: Iterator[bytes], progress: Callable[[int], None]) -> Iterator[bytes]:
    done = 0
    for block in blocks:
        done += len(block)
        progress(done)
        yield block


def iter_records(archive: Archive, *, exact: bool = True) -> Iterator[Record]:
    """Every line of the archive's JSONL as a `Record` (see `RecordStream` for the options)."""
    return iter(RecordStream(archive, exact=exact))
