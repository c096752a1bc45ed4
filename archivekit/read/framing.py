"""Line framing with Go ``bufio.Scanner`` semantics over decompressed blocks.

Owns how a byte stream becomes lines (reference §2.1): split on ``\\n``, keep a trailing
``\\r`` (decoding strips it; writers copy the raw bytes back byte-identically), yield a final
line without newline, nothing for the empty piece after a final ``\\n``. A line longer than
the scanner's token limit is reported as `LineTooLong` instead of being buffered, so memory
stays bounded by ``max_line`` plus one block whatever the input. Knows nothing about zips or
JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple, cast

# Go's scanner buffer is 16 MiB = 16,777,216 bytes and must hold the line *and* its '\n'.
# UNVERIFIED edge: a final line of exactly 16 MiB without a newline might still be accepted by
# Go when the reader reports EOF together with the last bytes; we treat it as too long (the
# same limit with or without the newline), which is the conservative choice.
MAX_LINE_BYTES = 16_777_215


class LineTooLong(NamedTuple):
    """A line over the limit: only its length is kept (bytes, excluding the ``\\n``). A
    named tuple: cheap to make and to import; tell it from a line with isinstance."""

    length: int


def iter_line_batches(
    blocks: Iterable[bytes], max_line: int = MAX_LINE_BYTES
) -> Iterator[list[bytes | LineTooLong]]:
    """Frame ``blocks`` into lines; one batch per input block that completes a line.

    Each element is one line's raw bytes without the ``\\n`` (a trailing ``\\r`` is kept), or
    `LineTooLong`. The consumer numbers lines 1-based by counting elements. Blank lines are
    yielded as ``b""``; an empty input yields nothing.
    """
    return cast(
        "Iterator[list[bytes | LineTooLong]]", iter_shared_batches(blocks, (0, 1), max_line)
    )


def iter_shared_batches(
    blocks: Iterable[bytes],
    share: tuple[int, int],
    max_line: int = MAX_LINE_BYTES,
) -> Iterator[list[bytes | LineTooLong] | int]:
    """`iter_line_batches` for a worker's share, ``(me, workers)``: the batches numbered
    `me`, `me` + `workers`... framed; of every other batch only its number of lines,
    counted without splitting the block (a worker frames the whole JSONL to number its own
    lines: splitting the others' batches was up to a third of its time)."""
    me, workers = share
    index = 0  # of the next batch
    # The unfinished line is kept as a list of pieces so a line spanning many small blocks is
    # joined once, not re-copied per block.
    carry: list[bytes] = []
    carry_len = 0
    skipping = False  # inside an over-long line: count its bytes, keep none of them
    for block in blocks:
        if not block:
            continue
        if index % workers != me:
            # Not in the share: its lines counted; what follows its last newline carries
            # over as it does after a framed batch.
            last = block.rfind(b"\n")
            tail = block[last + 1 :]
            if last >= 0:
                yield block.count(b"\n")
                index += 1
                carry, carry_len, skipping = [], 0, False
        else:
            pieces = block.split(b"\n")
            tail = pieces.pop()
            if pieces:
                first = pieces[0]
                # The batch is the split list itself, patched in place: no per-line copying.
                lines = cast("list[bytes | LineTooLong]", pieces)
                if skipping:
                    lines[0] = LineTooLong(carry_len + len(first))
                    skipping = False
                elif carry_len + len(first) > max_line:
                    lines[0] = LineTooLong(carry_len + len(first))
                elif carry:
                    carry.append(first)
                    lines[0] = b"".join(carry)
                carry = []
                carry_len = 0
                # A line wholly inside this block can only be too long if the block is.
                if len(block) > max_line:
                    _mark_long_lines(lines, max_line)
                yield lines
                index += 1
        if tail:
            carry_len += len(tail)
            if skipping:
                continue
            if carry_len > max_line:
                skipping = True
                carry = []
            else:
                carry.append(tail)
    if not skipping and not carry:
        return
    if index % workers != me:
        yield 1
    elif skipping:
        yield [LineTooLong(carry_len)]
    else:
        yield [b"".join(carry)]


class LineBlock:
    """One batch of `iter_line_batches`, also as text: the lines joined by ``\\n``.

    `text` comes straight from the input block (no split, no join); it is None when the batch
    holds a `LineTooLong`. `lines` splits it only when asked.
    """

    __slots__ = ("_lines", "text")

    def __init__(self, text: bytes | None, lines: list[bytes | LineTooLong] | None = None) -> None:
        self.text = text
        self._lines = lines

    def lines(self) -> list[bytes | LineTooLong]:
        if self._lines is None:
            assert self.text is not None
            self._lines = cast("list[bytes | LineTooLong]", self.text.split(b"\n"))
        return self._lines


def iter_line_blocks(
    blocks: Iterable[bytes], max_line: int = MAX_LINE_BYTES
) -> Iterator[LineBlock]:
    """`iter_line_batches` for writers that mostly copy lines: the same batches, same lines,
    each as a `LineBlock` whose `text` is a slice of the input block. Batches that need
    care — a line over ``max_line`` in or around them, a block larger than ``max_line`` — are
    framed by `iter_line_batches` itself."""
    carry: list[bytes] = []
    carry_len = 0
    pending: list[bytes] = []  # blocks handed to the careful path, not yet framed
    for block in blocks:
        if not block:
            continue
        last = block.rfind(b"\n")
        if pending or len(block) > max_line:
            if last < 0 or len(block) > max_line:
                pending += [*carry, block]
                carry, carry_len = [], 0
                continue
            # An ordinary block ends the careful stretch: frame up to its last newline there,
            # then go on from the rest of the block.
            yield from _careful([*pending, block[: last + 1]], max_line)
            pending = []
            tail = block[last + 1 :]
            carry, carry_len = ([tail], len(tail)) if tail else ([], 0)
            continue
        if last < 0:
            carry.append(block)
            carry_len += len(block)
            if carry_len > max_line:
                pending, carry, carry_len = carry, [], 0
            continue
        first = block.find(b"\n")
        if carry_len + first > max_line:
            pending = [*carry, block]
            carry, carry_len = [], 0
            continue
        text = b"".join([*carry, block[:last]]) if carry else block[:last]
        yield LineBlock(text)
        tail = block[last + 1 :]
        carry, carry_len = ([tail], len(tail)) if tail else ([], 0)
    if pending:
        yield from _careful([*pending, *carry], max_line)
    elif carry:
        yield LineBlock(b"".join(carry))


def _careful(blocks: list[bytes], max_line: int) -> Iterator[LineBlock]:
    for batch in iter_line_batches(blocks, max_line):
        if all(type(line) is bytes for line in batch):
            yield LineBlock(b"\n".join(cast("list[bytes]", batch)), batch)
        else:
            yield LineBlock(None, batch)


def _mark_long_lines(lines: list[bytes | LineTooLong], max_line: int) -> None:
    for i in range(1, len(lines)):
        line = lines[i]
        if isinstance(line, bytes) and len(line) > max_line:
            lines[i] = LineTooLong(len(line))


def rechunk(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Blocks of at least `size` bytes (the last may be shorter), joined from smaller pieces.

    Inflaters return uneven pieces; parallel validation shares work out per block, so blocks
    must be of even size for the shares to be even. Memory stays below ~2 x `size`.
    """
    pending: list[bytes] = []
    held = 0
    for block in blocks:
        if not pending and len(block) >= size:
            yield block
            continue
        pending.append(block)
        held += len(block)
        if held >= size:
            yield b"".join(pending)
            pending, held = [], 0
    if pending:
        yield b"".join(pending)


def exact_blocks(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Blocks of exactly `size` bytes (the last may be shorter), whatever the pieces: a
    stream's pieces depend on the timing of its reads, and two processes that read it must
    frame the same batches of lines (`archivekit.read.teed`)."""
    pending: list[bytes] = []
    held = 0
    for block in blocks:
        if not block:
            continue
        if not pending and len(block) == size:
            yield block
            continue
        pending.append(block)
        held += len(block)
        if held >= size:
            data = b"".join(pending)
            at = 0
            while len(data) - at >= size:
                yield data[at : at + size] if at or len(data) != size else data
                at += size
            pending = [data[at:]] if at < len(data) else []
            held = len(data) - at
    if pending:
        yield b"".join(pending)
