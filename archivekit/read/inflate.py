"""Member data streams: decompress stored / deflate / deflate64 / bzip2 / LZMA, check CRC,
sizes and limits.

Owns everything between "compressed bytes at a file offset" and "uncompressed blocks": the
choice of decompressor (ISA-L inflate when importable, else zlib; zipfile-deflate64's
decompressor for method 9; the standard library's bz2 and lzma for methods 12 and 14 — none
of which the server reads, but `fix` re-compresses them with deflate), zip-bomb limits
(`ReadLimits`), and the integrity checks done once a member has been read to its end (size
and CRC-32 against the central directory). Decompressor exceptions never escape: they become
`ArchiveError`.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from archivekit.errors import ArchiveError
from archivekit.issues import Scalar, error
from archivekit.native import fast_zlib
from archivekit.read.zipdir import FLAG_ENCRYPTED, LOCAL_HEADER, LOCAL_HEADER_SIG, MemberInfo

if TYPE_CHECKING:  # imported when a member needs them: validate starts without them
    import bz2
    import lzma

# What reading a member's data needs of its entry (`MemberIndex.data_fields`): method, flags,
# compressed size, size, CRC-32, local header offset.
DataFields = tuple[int, int, int, int, int, int]

STORED = 0
DEFLATED = 8
DEFLATE64 = 9
BZIP2 = 12
LZMA = 14
# The methods archivekit reads (and `fix` re-compresses when the server cannot: the server's
# own are `gosem.archive.SERVER_METHODS`). Those after deflate are fed in slices
# (`new_decoder`).
READABLE_METHODS = frozenset({STORED, DEFLATED, DEFLATE64, BZIP2, LZMA})

METHOD_NAMES = {
    0: "stored",
    1: "shrink",
    6: "implode",
    8: "deflate",
    9: "deflate64",
    12: "bzip2",
    14: "LZMA",
    93: "zstd",
    95: "xz",
    98: "PPMd",
    99: "AES-encrypted",
}

RATIO_GRACE = 1 << 20  # the ratio limit applies once this much has come out of a member
DEFLATE_INPUT = 256 << 10
# zipfile-deflate64's decompressor has no output cap and deflate64 can expand ~29000:1, so it
# is fed small slices: at most ~60 MB can come out of one call.
DEFLATE64_INPUT = 2 << 10


_zlib = fast_zlib()
ZLIB_ERRORS: tuple[type[Exception], ...] = (zlib.error, _zlib.error, ValueError)
crc32 = _zlib.crc32


def new_inflater() -> Any:
    """A raw deflate decompressor (ISA-L when available): ``decompress(data, max_length)``,
    ``eof``, ``unconsumed_tail``, ``unused_data``."""
    return _zlib.decompressobj(-15)


def new_deflate64() -> Any:
    """A Deflate64 decompressor: ``decompress(data)`` (no output cap: feed it
    `DEFLATE64_INPUT` bytes at a time) and ``eof``; it does not say where its stream ended."""
    from zipfile_deflate64.deflate64 import Deflate64  # patches zipfile on import; only here

    return Deflate64()


def new_decoder(method: int, size: int | None) -> Any:
    """The decompressor of a member in deflate64, bzip2 or LZMA: ``decompress(data)`` (feed
    it `DEFLATE64_INPUT` bytes at a time), ``eof``; damaged data raises ValueError.
    ``size``: the member's uncompressed size, when known (an LZMA stream written without an
    end marker ends there)."""
    if method == BZIP2:
        return _Bzip2()
    if method == LZMA:
        return _Lzma(size)
    return new_deflate64()


# The most one call of a bzip2 or LZMA decoder gives (bzip2 can expand one 2 KB slice to
# gigabytes): the rest waits in the decoder (``holds_output``), drained by calls without input
# (`_drained`), each block charged to the limits as it comes.
SLICE_OUTPUT_CAP = 8 << 20


def _capped(inner: bz2.BZ2Decompressor | lzma.LZMADecompressor, data: bytes) -> bytes:
    """``inner``'s output for ``data``, at most `SLICE_OUTPUT_CAP` bytes (the rest is given
    by the next calls, with ``b""`` while `_holds` says so)."""
    return inner.decompress(data, SLICE_OUTPUT_CAP)


def _holds(inner: bz2.BZ2Decompressor | lzma.LZMADecompressor | None) -> bool:
    """Whether ``inner`` holds output back (`_capped`): call it again without input."""
    return inner is not None and not inner.eof and not inner.needs_input


class _Bzip2:
    """A zip bzip2 member: a plain bzip2 stream."""

    __slots__ = ("_inner",)

    def __init__(self) -> None:
        import bz2

        self._inner = bz2.BZ2Decompressor()

    @property
    def eof(self) -> bool:
        return bool(self._inner.eof)

    @property
    def holds_output(self) -> bool:
        return _holds(self._inner)

    def decompress(self, data: bytes) -> bytes:
        try:
            return _capped(self._inner, data)
        except (OSError, EOFError) as exc:
            raise ValueError(f"bzip2: {exc}") from None


_LZMA_HEADER = struct.Struct("<BBH")  # LZMA SDK version (major, minor), properties size


class _Lzma:
    """A zip LZMA member: a 4-byte header (the SDK's version, the size of the properties),
    the LZMA1 properties (5 bytes: lc/lp/pb packed in one, then the dictionary size), then a
    raw LZMA1 stream — with or without an end marker (general-purpose flag bit 1), so the
    stream also ends once ``size`` bytes came out."""

    __slots__ = ("_head", "_inner", "_produced", "_size")

    def __init__(self, size: int | None) -> None:
        self._head = b""
        self._inner: lzma.LZMADecompressor | None = None
        self._produced = 0
        self._size = size

    @property
    def eof(self) -> bool:
        if self._inner is None:
            return False
        return self._inner.eof or (self._size is not None and self._produced >= self._size)

    @property
    def holds_output(self) -> bool:
        return not self.eof and _holds(self._inner)

    def decompress(self, data: bytes) -> bytes:
        if self._inner is None:
            self._head += data
            if len(self._head) < _LZMA_HEADER.size:
                return b""
            _, _, props_size = _LZMA_HEADER.unpack_from(self._head)
            start = _LZMA_HEADER.size + props_size
            if len(self._head) < start:
                return b""
            self._inner = self._open(self._head[_LZMA_HEADER.size : start])
            data, self._head = self._head[start:], b""
        import lzma

        try:
            out = _capped(self._inner, data)
        except (lzma.LZMAError, EOFError) as exc:
            raise ValueError(f"LZMA: {exc}") from None
        self._produced += len(out)
        return out

    @staticmethod
    def _open(props: bytes) -> lzma.LZMADecompressor:
        """A raw LZMA1 decoder from the 5 property bytes (public API: no private decoder of
        the properties)."""
        import lzma

        if len(props) != 5 or props[0] >= 9 * 5 * 5:
            raise ValueError(f"LZMA: bad properties {props.hex()}")
        packed, dict_size = props[0], int.from_bytes(props[1:5], "little")
        lc, rest = packed % 9, packed // 9
        lzma1 = {"id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": lc}
        lzma1.update(lp=rest % 5, pb=rest // 5)
        try:
            return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma1])
        except (lzma.LZMAError, ValueError) as exc:
            raise ValueError(f"LZMA properties: {exc}") from None


def method_name(method: int) -> str:
    return METHOD_NAMES.get(method, f"method {method}")


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Zip-bomb protection; every limit is configurable."""

    max_member_size: int = 64 * 2**30  # uncompressed bytes per member
    max_total_size: int = 1 * 2**40  # uncompressed bytes read in total
    max_ratio: float = 1000.0  # uncompressed/compressed, checked once >1 MiB came out


class ReadBudget:
    """The running uncompressed total of one archive, checked against `ReadLimits`."""

    __slots__ = ("limits", "total")

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.total = 0

    def exceeded(
        self, produced: int, consumed: int, added: int, *, ratio: bool = True
    ) -> str | None:
        """Which limit charging ``added`` more bytes would break ("member", "total",
        "ratio"), or None; ``produced``/``consumed`` are the member's running totals.
        ``ratio``: False when the member is read only up to its declared size
        (`iter_member_data`), whatever it expands to."""
        limits = self.limits
        if produced > limits.max_member_size:
            return "member"
        if self.total + added > limits.max_total_size:
            return "total"
        if ratio and over_ratio(produced, consumed, limits.max_ratio):
            return "ratio"
        return None

    def charge(
        self, member: MemberInfo, produced: int, consumed: int, added: int, *, ratio: bool = True
    ) -> None:
        """Account ``added`` bytes; ``produced``/``consumed`` are the member's running totals
        (``ratio``: see `exceeded`)."""
        exceeded = self.exceeded(produced, consumed, added, ratio=ratio)
        self.total += added
        limits = self.limits
        if exceeded == "member":
            raise member_too_large(member, limits.max_member_size)
        if exceeded == "total":
            raise ArchiveError(
                error(
                    "archive-too-large",
                    f"More than {limits.max_total_size:,} uncompressed bytes read from the "
                    "archive; reading stopped (zip-bomb protection).",
                    values={"limit": limits.max_total_size, "unit": "bytes"},
                )
            )
        if exceeded == "ratio":
            raise member_ratio(member, limits.max_ratio)


# The stops of reading one member, whoever reads it (a file's reader, a stream's): the same
# codes, words and structured values.
def _member_stop(code: str, member: MemberInfo, message: str, **values: Scalar) -> ArchiveError:
    return ArchiveError(error(code, message, values={"member": member.name, **values}))


def member_too_large(member: MemberInfo, limit: int) -> ArchiveError:
    """More than `limit` uncompressed bytes came out of `member`."""
    message = (
        f"Member {member.name!r} is larger than the limit of {limit:,} uncompressed bytes; "
        "reading stopped (zip-bomb protection; raise the limit if the file is genuine)."
    )
    return _member_stop("member-too-large", member, message, limit=limit, unit="bytes")


def over_ratio(produced: int, consumed: int, limit: float) -> bool:
    """Whether a member expands more than `limit` times, once more than the grace came out."""
    return produced > RATIO_GRACE and produced > limit * max(consumed, 1)


def member_ratio(member: MemberInfo, limit: float) -> ArchiveError:
    """`member` expands more than `limit` times (`over_ratio`)."""
    message = (
        f"Member {member.name!r} expands more than {limit:g} times (zip-bomb protection); "
        "reading stopped."
    )
    return _member_stop("member-ratio", member, message, limit=limit, unit="ratio")


def member_encrypted(member: MemberInfo) -> ArchiveError:
    """`member` is encrypted: its data cannot be read."""
    message = f"Member {member.name!r} is encrypted: cannot read it."
    return _member_stop("member-encrypted", member, message)


def check_member_size(member: MemberInfo, limits: ReadLimits) -> None:
    """Refuse up front a member whose declared size is already over the limit."""
    if member.size > limits.max_member_size:
        raise ArchiveError(
            error(
                "member-too-large",
                f"Member {member.name!r} declares {member.size:,} uncompressed bytes, over the "
                f"limit of {limits.max_member_size:,} (zip-bomb protection).",
                values={
                    "member": member.name,
                    "found": member.size,
                    "limit": limits.max_member_size,
                    "unit": "bytes",
                },
            )
        )


def iter_member_data(
    fh: BinaryIO,
    data_offset: int,
    member: MemberInfo,
    block_size: int,
    budget: ReadBudget,
    *,
    ratio: bool = True,
) -> Iterator[bytes]:
    """Uncompressed blocks of a zip member; size and CRC are checked after the last block.

    ``ratio``: False reads the member up to the size the central directory declares however
    far it expands (never further: more data stops it, `too_much_data`, as does a declared
    size over the member limit) — for a member read to be written again within the ratio
    (`fix`'s re-compression: `write.zipwriter.RatioBound`), which no reader then refuses.
    The member and total limits still apply."""
    if member.method == STORED:
        blocks = _iter_stored(fh, data_offset, member, block_size, budget)
    elif member.method == DEFLATED:
        blocks = _iter_deflated(fh, data_offset, member, block_size, budget, ratio)
    elif member.method in READABLE_METHODS:
        blocks = _iter_sliced(fh, data_offset, member, block_size, budget, ratio)
    else:
        raise ArchiveError(
            error(
                "member-unsupported-compression",
                f"Member {member.name!r} uses {method_name(member.method)} compression, "
                "which cannot be read.",
                values={"member": member.name, "method": member.method},
            )
        )
    crc = 0
    produced = 0
    for block in blocks:
        crc = crc32(block, crc)
        produced += len(block)
        if produced > member.size:
            # Go fails the same way; stopping here also defeats headers that lie small.
            raise too_much_data(member)
        yield block
    check_member_data(member, produced, crc)


def check_member_data(member: MemberInfo, produced: int, crc: int) -> None:
    """Raise `ArchiveError` unless ``produced`` bytes with CRC-32 ``crc`` are what the central
    directory records for ``member``."""
    if produced > member.size:
        raise too_much_data(member)
    if produced != member.size:
        raise ArchiveError(
            error(
                "zip-corrupt",
                f"Member {member.name!r}: {produced:,} bytes decompressed, the central "
                f"directory says {member.size:,}.",
                values={
                    "member": member.name,
                    "found": produced,
                    "expected": member.size,
                    "unit": "bytes",
                },
            )
        )
    if crc != member.crc:
        raise ArchiveError(
            error(
                "member-crc-mismatch",
                f"Member {member.name!r} is damaged: its CRC-32 is {crc:08x}, the archive "
                f"records {member.crc:08x}.",
                values={
                    "member": member.name,
                    "found": f"{crc:08x}",
                    "expected": f"{member.crc:08x}",
                },
            )
        )


def too_much_data(member: MemberInfo) -> ArchiveError:
    return ArchiveError(
        error(
            "zip-corrupt",
            f"Member {member.name!r} holds more data than the {member.size:,} bytes "
            "its header declares.",
            values={"member": member.name, "expected": member.size, "unit": "bytes"},
        )
    )


def _iter_stored(
    fh: BinaryIO, offset: int, member: MemberInfo, block_size: int, budget: ReadBudget
) -> Iterator[bytes]:
    produced = 0
    for block in iter_compressed(fh, offset, member, block_size):
        produced += len(block)
        budget.charge(member, produced, produced, len(block))
        yield block


def _iter_deflated(
    fh: BinaryIO, offset: int, member: MemberInfo, block_size: int, budget: ReadBudget, ratio: bool
) -> Iterator[bytes]:
    inflater = new_inflater()
    remaining = member.compressed_size
    produced = consumed = 0
    while not inflater.eof:
        chunk = inflater.unconsumed_tail
        if not chunk and remaining:
            fh.seek(offset)
            chunk = fh.read(min(DEFLATE_INPUT, remaining))
            if not chunk:
                raise ends_early(member)
            offset += len(chunk)
            remaining -= len(chunk)
        try:
            # max_length keeps every block bounded, however much the data expands. With no
            # input left, the call still drains output the inflater holds back.
            block = inflater.decompress(chunk, block_size)
        except ZLIB_ERRORS as exc:
            raise bad_data(member, exc) from None
        consumed += len(chunk) - len(inflater.unconsumed_tail)
        if block:
            produced += len(block)
            budget.charge(member, produced, consumed, len(block), ratio=ratio)
            yield block
        elif not chunk:
            raise ends_early(member)


def _iter_sliced(
    fh: BinaryIO, offset: int, member: MemberInfo, block_size: int, budget: ReadBudget, ratio: bool
) -> Iterator[bytes]:
    """Deflate64, bzip2, LZMA: decompressors without an output cap, fed small slices."""
    inflater = new_decoder(member.method, member.size)
    remaining = member.compressed_size
    produced = consumed = 0
    pending = bytearray()
    while not inflater.eof:
        if not remaining:
            raise ends_early(member)
        fh.seek(offset)
        data = fh.read(min(block_size, remaining))
        if not data:
            raise ends_early(member)
        offset += len(data)
        remaining -= len(data)
        view = memoryview(data)
        # Stop at the end of the stream: this decompressor returns garbage if fed past it.
        for start in range(0, len(data), DEFLATE64_INPUT):
            consumed += min(DEFLATE64_INPUT, len(data) - start)
            for out in decoded(inflater, view[start : start + DEFLATE64_INPUT].tobytes(), member):
                produced += len(out)
                budget.charge(member, produced, consumed, len(out), ratio=ratio)
                pending += out
                if len(pending) >= block_size:
                    yield bytes(pending)
                    pending.clear()
            if inflater.eof:
                break
    if pending:
        yield bytes(pending)


def decoded(decoder: Any, data: bytes, member: MemberInfo) -> Iterator[bytes]:
    """What a `new_decoder` decoder gives for ``data``: its output in pieces of at most
    `SLICE_OUTPUT_CAP` (a bzip2 or LZMA decoder's; a Deflate64 one gives at most ~60 MB for a
    `DEFLATE64_INPUT` slice), each to be charged before the next is made; damaged data raises
    `ArchiveError`."""
    try:
        out = decoder.decompress(data)
        while True:
            if out:
                yield out
            if not getattr(decoder, "holds_output", False):
                return
            out = decoder.decompress(b"")
    except ZLIB_ERRORS as exc:
        raise bad_data(member, exc) from None


def iter_compressed(
    fh: BinaryIO, data_offset: int, member: MemberInfo, block_size: int
) -> Iterator[bytes]:
    """A zip member's compressed bytes exactly as stored (for a raw copy into another zip).

    Nothing is decompressed, so neither the CRC nor the zip-bomb limits are checked: the bytes
    are carried over, not interpreted. Raises `ArchiveError` when the file ends early.
    """
    remaining = member.compressed_size
    while remaining:
        fh.seek(data_offset)  # other iterators may share the handle: always seek first
        block = fh.read(min(block_size, remaining))
        if not block:
            raise ends_early(member)
        data_offset += len(block)
        remaining -= len(block)
        yield block


# quick_head: data up to this size is read in one read with its local header, which leaves
# `_SLACK` bytes for the local name and extra field (export paths: ~160).
_ONE_READ = 64 << 10
_SLACK = 512


def quick_head(
    fd: int, file_size: int, fields: DataFields, n: int, budget: ReadBudget
) -> bytes | None:
    """The first `n` (at most a block) uncompressed bytes of a stored or deflated zip member
    as a reader of `iter_member_data` that stops once it has `n` gets them
    (`archivekit.read.source.Archive.read_member_head`), from the member's `DataFields`: no
    `MemberInfo`, no generator, one read (two for large data). None wherever that reading could end
    otherwise — another method, encryption, a damaged local header, a short file, data that
    does not inflate or fill `n`, a whole member whose size or CRC-32 is not the recorded
    one, a limit of the budget: the caller then reads it that way, and hears why."""
    method, flags, csize, size, crc, offset = fields
    if flags & FLAG_ENCRYPTED or method not in (STORED, DEFLATED) or not 0 <= offset < file_size:
        return None
    if method == STORED and csize != size:
        return None
    want = min(n, size) if method == STORED else min(DEFLATE_INPUT, csize)
    # Small data is read with its local header, in one read (the name and extra field come
    # between them: `_SLACK` bytes of room); larger data on its own, not copied out of a block.
    small = want <= _ONE_READ
    block = os.pread(fd, LOCAL_HEADER.size + (_SLACK + want if small else 0), offset)
    if len(block) < LOCAL_HEADER.size or block[:4] != LOCAL_HEADER_SIG:
        return None
    n_name, n_extra = LOCAL_HEADER.unpack_from(block)[9:]
    skip = LOCAL_HEADER.size + n_name + n_extra
    if offset + skip + csize > file_size:
        return None
    if small and skip + want <= len(block):
        data = block[skip : skip + want]
    else:
        data = os.pread(fd, want, offset + skip)
    if len(data) != want:
        return None
    if method == STORED:
        head, consumed, ended = data, want, size < n
    else:
        inflater = new_inflater()
        try:
            head = inflater.decompress(data, n)
        except ZLIB_ERRORS:
            return None
        consumed, ended = want - len(inflater.unconsumed_tail), inflater.eof
    if len(head) > size or budget.exceeded(len(head), consumed, len(head)) is not None:
        return None
    if len(head) < n and not (ended and len(head) == size and crc32(head) == crc):
        return None  # the reader would read on, or check the whole member and fail
    budget.total += len(head)
    return head


def iter_file_blocks(
    fh: BinaryIO, member: MemberInfo, block_size: int, budget: ReadBudget
) -> Iterator[bytes]:
    """Blocks of a plain file (bare JSONL or a file of an export directory)."""
    produced = 0
    while block := fh.read(block_size):
        produced += len(block)
        budget.charge(member, produced, produced, len(block))
        yield block


def ends_early(member: MemberInfo) -> ArchiveError:
    return ArchiveError(
        error(
            "zip-truncated",
            f"Member {member.name!r}: the compressed data ends early (truncated archive?).",
            values={"member": member.name},
        )
    )


def bad_data(member: MemberInfo, exc: Exception) -> ArchiveError:
    return ArchiveError(
        error(
            "zip-corrupt",
            f"Member {member.name!r}: the compressed data is damaged ({exc}).",
            values={"member": member.name, "detail": str(exc)},
        )
    )
