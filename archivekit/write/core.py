"""The writer core: every archive archivekit writes (filter, split, merge; later fix, redact).

One `ArchiveWriter` is one output zip, written front to back in one go:

1. the JSONL member first (`ArchiveWriter.jsonl`, a `JsonlWriter`; only ``lead`` members go
   before it): lines go in as the *raw*
   bytes of an input line (`keep`, byte-identical: the raw bytes plus ``\\n``) or as new bytes
   (`write`), deflated on the fly (ISA-L, `FAST_DEFLATE`), counted and hashed (SHA-256);
2. then the files: `copy_member` copies a member of the input **raw** (compressed bytes, CRC-32
   and sizes as they are, under the same or a new name); `add_member` writes new content (a
   placeholder, a re-compressed member);
3. `close` writes the central directory and returns a `WrittenArchive`: every member with its
   size, CRC-32 and SHA-256, and the archive's own size and SHA-256 (for the manifest).

`write_archive` wraps it in `atomic_output` (temporary file beside the destination, fsync,
rename; never over an input): an exception anywhere leaves no file under the final name.
Output is deterministic: same calls, same bytes.

Lines may need to be written in another order than they are read (definitions a later line
decides about, reordering by block, grouping by team): a `LineSpool` keeps tagged lines in a
temporary file and gives them back in order (or one record by offset), and a `GroupSpool`
sorts them into named groups, so memory never holds more than a buffer.

How the writers use it (and how ``fix`` and ``redact`` will)::

    with open_archive(src) as archive, write_archive(out, protect=[src]) as writer:
        for batch in iter_line_batches(archive.iter_jsonl_blocks()):   # validate's framing
            for raw in batch:
                envelope = decoder.decode(raw)                  # write.lines: Go-exact decoding
                if unchanged:  writer.jsonl.keep(raw)           # byte-identical
                elif rewritten: writer.jsonl.write(encode(new)) # e.g. a repaired line
                # reordering (fix): spool = LineSpool(folder); spool.add(raw, tag=block)
                # ... then replay each block's spool in block order into writer.jsonl
        for member in files_to_keep:
            writer.copy_member(archive, member)                 # raw, CRC and sizes kept
            writer.copy_member(archive, member, name="data/" + member.name)  # moved (fix)
        writer.add_member(name, blocks, method="deflate")       # new content: re-compressed
                                                                # (fix) or a placeholder (redact)
    summary = writer.result                                     # members, sizes, SHA-256s
    write_manifest(manifest_path(out), {..., "archive": archive_entry(summary)})

The plan layer decides per line (keep, drop, rewrite); this module only writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from isal import isal_zlib

from archivekit.check.files import ReferencedFiles
from archivekit.errors import ArchiveError
from archivekit.gosem.paths import resolve
from archivekit.read import Archive, MemberInfo
from archivekit.read.inflate import STORED, method_name
from archivekit.write.atomic import atomic_output
from archivekit.write.zipwriter import (
    FAST_DEFLATE,
    PLAIN,
    Deflate,
    MemberTraits,
    MemberWriter,
    Method,
    ZipEntry,
    ZipWriter,
    codec,
)

JSONL_NAME: Final = "import.jsonl"
# Lines are handed to the compressor in pieces of about this size: large enough that the
# per-call cost vanishes, small enough to stay a rounding error in memory.
FLUSH_BYTES: Final = 256 * 1024
COPY_BLOCK: Final = 1 << 20  # bytes read at a time when a member or spill is copied


@dataclass(frozen=True, slots=True)
class WrittenMember:
    """One member of a written archive, as the manifest lists it."""

    name: str
    size: int  # uncompressed bytes
    compressed_size: int
    method: str
    crc32: str  # 8 hex digits
    sha256: str | None  # of the uncompressed content; None when it could not be read
    source: str | None = None  # the input member it was copied from (raw)
    note: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name,
            "size": self.size,
            "compressed_size": self.compressed_size,
            "method": self.method,
            "crc32": self.crc32,
            "sha256": self.sha256,
        }
        if self.source is not None and self.source != self.name:
            out["source"] = self.source
        if self.note is not None:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class WrittenArchive:
    """A closed output archive: where, how big, its SHA-256, and its members in order."""

    path: str
    size: int
    sha256: str
    members: tuple[WrittenMember, ...]
    lines: int  # JSONL lines written
    jsonl_index: int = 0  # the JSONL's place in `members` (after any `lead` members)

    @property
    def jsonl(self) -> WrittenMember:
        return self.members[self.jsonl_index]


def _member_record(
    entry: ZipEntry, sha256: str | None, source: str | None = None, note: str | None = None
) -> WrittenMember:
    return WrittenMember(
        name=entry.name,
        size=entry.size,
        compressed_size=entry.compressed_size,
        method=method_name(entry.method),
        crc32=f"{entry.crc:08x}",
        sha256=sha256,
        source=source,
        note=note,
    )


class JsonlWriter:
    """The JSONL member of an output archive: lines in, deflated on the fly.

    `keep` takes an input line's raw bytes (as the reader framed them, without ``\\n``) and
    writes them back unchanged; `write` takes the bytes of a new or rewritten line. Either way
    one ``\\n`` ends the line.
    """

    def __init__(self, member: MemberWriter) -> None:
        self._member = member
        self._buffer = bytearray()
        self._hash = hashlib.sha256()
        self.lines = 0
        self.kept = 0  # of `lines`, written byte-identical
        self._closed = False

    # The compressor gets the very pieces `write` gives it line by line, however the lines
    # come (one by one, in blocks, kept or rewritten): a piece ends at the line that brings the
    # buffer to FLUSH_BYTES, or before and after a line over 16 MiB (`keep_stream`). ISA-L's
    # output depends on where pieces end, so the compressed JSONL is then a function of its
    # content alone: fix run on its own output writes the same bytes.

    def keep(self, raw: bytes) -> None:
        """Write an input line unchanged (byte-identical)."""
        self.kept += 1
        self.write(raw)

    def keep_block(self, block: bytes, lines: int) -> None:
        """Write ``lines`` input lines at once: their raw bytes joined by ``\\n`` (the
        last one's ``\\n`` is added here)."""
        self.kept += lines
        self._lines(block, lines, b"\n")

    def keep_stream(self, pieces: Iterable[bytes]) -> None:
        """Write one input line unchanged from its bytes in ``pieces`` (a line too long to
        hold in memory)."""
        self.flush()
        for piece in pieces:
            self._hash.update(piece)
            self._member.write(piece)
        self.lines += 1
        self.kept += 1
        self._hash.update(b"\n")
        self._member.write(b"\n")

    def write(self, line: bytes) -> None:
        """Write one line (without its ``\\n``)."""
        buffer = self._buffer
        buffer += line
        buffer += b"\n"
        self.lines += 1
        if len(buffer) >= FLUSH_BYTES:
            self.flush()

    def write_lines(self, block: bytes, lines: int) -> None:
        """Write ``lines`` new or rewritten lines at once: ``block`` holds each with its
        ``\\n``."""
        self._lines(block, lines, b"")

    def _lines(self, block: bytes, lines: int, end: bytes) -> None:
        """``lines`` lines: ``block`` + ``end`` holds each with its ``\\n``, cut into the
        pieces `write` would make of them."""
        self.lines += lines
        view = memoryview(block)
        start = 0
        while len(self._buffer) + len(block) + len(end) - start >= FLUSH_BYTES:
            at = start + FLUSH_BYTES - len(self._buffer) - 1
            cut = block.find(b"\n", at) + 1 if at < len(block) else 0
            if not cut:  # the last line brings it there: ``end`` ends it
                break
            if self._buffer:
                self._buffer += view[start:cut]
                self.flush()
            else:  # the same piece, not copied
                self._hash.update(view[start:cut])
                self._member.write(view[start:cut])
            start = cut
        self._buffer += view[start:]
        self._buffer += end
        if len(self._buffer) >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._hash.update(self._buffer)
            self._member.write(self._buffer)
            self._buffer = bytearray()

    @property
    def size(self) -> int:
        """Uncompressed bytes written so far (including what is still buffered)."""
        return self._member.size + len(self._buffer)

    @property
    def loose(self) -> int:
        """Uncompressed bytes whose compressed size is not known yet (buffered here or held
        by the compressor); `sync` makes it 0."""
        return len(self._buffer) + self._member.unsynced

    def sync(self) -> None:
        """Compress and push out everything written so far (see `MemberWriter.sync`)."""
        self.flush()
        self._member.sync()

    @property
    def compressed_size(self) -> int:
        """Compressed bytes emitted so far (the compressor may still hold some back)."""
        return self._member.compressed_size

    def close(self) -> WrittenMember:
        self.flush()
        entry = self._member.close()
        self._closed = True
        return _member_record(entry, self._hash.hexdigest())


class ArchiveWriter:
    """One output zip: the JSONL member first, then files. See the module docstring."""

    def __init__(
        self,
        fp: BinaryIO,
        *,
        path: str = "",
        jsonl_name: str = JSONL_NAME,
        deflate: Deflate = FAST_DEFLATE,
        lead: Iterable[tuple[str, Iterable[bytes]]] = (),
        jsonl_traits: MemberTraits = PLAIN,
    ) -> None:
        self.path = path
        self.jsonl_name = jsonl_name
        self.deflate = deflate  # the JSONL's, and what `add_compressed_member` deflates with
        self._zip = ZipWriter(fp, digest=True)
        self._members: list[WrittenMember] = []
        self._names: set[str] = {jsonl_name}
        # Members written before the JSONL (deflated), where their place matters: redact keeps
        # another .jsonl ahead of the chosen one, which older servers import instead.
        for name, blocks in lead:
            self._names.add(name)
            self._members.append(self._write_new(name, blocks, "deflate"))
        self._jsonl_index = len(self._members)
        self.jsonl = JsonlWriter(
            self._zip.open(jsonl_name, "deflate", deflate=deflate, traits=jsonl_traits)
        )
        self._jsonl_open = True
        self.result: WrittenArchive | None = None

    @property
    def size(self) -> int:
        """Bytes of the archive written so far."""
        return self._zip.offset

    def _end_jsonl(self) -> None:
        if self._jsonl_open:
            self._jsonl_open = False
            self._members.append(self.jsonl.close())

    def copy_member(
        self, archive: Archive, member: MemberInfo, name: str | None = None
    ) -> WrittenMember:
        """Copy ``member`` of ``archive`` under ``name`` (default: its own name).

        From a zip the compressed bytes are copied raw: method, CRC-32 and sizes stay as they
        are. The SHA-256 of the content is computed on the way for stored members (their bytes
        are the content) and by reading deflated ones once more through the reader (which also
        checks their CRC); a member that cannot be read that way is still copied, with its
        SHA-256 left out and the reason noted. From an export folder the file is stored.
        """
        self._end_jsonl()
        name = member.name if name is None else name
        self._claim(name)
        if archive.kind != "zip":
            return self.add_member(name, archive.iter_member_blocks(member, COPY_BLOCK))
        digest = hashlib.sha256() if member.method == STORED else None
        entry = self._zip.copy_raw(
            name, member, _hashing(archive.iter_raw_blocks(member, COPY_BLOCK), digest)
        )
        sha256: str | None = None
        note: str | None = None
        if member.encrypted:
            note = "encrypted: copied as it is, content unknown"
        elif digest is not None:
            sha256 = digest.hexdigest()
        else:
            sha256, note = _content_sha256(archive, member)
        record = _member_record(entry, sha256, source=member.name, note=note)
        self._members.append(record)
        return record

    def add_member(
        self,
        name: str,
        blocks: Iterable[bytes],
        *,
        method: str = "stored",
        deflate: Deflate = FAST_DEFLATE,
        traits: MemberTraits = PLAIN,
    ) -> WrittenMember:
        """Write a new member from ``blocks`` of content (``method``: stored or deflate, with
        ``deflate``'s settings; ``traits``: zip-level traits a copy keeps, `MemberTraits`)."""
        self._end_jsonl()
        if name not in self._names:
            self._claim(name)
        record = self._write_new(name, blocks, method, deflate, traits)
        self._members.append(record)
        return record

    def add_compressed_member(
        self,
        name: str,
        blocks: Callable[[], Iterable[bytes]],
        *,
        folder: str | os.PathLike[str] | None = None,
    ) -> WrittenMember:
        """`add_member` deflated, with the CRC-32 and sizes in the local header and no data
        descriptor: the bytes a raw copy of the member gives again (fix run on its own output
        writes the same archive). ``blocks()`` gives the content; the compressed bytes wait in
        a temporary file in ``folder`` (the output's) until the sizes are known. (Stored
        content: `add_sized_member`.)"""
        self._end_jsonl()
        if name not in self._names:
            self._claim(name)
        method_id, compressor = codec("deflate", self.deflate)
        digest = hashlib.sha256()
        crc = size = 0
        with tempfile.TemporaryFile(dir=folder, prefix=".archivekit-member-") as spool:
            for block in blocks():
                digest.update(block)
                crc = isal_zlib.crc32(block, crc)
                size += len(block)
                spool.write(compressor.compress(block))
            spool.write(compressor.flush())
            compressed_size = spool.tell()
            spool.seek(0)
            data = iter(lambda: spool.read(COPY_BLOCK), b"")
            entry = self._zip.write_compressed(name, method_id, 0, crc, compressed_size, size, data)
        record = _member_record(entry, digest.hexdigest())
        self._members.append(record)
        return record

    def add_sized_member(
        self,
        name: str,
        blocks: Callable[[], Iterable[bytes]],
        method: int,
        traits: MemberTraits = PLAIN,
    ) -> WrittenMember:
        """Write a new member from ``blocks()`` of content as they are, labelled ``method``,
        sizes and CRC-32 ahead of the data (`ZipWriter.write_sized`: ``blocks`` is called
        twice)."""
        self._end_jsonl()
        if name not in self._names:
            self._claim(name)
        digest = hashlib.sha256()
        passes = 0

        def content() -> Iterator[bytes]:
            # `write_sized` reads the content twice: the second pass, the one written, is hashed.
            nonlocal passes
            passes += 1
            for block in blocks():
                if passes == 2:
                    digest.update(block)
                yield block

        entry = self._zip.write_sized(name, content, method, traits)
        record = _member_record(entry, digest.hexdigest())
        self._members.append(record)
        return record

    def _write_new(
        self,
        name: str,
        blocks: Iterable[bytes],
        method: str,
        deflate: Deflate = FAST_DEFLATE,
        traits: MemberTraits = PLAIN,
    ) -> WrittenMember:
        digest = hashlib.sha256()
        zip_method: Method = "deflate" if method == "deflate" else "stored"
        with self._zip.open(name, zip_method, deflate=deflate, traits=traits) as out:
            for block in blocks:
                digest.update(block)
                out.write(block)
        return _member_record(out.close(), digest.hexdigest())

    def _claim(self, name: str) -> None:
        if name in self._names:
            raise ValueError(f"member {name!r} is already in the archive")
        self._names.add(name)

    def close(self) -> WrittenArchive:
        """Finish the archive (central directory) and describe it."""
        if self.result is None:
            self._end_jsonl()
            summary = self._zip.close()
            assert summary.sha256 is not None
            self.result = WrittenArchive(
                self.path,
                summary.size,
                summary.sha256,
                tuple(self._members),
                self.jsonl.lines,
                self._jsonl_index,
            )
        return self.result


def _hashing(blocks: Iterable[bytes], digest: hashlib._Hash | None) -> Iterator[bytes]:
    for block in blocks:
        if digest is not None:
            digest.update(block)
        yield block


def _content_sha256(archive: Archive, member: MemberInfo) -> tuple[str | None, str | None]:
    """SHA-256 of a compressed member's content, read through the reader, or why not."""
    digest = hashlib.sha256()
    try:
        for block in archive.iter_member_blocks(member, COPY_BLOCK):
            digest.update(block)
    except ArchiveError as exc:
        return None, f"copied as it is, but it cannot be read: {exc.issue.message}"
    return digest.hexdigest(), None


@contextlib.contextmanager
def write_archive(
    destination: str | os.PathLike[str],
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
    jsonl_name: str = JSONL_NAME,
    deflate: Deflate = FAST_DEFLATE,
    lead: Iterable[tuple[str, Iterable[bytes]]] = (),
    jsonl_traits: MemberTraits = PLAIN,
) -> Iterator[ArchiveWriter]:
    """An `ArchiveWriter` onto ``destination``, atomically: the file appears (complete) only
    when the block ends without an exception; `ArchiveWriter.result` then describes it
    (``jsonl_traits``: the JSONL member's, `MemberTraits`: redact keeps a deflate64 JSONL's).
    Raises `OutputError` (exit 2) when ``destination`` is one of ``protect`` or not writable."""
    with atomic_output(destination, protect=protect) as fp:
        path = os.fspath(destination)
        writer = ArchiveWriter(
            fp,
            path=path,
            jsonl_name=jsonl_name,
            deflate=deflate,
            lead=lead,
            jsonl_traits=jsonl_traits,
        )
        yield writer
        writer.close()


# --- spooling lines to disk ------------------------------------------------------------------

_RECORD: Final = struct.Struct("<IQ")  # length, tag (a small code, or a line number)


class LineSpool:
    """Lines with a small integer tag, kept in an anonymous temporary file and given back in
    the order they came (`replay`). For writers that decide about a line only after reading
    later ones, or that write lines in another order than they read them.

    ``folder``: where the temporary file lives (the output's folder: the same disk the output
    needs anyway). It disappears when the spool is closed or garbage-collected.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        # Owned by the spool: closed by `close` (or when collected).
        self._file = tempfile.TemporaryFile(dir=folder, prefix=".archivekit-spool-")  # noqa: SIM115
        self._buffer = bytearray()
        self._written = 0
        self.count = 0
        self.bytes = 0

    def add(self, line: bytes, tag: int = 0) -> None:
        buffer = self._buffer
        buffer += _RECORD.pack(len(line), tag)
        buffer += line
        self.count += 1
        self.bytes += len(line)
        if len(buffer) >= FLUSH_BYTES:
            self._write_buffer()

    def add_record(self, line: bytes, tag: int = 0) -> int:
        """`add`, returning where the record is, for `read_record`."""
        offset = self._written + len(self._buffer)
        self.add(line, tag)
        return offset

    def read_record(self, offset: int) -> tuple[int, bytes]:
        """(tag, line) of the record `add_record` put at ``offset``."""
        self._write_buffer()
        self._file.seek(offset)
        length, tag = _RECORD.unpack(self._file.read(_RECORD.size))
        line = self._file.read(length)
        self._file.seek(0, os.SEEK_END)
        return tag, line

    def _write_buffer(self) -> None:
        if self._buffer:
            self._file.seek(0, os.SEEK_END)
            self._file.write(self._buffer)
            self._written += len(self._buffer)
            self._buffer = bytearray()

    def replay(self) -> Iterator[tuple[int, bytes]]:
        """(tag, line) in the order added. The spool can be replayed several times."""
        self._write_buffer()
        self._file.flush()
        self._file.seek(0)
        yield from _records(iter(lambda: self._file.read(COPY_BLOCK), b""))
        self._file.seek(0, os.SEEK_END)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> LineSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _records(blocks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(tag, line) records from spool bytes arriving in blocks of any size."""
    header = _RECORD.size
    pending = b""
    for block in blocks:
        data = pending + block if pending else block
        pos, end = 0, len(data)
        while end - pos >= header:
            length, tag = _RECORD.unpack_from(data, pos)
            stop = pos + header + length
            if stop > end:
                break
            yield tag, data[pos + header : stop]
            pos = stop
        pending = data[pos:]


class GroupSpool:
    """Lines sorted into named groups, for writers that write group after group what they
    read mixed (split --by). One temporary file holds the groups' chunks; memory holds at most
    ``budget`` bytes of buffers (the largest are written out first) and a list of chunk
    positions per group."""

    def __init__(
        self, folder: str | os.PathLike[str] | None = None, budget: int = 16 << 20
    ) -> None:
        # Owned by the spool: closed by `close` (or when collected).
        self._file = tempfile.TemporaryFile(dir=folder, prefix=".archivekit-spool-")  # noqa: SIM115
        self._budget = budget
        self._buffers: dict[str, bytearray] = {}
        self._chunks: dict[str, list[tuple[int, int]]] = {}
        self._held = 0
        self._end = 0

    def add(self, group: str, line: bytes, tag: int = 0) -> None:
        buffer = self._buffers.get(group)
        if buffer is None:
            buffer = self._buffers[group] = bytearray()
            self._chunks[group] = []
        buffer += _RECORD.pack(len(line), tag)
        buffer += line
        self._held += _RECORD.size + len(line)
        if self._held >= self._budget:
            for name in sorted(self._buffers, key=lambda g: len(self._buffers[g]), reverse=True):
                self._write_out(name)
                if self._held <= self._budget // 2:
                    break

    def _write_out(self, group: str) -> None:
        buffer = self._buffers[group]
        if buffer:
            self._file.seek(self._end)
            self._file.write(buffer)
            self._chunks[group].append((self._end, len(buffer)))
            self._end += len(buffer)
            self._held -= len(buffer)
            self._buffers[group] = bytearray()

    def groups(self) -> list[str]:
        return list(self._buffers)

    def replay(self, group: str) -> Iterator[tuple[int, bytes]]:
        """(tag, line) of one group, in the order added."""
        self._write_out(group)
        yield from _records(self._read_chunks(group))

    def _read_chunks(self, group: str) -> Iterator[bytes]:
        for offset, length in self._chunks[group]:
            while length:
                self._file.seek(offset)
                data = self._file.read(min(length, COPY_BLOCK))
                offset += len(data)
                length -= len(data)
                yield data

    def close(self) -> None:
        self._file.close()


_M_TRIM_THRESHOLD: Final = -1
_M_MMAP_THRESHOLD: Final = -3
_allocator_tuned = False


def keep_large_buffers() -> None:
    """Let glibc reuse freed megabyte buffers instead of unmapping them.

    The writers allocate and free buffers of about a megabyte per input block (the block, its
    lower-cased copy, compressor input). glibc serves each from a fresh ``mmap`` and unmaps it
    on free, so every one costs 256 page faults: on the 400 MB benchmark that was a quarter of
    the run in kernel time. Raising the mmap and trim thresholds to a few tens of MB keeps such
    buffers in the heap (measured: system time 1.2 s → 0.16 s, peak RSS +1.5 MB). A no-op
    where the C library has no ``mallopt`` (musl, macOS, Windows).
    """
    global _allocator_tuned
    if _allocator_tuned:
        return
    _allocator_tuned = True
    try:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("c")
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        return
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        mallopt(_M_TRIM_THRESHOLD, 64 << 20)


def find_file(archive: Archive, path: str) -> int:
    """The member index entry the server finds for a JSONL path (attachment, profile or emoji
    image), or -1: missing, escaping data/, or a bare JSONL (no files)."""
    if archive.kind == "jsonl":
        return -1
    key = resolve(path)
    return -1 if key is None else archive.index.find(key)


def copy_files(
    archive: Archive, referenced: ReferencedFiles, writer: ArchiveWriter | None
) -> tuple[int, int]:
    """Copy the marked entries (in the archive's order); (count, bytes) of them."""
    count = size = 0
    index = archive.index
    for i in referenced.indexes():
        member = index[i]
        count += 1
        size += member.size
        if writer is not None:
            writer.copy_member(archive, member)
    return count, size


def files_left_out(archive: Archive, referenced: ReferencedFiles) -> tuple[int, int]:
    """(count, bytes) of the file entries no marked reference finds (the JSONL aside)."""
    if archive.kind == "jsonl":
        return 0, 0
    index = archive.index
    left = index.unreferenced(referenced.bits, archive.jsonl.index)
    return len(left), index.total_size(left)


def output_folder(destination: str | os.PathLike[str]) -> Path:
    """The folder an output goes to (where its temporary files go too)."""
    parent = Path(destination).parent
    return parent if str(parent) else Path(".")


def crc_hex(data: bytes) -> str:
    return f"{isal_zlib.crc32(data):08x}"
