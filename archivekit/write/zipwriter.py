"""A streaming zip writer: the one place archivekit lays out zip bytes for output.

Members are written one after the other, never seeking back:

* **streamed** (`ZipWriter.open`): data compressed on the fly; the local header carries zero
  sizes and a data descriptor follows the data, as Go's ``zip.Writer.Create`` does (the server's
  own exporter writes archives this way);
* **raw copy** (`ZipWriter.copy_raw`): the compressed bytes of a member of another zip, with its
  CRC-32 and sizes as they are — never inflated and deflated again. The sizes are known, so the
  local header carries them and there is no data descriptor.

The central directory comes last; zip64 records are written only when a size, an offset or the
entry count needs them (``zip64_limit`` lowers the threshold for tests). Output is
deterministic: members in call order, every timestamp 1980-01-01 00:00 (the zip epoch: Go leaves
the time at zero, which DOS dates cannot express), no extra fields but zip64 ones.

Deflate comes in two settings: `GO_DEFLATE` (zlib level 6, what Go's writer produces; the
committed samples are written with it so they stay byte-identical) and `FAST_DEFLATE` (ISA-L
level 1, for archives the writers produce). `bench/deflate_levels.py` measures the candidates on
the bench JSONL (bench/results.md, 2026-12-03, 39 MB): level 1 is as fast as level 0 with output
9 % smaller; level 2 costs 6 % more compressor time for 2 % less output, level 3 twice the time
for 4 % less, zlib level 6 is 17x slower.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO, Final, Literal, Protocol

from isal import isal_zlib

from archivekit.read import MemberInfo
from archivekit.read.inflate import DEFLATE64, DEFLATED, RATIO_GRACE, STORED, ReadLimits
from archivekit.read.zipdir import (
    CENTRAL_HEADER,
    CENTRAL_HEADER_SIG,
    DESCRIPTOR_SIG,
    EOCD,
    EOCD_SIG,
    FLAG_DATA_DESCRIPTOR,
    FLAG_UTF8,
    LOCAL_HEADER,
    LOCAL_HEADER_SIG,
    U32_MAX,
    ZIP64_EOCD,
    ZIP64_EOCD_SIG,
    ZIP64_LOCATOR,
    ZIP64_LOCATOR_SIG,
)

Method = Literal["stored", "deflate"]

_UNIX: Final = 3  # "version made by" high byte: the external attributes hold a unix mode

# Sizes and offsets at or above U32_MAX need zip64 records (APPNOTE 4.4.8: 0xFFFFFFFF means
# "see the zip64 extra field"); entry counts at or above _ZIP_MAX_ENTRIES, a zip64 end record.
_ZIP_MAX_ENTRIES: Final = 0xFFFF
_ZIP64_VERSION: Final = 45
# APPNOTE 4.4.3, version needed to extract: 2.0 stored/deflate, 2.1 deflate64, 4.6 bzip2, 6.3
# LZMA, zstd, xz, PPMd (copied members keep whatever method they have).
_VERSION_NEEDED: Final = {0: 20, 8: 20, 9: 21, 12: 46, 14: 63, 93: 63, 95: 63, 98: 63}
# The methods whose data this writer encodes itself (deflate64 as stored blocks: `open`); a
# member of any other method can only be given its bytes as they are (`write_sized`).
ENCODED_METHODS: Final = frozenset({STORED, DEFLATED, DEFLATE64})
_DOS_DATE: Final = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME: Final = 0


@dataclass(frozen=True, slots=True)
class Deflate:
    """Which deflate implementation and level a streamed member is compressed with."""

    library: Literal["zlib", "isal"]
    level: int
    # Never expanding more than `MAX_WRITTEN_RATIO` times (`RatioBound`): what fix writes,
    # whose input may hold anything (a message of one character repeated).
    capped: bool = False


GO_DEFLATE: Final = Deflate("zlib", 6)
FAST_DEFLATE: Final = Deflate("isal", 1)
CAPPED_DEFLATE: Final = Deflate("isal", 1, capped=True)
# Zeros (placeholders) at ISA-L level 1 or zlib level 6 expand 1,030 times, over the readers'
# zip-bomb limit of 1,000 (`read.inflate.ReadLimits.max_ratio`); zlib level 1 expands them
# 229 times at most.
BOUNDED_DEFLATE: Final = Deflate("zlib", 1)


@dataclass(frozen=True, slots=True)
class MemberTraits:
    """What a written member carries besides its content, for a copy that must keep its
    original's problems: ``flags`` (general-purpose bits OR-ed into the writer's own, such as
    the encryption bit: the content is not encrypted, readers only refuse it), ``unix_mode``
    (external attributes, e.g. a symlink's ``0o120777``; 0: none), ``method`` (a zip method id
    other than stored and deflate: deflate64 gets a deflate stream of stored blocks, which
    deflate64 reads alike; any other id labels the content as it is, which nothing decodes),
    ``wrong_crc`` (the recorded CRC-32 is the complement of the content's)."""

    flags: int = 0
    unix_mode: int = 0
    method: int | None = None
    wrong_crc: bool = False


PLAIN: Final = MemberTraits()


Z_SYNC_FLUSH: Final = zlib.Z_SYNC_FLUSH
Z_FINISH: Final = zlib.Z_FINISH


class Compressor(Protocol):
    """What a streamed member needs of a codec (``zlib.compressobj`` has this shape):
    ``flush(Z_SYNC_FLUSH)`` emits everything given so far and goes on; ``flush()`` ends."""

    def compress(self, data: bytes | bytearray | memoryview, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


class _Stored:
    def compress(self, data: bytes | bytearray | memoryview, /) -> bytes:
        return bytes(data)

    def flush(self, mode: int = Z_FINISH, /) -> bytes:
        return b""


def deflater(options: Deflate = FAST_DEFLATE) -> Compressor:
    """A raw-deflate (no zlib header) streaming compressor; ``options.capped``: one whose
    output no reader refuses as a zip bomb (`RatioBound`)."""
    module: Any = isal_zlib if options.library == "isal" else zlib

    def make() -> Compressor:
        compressor: Compressor = module.compressobj(options.level, module.DEFLATED, -15)
        return compressor

    return RatioBound(make) if options.capped else make()


# How much a deflated member may expand at any point of its stream: half the readers' zip-bomb
# limit (`read.inflate.ReadLimits.max_ratio`, 1,000, checked once `RATIO_GRACE` came out).
# Long runs of one byte deflate 1,030 times at ISA-L level 1 (a 16 MB message of one
# character: fix's own output was unreadable).
MAX_WRITTEN_RATIO: Final = ReadLimits().max_ratio / 2
_RATIO_PIECE: Final = 256 << 10  # the input is weighed in pieces of at most this size
# Input taken without weighing it: readers check nothing before `RATIO_GRACE` came out, and a
# stored piece after it brings the ratio down towards 1 (from at most 1 + this / the rest of
# the grace: 4). Three pieces: ISA-L gives out a piece's output with the next call only.
_UNWEIGHED: Final = RATIO_GRACE * 3 // 4
_STORED_BLOCK: Final = 0xFFFF


class RatioBound:
    """A deflate compressor (made by ``make``) that never lets its stream expand more than
    `MAX_WRITTEN_RATIO` times: before each piece of input it checks that all the input so
    far, with the piece, stays within that many times the output so far (past `_UNWEIGHED`;
    when not, again after a sync flush has pushed out what the compressor held back); a
    piece that still would not is written in stored blocks instead, with a new compressor
    from there (the old one's back-references do not know the stored bytes).
    A reader at any point of the stream has then read at least the output before the piece
    its bytes come from, so it never sees more than the limit. Deterministic: the decisions
    depend on the input and where its pieces end."""

    def __init__(self, make: Callable[[], Compressor]) -> None:
        self._make = make
        self._inner = make()
        self._in = 0
        self._out = 0
        self.stored = 0  # input bytes written in stored blocks

    def compress(self, data: bytes | bytearray | memoryview, /) -> bytes:
        if self._fits(len(data)):  # as one piece: the compressor sees the calls it is given
            return self._deflated(data)
        view = memoryview(data)
        return b"".join(
            self._piece(view[start : start + _RATIO_PIECE])
            for start in range(0, len(view), _RATIO_PIECE)
        )

    def _fits(self, size: int) -> bool:
        total = self._in + size
        return total <= _UNWEIGHED or total <= MAX_WRITTEN_RATIO * self._out

    def _deflated(self, piece: bytes | bytearray | memoryview) -> bytes:
        self._in += len(piece)
        out = self._inner.compress(piece)
        self._out += len(out)
        return out

    def _piece(self, piece: bytes | bytearray | memoryview) -> bytes:
        if self._fits(len(piece)):
            return self._deflated(piece)
        # The compressor holds output back (ISA-L two pieces of text, far more of a run of one
        # byte): pushed out, it may be enough. The stream stays at a byte boundary.
        flushed = self._inner.flush(Z_SYNC_FLUSH)
        self._out += len(flushed)
        if self._fits(len(piece)):
            return flushed + self._deflated(piece)
        self._in += len(piece)
        stored = _stored_blocks(piece)
        self._inner = self._make()
        self.stored += len(piece)
        self._out += len(stored)
        return flushed + stored

    def flush(self, mode: int = Z_FINISH, /) -> bytes:
        out = self._inner.flush(mode)
        self._out += len(out)
        return out


def _stored_blocks(data: bytes | bytearray | memoryview) -> bytes:
    """``data`` as non-final deflate stored blocks (the stream is at a byte boundary)."""
    view = memoryview(data)
    out = bytearray()
    for start in range(0, len(view), _STORED_BLOCK):
        block = view[start : start + _STORED_BLOCK]
        out += struct.pack("<BHH", 0, len(block), len(block) ^ 0xFFFF)
        out += block
    return bytes(out)


def codec(method: Method, deflate: Deflate = FAST_DEFLATE) -> tuple[int, Compressor]:
    """The zip method id of ``method`` and a fresh compressor for it."""
    if method == "stored":
        return STORED, _Stored()
    return DEFLATED, deflater(deflate)


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One member as written: what the central directory records about it."""

    name: str
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int
    offset: int  # of its local header


@dataclass(frozen=True, slots=True)
class ZipSummary:
    """A closed archive: its members in order, its size and (when asked) SHA-256."""

    entries: tuple[ZipEntry, ...]
    size: int
    sha256: str | None


@dataclass(slots=True)
class _Entry:
    name: bytes
    flags: int
    method: int
    version: int
    offset: int
    crc: int = 0
    compressed_size: int = 0
    size: int = 0
    unix_mode: int = 0
    wrong_crc: bool = False

    @property
    def recorded_crc(self) -> int:
        """The CRC-32 the headers record (see `MemberTraits.wrong_crc`)."""
        return self.crc ^ 0xFFFFFFFF if self.wrong_crc else self.crc

    def frozen(self) -> ZipEntry:
        return ZipEntry(
            self.name.decode("utf-8", "surrogateescape"),
            self.method,
            self.flags,
            self.recorded_crc,
            self.compressed_size,
            self.size,
            self.offset,
        )


class MemberWriter:
    """Streams one member's content; sizes and CRC go into the trailing data descriptor."""

    def __init__(self, archive: ZipWriter, entry: _Entry, compressor: Compressor) -> None:
        self._archive = archive
        self._entry = entry
        self._compressor = compressor
        self._closed = False
        self._unsynced = 0

    @property
    def size(self) -> int:
        """Uncompressed bytes written so far."""
        return self._entry.size

    @property
    def compressed_size(self) -> int:
        """Compressed bytes emitted so far (the compressor may hold some back)."""
        return self._entry.compressed_size

    @property
    def unsynced(self) -> int:
        """Uncompressed bytes given since the last `sync`: the compressor may hold them back,
        so their compressed size is not known yet."""
        return self._unsynced

    def write(self, data: bytes | bytearray | memoryview) -> None:
        entry = self._entry
        entry.crc = isal_zlib.crc32(data, entry.crc)
        entry.size += len(data)
        self._unsynced += len(data)
        out = self._compressor.compress(data)
        if out:
            entry.compressed_size += len(out)
            self._archive._write(out)

    def sync(self) -> None:
        """Push out everything written so far (a deflate sync flush, a few bytes), so that
        `compressed_size` is exact; the member goes on."""
        out = self._compressor.flush(Z_SYNC_FLUSH)
        self._unsynced = 0
        if out:
            self._entry.compressed_size += len(out)
            self._archive._write(out)

    def close(self) -> ZipEntry:
        entry = self._entry
        if not self._closed:
            self._closed = True
            tail = self._compressor.flush()
            entry.compressed_size += len(tail)
            archive = self._archive
            archive._write(tail)
            crc = entry.recorded_crc
            if archive._needs_zip64(entry):
                descriptor = struct.pack(
                    "<4sIQQ", DESCRIPTOR_SIG, crc, entry.compressed_size, entry.size
                )
            else:
                descriptor = struct.pack(
                    "<4sIII", DESCRIPTOR_SIG, crc, entry.compressed_size, entry.size
                )
            archive._write(descriptor)
            archive._member_closed(entry)
        return entry.frozen()

    def __enter__(self) -> MemberWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _encode_name(name: str) -> tuple[bytes, int]:
    """The bytes of a member name and the UTF-8 flag it needs (non-ASCII UTF-8 only).

    A name read from a file system may hold bytes that are not UTF-8 (Python keeps them as
    surrogate escapes): they are written back as those very bytes, without the flag."""
    raw = name.encode("utf-8", "surrogateescape")
    if name.isascii():
        return raw, 0
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw, 0
    return raw, FLAG_UTF8


class ZipWriter:
    """Writes a zip to ``fp`` front to back (``fp`` need not be seekable).

    ``digest=True`` hashes every byte written: `close` then returns the archive's SHA-256.
    """

    def __init__(self, fp: BinaryIO, *, zip64_limit: int = U32_MAX, digest: bool = False) -> None:
        self._fp = fp
        self._offset = 0
        self._zip64_limit = zip64_limit
        self._hash = hashlib.sha256() if digest else None
        self._entries: list[_Entry] = []
        self._open: MemberWriter | None = None
        self._closed: ZipSummary | None = None

    @property
    def offset(self) -> int:
        """Bytes written so far."""
        return self._offset

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._fp.write(data)
        self._offset += len(data)
        if self._hash is not None:
            self._hash.update(data)

    def _needs_zip64(self, entry: _Entry) -> bool:
        return max(entry.size, entry.compressed_size, entry.offset) >= self._zip64_limit

    def _check_idle(self) -> None:
        if self._open is not None:
            raise RuntimeError("the previous member is still open")
        if self._closed is not None:
            raise RuntimeError("the archive is closed")

    # --- streamed members --------------------------------------------------------------------
    def open(
        self,
        name: str,
        method: Method = "deflate",
        *,
        deflate: Deflate = FAST_DEFLATE,
        traits: MemberTraits = PLAIN,
    ) -> MemberWriter:
        """Start a member whose content is given piece by piece (`MemberWriter.write`);
        ``traits`` (`MemberTraits`) can set its method id, flags, mode and CRC otherwise."""
        if traits.method == DEFLATE64:
            # Stored blocks are the one deflate stream deflate64 reads the same (no length
            # code 285 nor distance beyond 32 KiB): a readable deflate64 member.
            compressor: Compressor = deflater(Deflate("zlib", 0))
            return self.open_with(name, DEFLATE64, compressor, _VERSION_NEEDED[DEFLATE64], traits)
        if traits.method is not None and traits.method not in (STORED, DEFLATED):
            version = _VERSION_NEEDED.get(traits.method, 20)
            return self.open_with(name, traits.method, _Stored(), version, traits)
        method_id, compressor = codec(method, deflate)
        return self.open_with(name, method_id, compressor, _VERSION_NEEDED[method_id], traits)

    def open_with(
        self,
        name: str,
        method: int,
        compressor: Compressor,
        version_needed: int,
        traits: MemberTraits = PLAIN,
    ) -> MemberWriter:
        """`open` with any codec: ``method`` is the zip method id ``compressor`` produces."""
        self._check_idle()
        raw_name, utf8 = _encode_name(name)
        flags = FLAG_DATA_DESCRIPTOR | utf8 | (traits.flags & ~(FLAG_DATA_DESCRIPTOR | FLAG_UTF8))
        entry = _Entry(
            raw_name,
            flags,
            method,
            version_needed,
            self._offset,
            unix_mode=traits.unix_mode,
            wrong_crc=traits.wrong_crc,
        )
        header = LOCAL_HEADER.pack(
            LOCAL_HEADER_SIG,
            version_needed,
            flags,
            method,
            _DOS_TIME,
            _DOS_DATE,
            0,
            0,
            0,
            len(raw_name),
            0,
        )
        self._write(header)
        self._write(raw_name)
        self._open = MemberWriter(self, entry, compressor)
        return self._open

    def write_member(
        self,
        name: str,
        data: bytes | bytearray,
        method: Method = "deflate",
        *,
        deflate: Deflate = FAST_DEFLATE,
    ) -> ZipEntry:
        """A whole member at once (streamed like `open`)."""
        with self.open(name, method, deflate=deflate) as member:
            member.write(data)
        return member.close()

    # --- raw copies --------------------------------------------------------------------------
    def copy_raw(self, name: str, source: MemberInfo, data: Iterable[bytes]) -> ZipEntry:
        """Write ``source``'s compressed bytes (``data``, exactly ``source.compressed_size`` of
        them) under ``name``, with its method, CRC-32 and sizes unchanged.

        Raises ValueError when ``data`` does not hold exactly the declared compressed size
        (then the archive is unusable: the caller abandons it).
        """
        flags = source.flags & ~(FLAG_DATA_DESCRIPTOR | FLAG_UTF8)
        return self.write_compressed(
            name, source.method, flags, source.crc, source.compressed_size, source.size, data
        )

    def write_compressed(
        self,
        name: str,
        method: int,
        flags: int,
        crc: int,
        compressed_size: int,
        size: int,
        data: Iterable[bytes],
    ) -> ZipEntry:
        """A member whose compressed bytes (``data``), CRC-32 and sizes are known before it is
        written: they go into the local header and there is no data descriptor. ``flags`` are
        the general-purpose flags but the data-descriptor and UTF-8 bits (set here). A member
        written so is written again to the same bytes when copied raw (`copy_raw`).

        Raises ValueError when ``data`` does not hold exactly ``compressed_size`` bytes.
        """
        self._check_idle()
        raw_name, utf8 = _encode_name(name)
        flags = (flags & ~(FLAG_DATA_DESCRIPTOR | FLAG_UTF8)) | utf8
        entry = _Entry(
            raw_name,
            flags,
            method,
            _VERSION_NEEDED.get(method, 20),
            self._offset,
            crc,
            compressed_size,
            size,
        )
        self._write_sized_header(entry)
        copied = 0
        for block in data:
            copied += len(block)
            if copied > entry.compressed_size:
                break
            self._write(block)
        if copied != entry.compressed_size:
            raise ValueError(
                f"member {name!r}: {copied:,} compressed bytes copied, "
                f"{entry.compressed_size:,} declared"
            )
        self._entries.append(entry)
        return entry.frozen()

    def write_sized(
        self,
        name: str,
        blocks: Callable[[], Iterable[bytes]],
        method: int,
        traits: MemberTraits = PLAIN,
    ) -> ZipEntry:
        """A member whose content (``blocks()``) is written as it is, labelled ``method``, with
        its sizes and CRC-32 in the local header and no data descriptor: for a member a
        streaming reader could not find the end of otherwise (encrypted, or in a method it
        cannot decode). ``blocks`` is called twice (the CRC-32 and size first): it must give
        the same bytes both times."""
        self._check_idle()
        crc = size = 0
        for block in blocks():
            crc = isal_zlib.crc32(block, crc)
            size += len(block)
        raw_name, utf8 = _encode_name(name)
        flags = utf8 | (traits.flags & ~(FLAG_DATA_DESCRIPTOR | FLAG_UTF8))
        version = _VERSION_NEEDED.get(method, 20)
        entry = _Entry(
            raw_name, flags, method, version, self._offset, crc, size, size, traits.unix_mode,
            traits.wrong_crc,
        )  # fmt: skip
        self._write_sized_header(entry)
        written = 0
        for block in blocks():
            written += len(block)
            self._write(block)
        if written != size:
            raise ValueError(f"member {name!r}: {written:,} bytes written, {size:,} counted")
        self._entries.append(entry)
        return entry.frozen()

    def _write_sized_header(self, entry: _Entry) -> None:
        """The local header of a member whose CRC-32 and sizes are known before its data."""
        size32, csize32, extra = entry.size, entry.compressed_size, b""
        version = entry.version
        if max(entry.size, entry.compressed_size) >= self._zip64_limit:
            # APPNOTE 4.5.3: a local zip64 extra field holds both sizes.
            size32 = csize32 = U32_MAX
            extra = struct.pack("<HHQQ", 0x0001, 16, entry.size, entry.compressed_size)
            version = max(version, _ZIP64_VERSION)
        header = LOCAL_HEADER.pack(
            LOCAL_HEADER_SIG,
            version,
            entry.flags,
            entry.method,
            _DOS_TIME,
            _DOS_DATE,
            entry.recorded_crc,
            csize32,
            size32,
            len(entry.name),
            len(extra),
        )
        self._write(header)
        self._write(entry.name)
        self._write(extra)

    # --- the end -----------------------------------------------------------------------------
    def _member_closed(self, entry: _Entry) -> None:
        self._entries.append(entry)
        self._open = None

    def close(self) -> ZipSummary:
        """Write the central directory and the end records (once)."""
        if self._closed is not None:
            return self._closed
        if self._open is not None:
            self._open.close()
        cd_offset = self._offset
        for entry in self._entries:
            self._write(self._central_record(entry))
        cd_size = self._offset - cd_offset
        count = len(self._entries)
        limit = self._zip64_limit
        if count >= _ZIP_MAX_ENTRIES or max(cd_offset, cd_size) >= limit:
            eocd64_offset = self._offset
            self._write(
                ZIP64_EOCD.pack(
                    ZIP64_EOCD_SIG,
                    44,
                    _ZIP64_VERSION,
                    _ZIP64_VERSION,
                    0,
                    0,
                    count,
                    count,
                    cd_size,
                    cd_offset,
                )
            )
            self._write(ZIP64_LOCATOR.pack(ZIP64_LOCATOR_SIG, 0, eocd64_offset, 1))
            count16, cd_size32, cd_offset32 = 0xFFFF, U32_MAX, U32_MAX
        else:
            count16, cd_size32, cd_offset32 = count, cd_size, cd_offset
        self._write(EOCD.pack(EOCD_SIG, 0, 0, count16, count16, cd_size32, cd_offset32, 0))
        digest = self._hash.hexdigest() if self._hash is not None else None
        self._closed = ZipSummary(tuple(e.frozen() for e in self._entries), self._offset, digest)
        return self._closed

    def _central_record(self, entry: _Entry) -> bytes:
        version = made_by = entry.version
        extra = b""
        size, csize, offset = entry.size, entry.compressed_size, entry.offset
        if self._needs_zip64(entry):
            # Like Go: once any field overflows, all three move to the zip64 extra field.
            version = made_by = max(version, _ZIP64_VERSION)
            extra = struct.pack("<HHQQQ", 0x0001, 24, size, csize, offset)
            size = csize = offset = U32_MAX
        if entry.unix_mode:
            made_by |= _UNIX << 8
        header = CENTRAL_HEADER.pack(
            CENTRAL_HEADER_SIG,
            made_by,
            version,
            entry.flags,
            entry.method,
            _DOS_TIME,
            _DOS_DATE,
            entry.recorded_crc,
            csize,
            size,
            len(entry.name),
            len(extra),
            0,
            0,
            0,
            entry.unix_mode << 16,
            offset,
        )
        return header + entry.name + extra


def central_entry_size(name: str, zip64: bool = False) -> int:
    """Bytes the central directory spends on a member called ``name``."""
    return CENTRAL_HEADER.size + len(_encode_name(name)[0]) + (28 if zip64 else 0)


def local_overhead(name: str, *, streamed: bool, zip64: bool = False) -> int:
    """Bytes a member adds around its data: local header, name, zip64 extra, data descriptor."""
    size = LOCAL_HEADER.size + len(_encode_name(name)[0])
    if streamed:
        size += 24 if zip64 else 16
    elif zip64:
        size += 20
    return size


END_RECORDS_SIZE: Final = EOCD.size  # 22
"""The end-of-central-directory record (zip64 end records add 76 bytes when needed)."""
