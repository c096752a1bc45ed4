"""Member data streams: decompress stored / deflate / deflate64, check CRC, sizes and limits.

Owns everything between "compressed bytes at a file offset" and "uncompressed blocks": the
choice of decompressor (ISA-L inflate when importable, else zlib; zipfile-deflate64's
decompressor for method 9), zip-bomb limits (`ReadLimits`), and the integrity checks done once a
member has been read to its end (size and CRC-32 against the central directory). Decompressor
exceptions never escape: they become `ArchiveError`.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from archivekit.errors import ArchiveError
from archivekit.issues import Scalar, error
from archivekit.native import fast_zlib
from archivekit.read.zipdir import FLAG_ENCRYPTED, LOCAL_HEADER, LOCAL_HEADER_SIG, MemberInfo

# What reading a member's data needs of its entry (`MemberIndex.data_fields`): method, flags,
# compressed size, size, CRC-32, local header offset.
DataFields = tuple[int, int, int, int, int, int]

STORED = 0
DEFLATED = 8
DEFLATE64 = 9
READABLE_METHODS = frozenset({STORED, DEFLATED, DEFLATE64})

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

_RATIO_GRACE = 1 << 20  # the ratio limit applies once this much has come out of a member
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

    def exceeded(self, produced: int, consumed: int, added: int) -> str | None:
        """Which limit charging ``added`` more bytes would break ("member", "total",
        "ratio"), or None; ``produced``/``consumed`` are the member's running totals."""
        limits = self.limits
        if produced > limits.max_member_size:
            return "member"
        if self.total + added > limits.max_total_size:
            return "total"
        if over_ratio(produced, consumed, limits.max_ratio):
            return "ratio"
        return None

    def charge(self, member: MemberInfo, produced: int, consumed: int, added: int) -> None:
        """Account ``added`` bytes; ``produced``/``consumed`` are the member's running totals."""
        exceeded = self.exceeded(produced, consumed, added)
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
    return produced > _RATIO_GRACE and produced > limit * max(consumed, 1)


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
    fh: BinaryIO, data_offset: int, member: MemberInfo, block_size: int, budget: ReadBudget
) -> Iterator[bytes]:
    """Uncompressed blocks of a zip member; size and CRC are checked after the last block."""
    if member.method == STORED:
        blocks = _iter_stored(fh, data_offset, member, block_size, budget)
    elif member.method == DEFLATED:
        blocks = _iter_deflated(fh, data_offset, member, block_size, budget)
    elif member.method == DEFLATE64:
        blocks = _iter_deflate64(fh, data_offset, member, block_size, budget)
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
    fh: BinaryIO, offset: int, member: MemberInfo, block_size: int, budget: ReadBudget
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
            budget.charge(member, produced, consumed, len(block))
            yield block
        elif not chunk:
            raise ends_early(member)


def _iter_deflate64(
    fh: BinaryIO, offset: int, member: MemberInfo, block_size: int, budget: ReadBudget
) -> Iterator[bytes]:
    inflater = new_deflate64()
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
            try:
                out = inflater.decompress(view[start : start + DEFLATE64_INPUT].tobytes())
            except ZLIB_ERRORS as exc:
                raise bad_data(member, exc) from None
            consumed += min(DEFLATE64_INPUT, len(data) - start)
            if out:
                produced += len(out)
                budget.charge(member, produced, consumed, len(out))
                pending += out
                if len(pending) >= block_size:
                    yield bytes(pending)
                    pending.clear()
            if inflater.eof:
                break
    if pending:
        yield bytes(pending)


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
