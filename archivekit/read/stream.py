"""Reading an archive front to back from a stream: standard input, a pipe, a FIFO, ``<(...)``.

A stream cannot seek, and a zip's central directory comes last. So `open_stream` reads the
local headers in order, as streaming unzip tools do. A member's data ends where its local
header's sizes say; where its deflate (or Deflate64) stream ends, when it was written with a
data descriptor; and, for a *stored* member written with a data descriptor — Go's archive/zip
writes every file that way, the attachments of every mmctl export included — where a data
descriptor whose sizes and CRC-32 are those of the bytes so far is followed by the next
header's signature (with or without the descriptor's own signature, 32- or 64-bit sizes; the
first with the right sizes when none with the right CRC-32 follows soon: damaged data). The
scan looks at each byte once, whatever the number of members. A file can still hold what
looks like such an end: at the end, the central directory's members must be those the stream
read (`StreamArchive._check_members`), else the stream stops with exit 3.

`StreamArchive` hands out the first root-level ``.jsonl`` as it arrives
(`StreamArchive.iter_jsonl_blocks`); `StreamArchive.finish` then reads every other member and
the central directory, which goes through a temporary file in the run's directory to the same
parser as a file's (`archivekit.read.members.read_member_index`): names, duplicates and lookups
are the server's view, as for a file. Members are not kept: as each one passes, what later
checks will read of it is noted — a few numbers and its stored name's bytes per member (its
header offset and name, to hold the directory to; for image names and the profile images the
JSONL names, the image dimensions of its first `HEAD_BYTES`, as
`Archive.member_dimensions` gives them; with ``verify``, whether its data decompressed intact,
for `StreamArchive.iter_member_blocks`) and, for the emoji images the JSONL names, its first
`KEPT_HEAD` bytes in a temporary file (`StreamArchive.read_member_head`). Members before the
JSONL (unusual: exports write it first) may be any of these, so they get all of it. The
members of which nothing but their end is noted — most attachments — pass in C where the
extension is built (`walk_members` in archivekit/read/_zipindex.c: a window of them per call,
stopping at the first that needs Python), and the central directory is held to what the
stream read in C too (`MemberIndex.check_local`).

What a stream cannot tell raises `ArchiveError` (``stream-unreadable``, exit 3) naming the
member and suggesting to save the file first: where a member written with a data descriptor
ends when its data cannot be decompressed (a method other than stored/deflate/deflate64,
encryption, a damaged deflate stream) or, stored, no matching descriptor follows; an archive
that does not begin with a local header (a prefix, as self-extracting zips have; an empty zip,
an end record alone, is read as a file's reader reads it); a JSONL that the central directory,
read at the end, says the server would import instead of the one the stream began with (unless
a file's reader would refuse it before reading a byte of it — its method, or its local header
outside the file or cut by its end — which the stream then says too:
`StreamArchive._other_jsonl`), or can read where the local header, with its sizes, said it
cannot (the stream passed over it: `StreamArchive._start_members`); and local headers that lead
the stream past the end of a whole archive (a damaged size: the stream ends inside a member or
a header, yet with a zip's end records, `StreamArchive._complete_or_cut`; a stream cut short is
``zip-truncated``, or the end records' or the directory's own error where a file's reader
refuses them) or into its central directory, further than the bytes it keeps
(`StreamArchive._read_directory`), or to end records that point before those bytes
(`StreamArchive._unended`, `StreamArchive._read_directory`); and a JSONL whose data fails to
decompress as its local header says, where the central directory describes it otherwise (a
file's reader reads it as the directory says): the stream reads on past it to the directory to
tell, keeping nothing else (`StreamArchive._held_after_damage`; the damage stands where they
agree). A JSONL written with a data descriptor whose local header names a method that cannot be
read, or encryption, and no sizes, is refused on that header's word
(``jsonl-unsupported-compression``): its end cannot be found to read on to the directory's. One
whose local header gives its sizes, the uncompressed one over the limit, is refused on that
word too (``member-too-large``), before its data, as a file's reader refuses the directory's at
once: the two differ only where a header is damaged, and the stream meets the directory only
after reading the JSONL.
"""

from __future__ import annotations

import heapq
import io
import os
import queue
import struct
import threading
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, cast

from archivekit.errors import ArchiveError
from archivekit.gosem.archive import server_reads
from archivekit.gosem.decode import BOM
from archivekit.gosem.images import FORMATS as IMAGE_FORMATS
from archivekit.gosem.images import (
    HEAD_BYTES,
    IMAGE_EXTENSIONS,
    image_dimensions,
    is_image_name,
)
from archivekit.gosem.paths import member_key
from archivekit.issues import Scalar, error
from archivekit.read.framing import exact_blocks
from archivekit.read.inflate import (
    DEFLATE64_INPUT,
    DEFLATE_INPUT,
    DEFLATED,
    READABLE_METHODS,
    STORED,
    ZLIB_ERRORS,
    ReadLimits,
    bad_data,
    check_member_data,
    check_member_size,
    crc32,
    decoded,
    ends_early,
    member_encrypted,
    member_ratio,
    member_too_large,
    new_decoder,
    new_inflater,
    over_ratio,
    too_much_data,
)
from archivekit.read.members import (
    LOCAL_MISSING,
    LOCAL_RENAMED,
    NATIVE,
    SCANNED,
    ListIndex,
    LocalHeaders,
    MemberIndex,
    TailView,
    name_hash,
    read_member_index,
)
from archivekit.read.source import (
    BLOCK_SIZE,
    SAVE_HINT,
    STDIN,
    Archive,
    Kind,
    is_root_jsonl,
    plain_member,
    require_readable_jsonl,
    zip_jsonl,
)
from archivekit.read.teed import Tee, widen_pipe
from archivekit.read.zipdir import (
    CENTRAL_HEADER,
    CENTRAL_HEADER_SIG,
    DESCRIPTOR_SIG,
    EOCD,
    EOCD_SIG,
    FLAG_DATA_DESCRIPTOR,
    FLAG_ENCRYPTED,
    LOCAL_HEADER,
    LOCAL_HEADER_SIG,
    SPANNED_MARKER,
    U32_MAX,
    ZIP64_EOCD,
    ZIP64_EOCD_SIG,
    ZIP64_LOCATOR,
    MemberInfo,
    data_past_end,
    decode_name,
    directory_start,
    ends_with_end_records,
    input_error,
    local_header_outside,
)
from archivekit.runtime import RunDirectory, get_waking, start_thread, temporary_file_error

# Bytes asked of the input at a time (a pipe gives at most what it holds, 64 KiB by default).
_CHUNK = 1 << 20
# Chunks a thread reads ahead of the consumer (`_Input`): the reads of the pipe (the kernel's
# copy, the waits for the writer) overlap the walk over the members instead of adding to it.
_READ_AHEAD = 2
# Stream bytes kept after they are consumed (references to the chunks read, no copies): the
# central directory's parser looks at the last 64 KiB + 22 bytes of a zip for its end record,
# which may begin inside the last members' data; and a decompressor may give back up to
# _UNREAD bytes it read past its stream's end.
_TAIL = 0xFFFF + 22
_UNREAD = 1 << 20
# A stored member written with a data descriptor is scanned for it; a candidate is tried when
# this many bytes from its start are in the window: a descriptor (≤ 24 bytes) and the next
# signature, seen whole.
_HOLD = 28
# A descriptor with the sizes of the data before it but another CRC-32 is taken for the end of
# a damaged member only when none with the right CRC-32 follows within this many bytes (a file
# inside the member that looks like a descriptor and a header, with the wrong CRC-32, does not
# end it early).
_LOOKAHEAD = 64 << 10
_DESCRIPTOR_32 = struct.Struct("<III")
_DESCRIPTOR_64 = struct.Struct("<IQQ")
_U32 = struct.Struct("<I")
# What may follow a member (and its descriptor): the next member, the central directory, the
# end records, the archive extra data record, the directory's digital signature.
_DIGITAL_SIGNATURE_SIG = b"PK\x05\x05"  # may end a central directory
_NEXT = frozenset(
    {
        LOCAL_HEADER_SIG,
        CENTRAL_HEADER_SIG,
        EOCD_SIG,
        ZIP64_EOCD_SIG,
        b"PK\x06\x08",
        _DIGITAL_SIGNATURE_SIG,
    }
)
# What may follow the central directory's last header (its digital signature, the zip64 end
# records, the end record), and at most how many bytes they take with their comment and data
# (`StreamArchive._drain_to_directory`).
_DIRECTORY_ENDS = frozenset({_DIGITAL_SIGNATURE_SIG, ZIP64_EOCD_SIG, EOCD_SIG})
_END_RECORDS = 6 + 0xFFFF + ZIP64_EOCD.size + ZIP64_LOCATOR.size + EOCD.size + 0xFFFF

# The zip-bomb stops of reading one member (`ReadBudget.charge`, `check_member_size`).
_READING_LIMITS = ("member-too-large", "member-ratio")

# The most the checks read of a member's start: an SVG emoji image, whole (a larger one fails
# the emoji size limit first); other images' headers are within HEAD_BYTES.
KEPT_HEAD = 512 << 10
# Per-member state bits (`StreamArchive._state`): every byte decompressed (`_crc` and `_size`
# describe the data); its end found by a scan for its data descriptor (a stored member).
_WHOLE = 1
_SCANNED = SCANNED
# ... its local header says it is encrypted (held to the directory's flag: `_held_to_directory`).
_ENCRYPTED = 4
# `StreamArchive._method` of a member whose local header's method was not noted.
_UNNOTED = 0xFFFF


class _Input:
    """Buffered front-to-back reading of a stream, with its absolute offset.

    Invariant: ``_buf`` ends at the last byte read from the stream (``_read``), so the
    offset of ``_buf[0]`` is ``_read - len(_buf)``.
    """

    __slots__ = (
        "_at", "_buf", "_chunks", "_done", "_history", "_raw", "_read", "_stop", "_tee", "eof",
        "name",
    )  # fmt: skip

    def __init__(self, raw: BinaryIO, name: str, tee: Tee | None = None) -> None:
        """`tee`: where every chunk read is copied as it is read: a second process reads
        the same stream from it (`archivekit.read.teed`)."""
        self._raw = raw
        self.name = name
        self._tee = tee
        self._buf = b""
        self._at = 0
        self._read = 0
        self.eof = False
        self._history: deque[tuple[int, bytes]] = deque()
        # The reading thread's chunks, in stream order (started by the first read); b"" at
        # the end, or the OSError the read raised. `_done`: the thread has ended.
        self._chunks: queue.Queue[bytes | OSError] | None = None
        self._stop = threading.Event()
        self._done = threading.Event()

    def _next_chunk(self) -> bytes:
        if self._chunks is None:
            self._chunks = queue.Queue(_READ_AHEAD)
            start_thread(self._read_ahead, "archivekit stream input")
        chunk = get_waking(self._chunks)
        if isinstance(chunk, OSError):
            self._chunks.put(chunk)  # raised again if asked again
            raise input_error(self.name, chunk) from None
        return chunk

    def _read_ahead(self) -> None:
        """The reading thread: the stream's chunks into `_chunks` until its end, an error
        or `close`. It closes the input itself when `close` came while it was reading (a
        file descriptor closed under a read may be another file's by the next one)."""
        chunks, stop = self._chunks, self._stop
        assert chunks is not None
        try:
            while not stop.is_set():
                chunk: bytes | OSError
                try:
                    chunk = self._raw.read(_CHUNK) or b""
                except OSError as exc:
                    chunk = exc
                while not stop.is_set():
                    try:
                        chunks.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if not chunk or isinstance(chunk, OSError):
                    return
                if self._tee is not None:
                    self._tee.write(chunk)
        finally:
            self._end_tee()
            self._done.set()
            if stop.is_set():
                self._raw.close()

    def _end_tee(self) -> None:
        """Close the tee: its reader sees the stream end where this one stopped reading."""
        if self._tee is not None:
            self._tee.close()

    @property
    def offset(self) -> int:
        """Stream offset of the next byte to consume."""
        return self._read - len(self._buf) + self._at

    @property
    def available(self) -> int:
        return len(self._buf) - self._at

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self._next_chunk()
        if not chunk:
            self.eof = True
            return False
        history = self._history
        # Chunks that end long before what is yet to be consumed are never needed again.
        oldest = self.offset - _TAIL - _UNREAD
        while history and history[0][0] + len(history[0][1]) <= oldest:
            history.popleft()
        history.append((self._read, chunk))
        self._read += len(chunk)
        if self._at < len(self._buf):
            self._buf = self._buf[self._at :] + chunk
        else:
            self._buf = chunk
        self._at = 0
        return True

    def fill(self, want: int) -> int:
        """Buffer at least `want` bytes if the stream has them; returns the bytes buffered."""
        while len(self._buf) - self._at < want and self._more():
            pass
        return len(self._buf) - self._at

    def peek(self, n: int) -> bytes:
        self.fill(n)
        return self._buf[self._at : self._at + n]

    def take(self, n: int) -> bytes:
        """`n` bytes, or fewer at the end of the stream."""
        data = self.peek(n)
        self._at += len(data)
        return data

    def take_upto(self, n: int) -> bytes:
        """Between 1 and `n` bytes (b"" at the end of the stream), without waiting for more
        than the stream already gave."""
        if self._at >= len(self._buf) and not self._more():
            return b""
        if self._at == 0 and n >= len(self._buf):
            data = self._buf
        else:
            data = self._buf[self._at : self._at + n]
        self._at += len(data)
        return data

    def skip(self, n: int) -> int:
        """Consume up to `n` bytes; returns how many (fewer at the end of the stream)."""
        done = 0
        while done < n:
            if self._at >= len(self._buf) and not self._more():
                break
            step = min(n - done, len(self._buf) - self._at)
            self._at += step
            done += step
        return done

    def unread(self, data: bytes) -> None:
        """Put back the bytes just consumed (a decompressor read past its stream's end)."""
        if data:
            self._buf = data + self._buf[self._at :]
            self._at = 0

    def window(self) -> tuple[bytes, int]:
        """The buffer and where the unconsumed bytes begin in it (read-only)."""
        return self._buf, self._at

    def advance(self, n: int) -> None:
        self._at += n

    def history(self, start: int, end: int) -> bytes:
        """The stream's bytes [start, end), read before (`start` at most `_TAIL` + `_UNREAD`
        before what is consumed)."""
        parts = []
        for chunk_start, chunk in self._history:
            lo, hi = max(start, chunk_start), min(end, chunk_start + len(chunk))
            if lo < hi:
                parts.append(chunk[lo - chunk_start : hi - chunk_start])
        data = b"".join(parts)
        if len(data) != end - start:
            raise AssertionError("stream history too short")
        return data

    def tail(self) -> tuple[int, bytes]:
        """The stream's last `_END_RECORDS` bytes (or all, if fewer) and their offset; at its
        end: where a file's reader looks for a zip's end records, and what they take with
        their comments (not a zip64 record's extensible data past that)."""
        start = max(0, self._read - _END_RECORDS)
        return start, self.history(start, self._read)

    def copy_rest(self, out: BinaryIO) -> int:
        """Write every byte not consumed yet, to the end of the stream, to `out`."""
        written = 0
        while True:
            if self._at < len(self._buf):
                piece = memoryview(self._buf)[self._at :]  # not a copy: ~200 bytes a member
                out.write(piece)
                written += len(piece)
                self._at = len(self._buf)
            if not self._more():
                return written

    def close(self) -> None:
        self._stop.set()
        if self._chunks is None or self._done.is_set():
            self._end_tee()
            self._raw.close()
        # else the reading thread closes it when its read returns (see `_read_ahead`)


@dataclass(slots=True)
class _Local:
    """A member as its local header describes it (sizes 0 when a data descriptor follows)."""

    info: MemberInfo  # header_offset: where the local header starts in the stream
    descriptor: bool
    raw_name: bytes  # as stored: what `_check_members` holds to the directory's

    @property
    def sized(self) -> bool:
        """Whether the local header gives the member's sizes: without a data descriptor, or
        with one and sizes beside it (which writers leave 0)."""
        return not self.descriptor or self.info.compressed_size > 0


@dataclass(slots=True)
class _Reading:
    """What reading one member's data found."""

    produced: int = 0  # uncompressed bytes out
    consumed: int = 0  # compressed bytes in
    crc: int = 0
    whole: bool = False  # decompressed to its end without error
    scanned: bool = False  # its end found by a scan for its data descriptor (stored)
    error: ArchiveError | None = None  # damage found (the member could still be delimited)
    error_at: int = 0  # ... after this many bytes out


def _undelimited(member: MemberInfo, why: str, method: int | None = None) -> ArchiveError:
    values: dict[str, Scalar] = {"member": member.name}
    if method is not None:
        values["method"] = method
    return ArchiveError(
        error(
            "stream-unreadable",
            f"Cannot tell where member {member.name!r} ends while reading a stream: {why}. "
            f"{SAVE_HINT}",
            values=values,
        )
    )


def _jsonl_passed(server: MemberInfo, local: MemberInfo) -> ArchiveError:
    """The JSONL the server imports is readable by the central directory, not by the local
    header the stream read (`StreamArchive._start_members`)."""
    encrypted = ", encrypted" if local.encrypted else ""
    return ArchiveError(
        error(
            "stream-unreadable",
            f"The archive's central directory (at its end) says the server imports "
            f"{server.name!r}, in method {server.method}, but its local header, which the "
            f"stream read, says method {local.method}{encrypted}, which cannot be read: a "
            f"stream cannot go back. {SAVE_HINT}",
            values={"member": server.name, "method": local.method, "directory": server.method},
        )
    )


def _not_the_directorys(name: str, why: str, values: dict[str, Scalar]) -> ArchiveError:
    """Member `name` as the stream read it is not the central directory's (`why`)."""
    return ArchiveError(
        error(
            "stream-unreadable",
            f"Member {name!r}: {why}, so reading the archive front to back does not give the "
            f"members a file's reader sees (a file crafted to look like the end of a member, "
            f"or a damaged archive). {SAVE_HINT}",
            values={"member": name, **values},
        )
    )


def _header_differences(local: _Local, server: MemberInfo) -> list[tuple[str, str]]:
    """What decides how a member's data is read, as its local header and as the central
    directory's entry say it, where they differ: method, encryption, and where its data
    ends (its sizes, or a data descriptor). A file's reader reads the directory's sizes
    whatever its flags say: where the local header gave the same, the stream read the same
    bytes, though the directory's entry has the data descriptor flag."""

    def sizes(member: MemberInfo, descriptor: bool) -> str:
        if descriptor:
            return "its sizes in a data descriptor"
        return f"{member.compressed_size:,} bytes compressed ({member.size:,} uncompressed)"

    def encryption(member: MemberInfo) -> str:
        return "encrypted" if member.encrypted else "not encrypted"

    info = local.info
    pairs = [
        (f"method {info.method}", f"method {server.method}"),
        (encryption(info), encryption(server)),
        (
            sizes(info, local.descriptor),
            sizes(server, local.descriptor and bool(server.flags & FLAG_DATA_DESCRIPTOR)),
        ),
    ]
    return [(said, directory) for said, directory in pairs if said != directory]


def _rewritten(out: BinaryIO, data: bytes) -> None:
    """`out` (a temporary file) holding `data` only."""
    out.seek(0)
    out.truncate()
    out.write(data)


def _stream_ends(name: str, where: str, member: str | None = None) -> ArchiveError:
    """`where`: "inside member 'NAME'" and the like (`member`: that NAME, kept as a value)."""
    values: dict[str, Scalar] = {"path": name}
    if member is not None:
        values["member"] = member
    return ArchiveError(
        error(
            "zip-truncated",
            f"The stream {name} ends {where} (incomplete download?). Fetch the archive again.",
            values=values,
        )
    )


def _directory_found(view: TailView, size: int, shift: int) -> int | ArchiveError | None:
    """Where a file's reader finds the central directory from `view` (a zip's bytes from
    `shift` on, `size` in all): its start, or the error its end records raise; None where
    they put it, or what they need, before `shift` (the stream cannot tell)."""
    try:
        first, _, _ = directory_start(cast(BinaryIO, view), size)
    except ArchiveError as exc:
        return None if view.reached_before else exc
    return None if first < shift or view.reached_before else first


def _ran_out(exc: ArchiveError, name: str) -> bool:
    """Whether `exc` is `_stream_ends`'s: the stream `name` ran out."""
    return exc.issue.code == "zip-truncated" and exc.issue.values.get("path") == name


def _match_descriptor(data: bytes, csize: int, usize: int) -> tuple[int, int] | None:
    """The data descriptor at the start of `data` whose sizes are `csize` and `usize` and
    that a header signature follows: (its length, its CRC-32), or None. (A deflate member's
    CRC-32 is not looked at: its stream's end delimits it, and a file's reader checks the
    central directory's, as `StreamArchive` does.)"""
    starts = (4, 0) if data[:4] == DESCRIPTOR_SIG else (0,)
    for start in starts:
        for layout in (_DESCRIPTOR_32, _DESCRIPTOR_64):
            end = start + layout.size
            if len(data) < end + 4:
                continue
            crc, compressed, size = layout.unpack_from(data, start)
            if compressed == csize and size == usize and data[end : end + 4] in _NEXT:
                return end, crc
    return None


class StreamArchive(Archive):
    """An archive read front to back (see the module doc): a zip, or a bare JSONL.

    Until `finish` returns, `index` is empty and `jsonl` is the JSONL as its local header
    describes it (sizes unknown, 0, when a data descriptor follows it); afterwards they are
    the central directory's, `size` is the stream's length.
    """

    def __init__(
        self,
        path: str,
        kind: Kind,
        source: _Input,
        jsonl: MemberInfo,
        *,
        run: RunDirectory | None,
        limits: ReadLimits,
        verify: bool,
        images: bool,
    ) -> None:
        super().__init__(path, kind, 0, [], jsonl, limits=limits)
        self._in = source
        self._run = run
        self._verify = verify
        self._images = images
        # Before the JSONL has been read, any member may turn out to be a profile or emoji
        # image; afterwards, `finish` is told which ones are.
        self._before_jsonl = True
        self._measure: frozenset[str] = frozenset()
        self._keep: frozenset[str] = frozenset()
        self._heads: BinaryIO | None = None  # the kept heads (a temporary file)
        self._heads_size = 0
        self._jsonl_local: _Local | None = None
        self._jsonl_reading = _Reading()
        self._jsonl_data = 0  # where the JSONL's data begins in the stream (once read)
        self._jsonl_state = 0  # 0 not read, 1 reading, 2 read to its end
        self._finished = False
        # Per member, in stream order (see the module doc).
        self._offsets = array("Q")
        self._state = bytearray()
        self._names = array("q")  # name_hash() of each local header's stored name
        # ... and the names, end to end, with their lengths: a hash alone would let a name of
        # the same hash pass `_check_members` (conceivable with PYTHONHASHSEED fixed).
        self._name_bytes = bytearray()
        self._name_lens = array("H")
        self._crc = array("I")
        # Its local header's method (`_UNNOTED` for the members the C pass passed, whose data
        # no check reads): a file's reader goes by the central directory's (`_held_to_directory`).
        self._method = array("H")
        # ... and the compressed bytes its data took in the stream (0 where not noted), held
        # to the directory's compressed size likewise: a file's reader reads that many.
        self._consumed = array("Q")
        self._size = array("Q")
        # What was read of members' heads, up to the last member with some (the rest, most
        # attachments, have none: nothing is noted of them here).
        self._dim_kind = bytearray()  # index into IMAGE_FORMATS + 1; 0: none
        self._dim_width = array("I")
        self._dim_height = array("I")
        self._kept_at = array("q")  # offset of the kept head in `_heads`, -1: none
        self._kept_len = array("I")
        self._errors: dict[int, tuple[ArchiveError, int]] = {}  # damage, and after how many
        # Where the JSONL's uncompressed blocks are copied (`open_stream`'s ``jsonl_tee``).
        self._jsonl_tee: Tee | None = None

    def __enter__(self) -> StreamArchive:
        return self

    def close(self) -> None:
        self._in.close()
        if self._jsonl_tee is not None and not self._jsonl_state:
            self._jsonl_tee.close()  # else closed by the thread that writes to it
        if self._heads is not None:
            self._heads.close()
            self._heads = None

    # --- opening ---------------------------------------------------------------------------

    def _start(self) -> None:
        """Read up to the JSONL's data: the members before it, or the whole archive when it
        has no root-level .jsonl (then raises what a file would: ``jsonl-missing``)."""
        with self._complete_or_cut():
            passed = self._start_members()
        if self._jsonl_local is None:
            # The members ended where no local header follows: what the directory says is
            # a file's reader's word (`_complete_or_cut` is for a stream that ran out).
            raise self._no_jsonl_read(passed)

    def _start_members(self) -> _Local | None:
        """Read up to the JSONL's data, or, where the stream has no root-level JSONL it can
        read (`_jsonl_local` stays None), to the end of the members; returns a JSONL passed
        over, if any."""
        passed: _Local | None = None  # a JSONL passed over: see below
        while True:
            if passed is not None:
                self._pass_attachments()
            if (local := self._next_member()) is None:
                break
            if is_root_jsonl(local.info.name) and passed is None:
                info = local.info
                if (info.method in READABLE_METHODS and not info.encrypted) or not local.sized:
                    require_readable_jsonl(info)
                    self._jsonl_local = local
                    self.jsonl = info
                    return None
                # A JSONL its local header says cannot be read, with its sizes there: a
                # file's reader goes by the central directory's method and flags instead
                # (they differ when one of the headers is damaged). Passed over, to learn
                # from the directory what a file's reader says. (With a data descriptor and
                # no sizes, the stream cannot find its end: its local header's word is
                # taken.) The run ends in an error whatever the directory says (below): the
                # members after it pass as after a JSONL, nothing kept of them (not the
                # heads of every one).
                passed = local
                self._before_jsonl = False
                if local.descriptor:
                    self._pass_by_sizes(local)
                    continue
            self._read_member(local)
        return passed

    def _no_jsonl_read(self, passed: _Local | None) -> ArchiveError:
        """What the central directory makes of a stream whose members held no JSONL it
        read (`passed`: one passed over): ``jsonl-missing`` where it names none either."""
        self._read_directory()
        server = zip_jsonl(self.index)
        if passed is not None and server.header_offset == passed.info.header_offset:
            require_readable_jsonl(server)  # the directory agrees: the file's error
            return _jsonl_passed(server, passed.info)
        return self._other_jsonl(server, self.size)

    def _pass_by_sizes(self, local: _Local) -> None:
        """Pass over a member whose local header gives its sizes and the data descriptor flag
        too (which says they are 0 there: one of the two is damaged; only the sizes can
        delimit it), and the descriptor with those sizes after it, if there is one."""
        member = local.info
        self._read_member(_Local(member, False, local.raw_name))
        found = _match_descriptor(self._in.peek(_HOLD), member.compressed_size, member.size)
        if found is not None:
            self._in.advance(found[0])

    def _next_member(self) -> _Local | None:
        """The next local header, or None where the members end. (Read in place from the
        buffer, one unpack: this runs once per member, 100,000s of times for attachments.)"""
        source = self._in
        offset = source.offset
        fixed = LOCAL_HEADER.size
        buf, at = source.window()
        if len(buf) - at < fixed:
            source.fill(fixed)
            buf, at = source.window()
        if buf[at : at + 4] != LOCAL_HEADER_SIG:
            if len(buf) - at < 4:
                raise _stream_ends(source.name, "before its central directory")
            return None
        if len(buf) - at < fixed:
            raise _stream_ends(source.name, "inside a local header")
        (_, _, flags, method, _, _, crc, csize, usize, n_name, n_extra) = LOCAL_HEADER.unpack_from(
            buf, at
        )
        whole = fixed + n_name + n_extra
        if len(buf) - at < whole:
            if source.fill(whole) < whole:
                raise _stream_ends(source.name, "inside a local header")
            buf, at = source.window()
        raw_name = buf[at + fixed : at + fixed + n_name]
        if csize == U32_MAX or usize == U32_MAX:
            extra = buf[at + fixed + n_name : at + whole]
            usize, csize = _local_zip64(extra, usize, csize)
        source.advance(whole)
        try:  # `decode_name` and `is_utf8` at once
            name = raw_name.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            name = decode_name(raw_name, flags)
            utf8 = False
        info = MemberInfo(
            name,
            member_key(name),
            len(self._offsets),
            method,
            flags,
            csize,
            usize,
            crc,
            offset,  # header_offset
            name.endswith("/"),
            False,  # is_symlink: only the central directory says
            bool(flags & FLAG_ENCRYPTED),
            utf8,
        )
        return _Local(info, bool(flags & FLAG_DATA_DESCRIPTOR), raw_name)

    # --- the JSONL -------------------------------------------------------------------------

    def iter_jsonl_blocks(self, block_size: int = BLOCK_SIZE) -> Iterator[bytes]:
        """The JSONL's uncompressed blocks as they arrive (once). Its size and CRC-32 are
        checked against the central directory by `finish`."""
        if self._jsonl_state:
            raise ValueError("a stream's JSONL can be read only once")
        self._jsonl_state = 1
        # Joined to whole blocks in the reader's thread: the consumer's `rechunk` then passes
        # them on as they are, and the copying of the inflater's uneven pieces (~0.1 s per
        # 100 MB) leaves the checks' thread. Of exactly `block_size` bytes: the pieces depend
        # on the timing of the reads, and the processes that read a stream must frame the
        # same batches (`archivekit.read.teed`).
        if self.kind == "jsonl":
            blocks = exact_blocks(self._plain_blocks(block_size), block_size)
        else:
            blocks = exact_blocks(self._jsonl_blocks(block_size), block_size)
        if self._jsonl_tee is not None:
            blocks = _copied(blocks, self._jsonl_tee)
        return _ahead(blocks)

    def _plain_blocks(self, block_size: int) -> Iterator[bytes]:
        member = self.jsonl
        reading = self._jsonl_reading
        while block := self._in.take_upto(block_size):
            reading.produced += len(block)
            self._budget.charge(member, reading.produced, reading.produced, len(block))
            yield block
        self._jsonl_state = 2

    def _jsonl_blocks(self, block_size: int) -> Iterator[bytes]:
        local = self._jsonl_local
        assert local is not None
        member = local.info
        if local.sized:
            # Refused on its local header's word, before its data (a damaged one may say
            # otherwise than the directory, which a file's reader goes by: the stream cannot
            # go back). Else the sizes there are none (a writer's zeros, or noise): the
            # directory's are checked at the end (`_check_jsonl`), its bytes as they come.
            check_member_size(member, self._limits)
        reading = self._jsonl_reading
        charge = self._budget.charge
        data_start = self._jsonl_data = self._in.offset
        try:
            with self._complete_or_cut():
                for block in self._data(local, reading, block_size, need=None, strict=True):
                    charge(member, reading.produced, reading.consumed, len(block))
                    yield block
        except ArchiveError as exc:
            # Its damage, or a zip-bomb limit met while reading it (a file's reader refuses
            # the directory's declared size first: `_before_reading`).
            if exc.issue.code not in ("zip-corrupt", "zip-truncated", *_READING_LIMITS):
                raise
            # What was read of it but not decompressed (the input fed with the damage) may
            # hold the data's end and what follows: read again.
            raise self._held_after_damage(
                local, exc, data_start + reading.consumed, reading.produced
            ) from None
        self._note(local, reading, None)
        self._jsonl_state = 2

    def _held_after_damage(
        self, local: _Local, damage: ArchiveError, resume: int, produced: int
    ) -> ArchiveError:
        """What to raise for the JSONL whose data, read as its local header says, failed
        (`damage`: its damage, or a zip-bomb limit met while reading it). A file's reader
        goes by the central directory: where the directory describes the JSONL otherwise
        (one of the two headers is damaged), a file's reader reads it another way and may
        well give a report. So the stream reads on to its end, keeping nothing but the
        central directory (`_drain_to_directory`), and holds the local header to it:
        ``stream-unreadable`` where they differ or no directory is found; `damage` where
        they agree and where it ended at the damage. A file's reader meets the end of the
        file first: where the stream ends without a zip's end records, what a file's reader
        says of that end (`_unended`: cut short, or its end records' own error); where its
        directory does not parse, the parse's error (`_tail_directory`).

        What it costs: the rest of the stream is read and searched for the directory's
        signature (`bytes.find`), on the way to an exit-3 stop only, and the run waits for
        the rest of the download; no more memory is held than while reading members. `resume`:
        where to read on from (at most one input slice back, within `_Input.history`);
        `produced`: the bytes its data gave before the damage (past the directory's size, a
        file's reader, which decompresses the same bytes, meets more data than declared
        first, as `_damage` says of the other members)."""
        source = self._in
        if resume < source.offset:
            source.unread(source.history(resume, source.offset))
        if source.eof and not source.available:
            return damage  # nothing follows: `_complete_or_cut` said what the end means
        with self._directory_file() as out:
            start = self._drain_to_directory(out)
            if not self._ends_with_end_records():
                unended = self._unended()
                # Cut short either way: the damage's own message says where.
                cut = unended.issue.code == damage.issue.code == "zip-truncated"
                return damage if cut else unended
            index = None if start is None else self._drained_directory(out, start)
            if index is None:
                found = self._tail_directory(out)
                if isinstance(found, ArchiveError):
                    return found
                index = found
        name = local.info.name
        if index is None:
            return _not_the_directorys(
                name,
                "its data, read as its local header (which the stream read) says, failed, "
                "and no central directory could be read after it",
                {},
            )
        server = zip_jsonl(index)
        size = source.offset + source.available  # at its end
        if (refused := self._refused_before_reading(server, local, size)) is not None:
            return refused  # the directory's word: the file's error
        differ = _header_differences(local, server)
        if not differ:
            if damage.issue.code in ("zip-truncated", *_READING_LIMITS) and produced > server.size:
                # A file's reader, decompressing the same bytes, meets the size first.
                return too_much_data(server)
            return damage
        said, directory = (" and ".join(side) for side in zip(*differ, strict=True))
        return _not_the_directorys(
            name,
            f"its data, read as its local header (which the stream read) says — {said} — "
            f"failed, and the central directory (at its end), which a file's reader goes by, "
            f"says {directory}",
            {"found": said, "expected": directory},
        )

    def _drain_to_directory(self, out: BinaryIO) -> int | None:
        """Read the rest of the stream, keeping only the central directory: the run of
        central directory headers, each followed by the next, that end records and the end
        of the stream follow. Its headers are written to `out`, where it begins returned,
        the stream left at the end records (buffered); None where there is none.

        A run that is not the directory (a zip stored as a member has one, and "PK\1\2"
        may occur anywhere in data) is dropped where it breaks, and the search goes on from
        its last header's second byte (within what `_Input.history` keeps: a header is at
        most ~192 KiB). Memory: the stream's buffer, a header and the end records."""
        source = self._in
        while self._skip_to(CENTRAL_HEADER_SIG):
            if not self._may_be_directory():
                source.advance(1)  # search on after this signature
                continue
            start = last = source.offset
            _rewritten(out, b"")
            while True:
                head = source.peek(CENTRAL_HEADER.size)
                if len(head) < CENTRAL_HEADER.size or head[:4] != CENTRAL_HEADER_SIG:
                    break
                fields = CENTRAL_HEADER.unpack(head)
                record = source.take(CENTRAL_HEADER.size + fields[10] + fields[11] + fields[12])
                out.write(record)
                last = source.offset - len(record)
            if source.offset == start:
                source.advance(1)  # no whole header: search on after its signature
                continue
            if source.peek(4) in _DIRECTORY_ENDS and source.fill(_END_RECORDS + 1) <= _END_RECORDS:
                return start
            # Not the directory: search again from inside its last header.
            source.unread(source.history(last + 1, source.offset))
        return None

    def _may_be_directory(self) -> bool:
        """Whether the central directory header at the stream's position is followed by
        another or by what ends a directory: looked at in place, nothing taken or copied
        (data dense with "PK\1\2" made each false find cost a header's take and unread, up
        to ~192 KiB, every 4 bytes: minutes a MiB)."""
        source = self._in
        if source.fill(CENTRAL_HEADER.size) < CENTRAL_HEADER.size:
            return False
        buf, at = source.window()
        fields = CENTRAL_HEADER.unpack_from(buf, at)
        end = CENTRAL_HEADER.size + fields[10] + fields[11] + fields[12]
        if source.fill(end + 4) < end + 4:
            return False
        buf, at = source.window()
        follows = buf[at + end : at + end + 4]
        return follows == CENTRAL_HEADER_SIG or follows in _DIRECTORY_ENDS

    def _tail(self) -> tuple[int, bytes, TailView, int]:
        """The stream's last bytes (at its end) as a file's reader looks for its end records
        (`_Input.tail`): where they begin, them, them as a file (offsets as in the stream;
        read as `BinaryIO`), the stream's size."""
        start, tail = self._in.tail()
        # (A zip stream begins with a local header, `_open`: a file's reader looks there
        # when it finds no end record.)
        view = TailView(io.BytesIO(tail), start, head=LOCAL_HEADER_SIG)
        return start, tail, view, start + len(tail)

    def _unended(self) -> ArchiveError:
        """What a file's reader says of a stream read to its end that does not end with a
        zip's end records: its own error where it finds them missing or damaged (another
        disk, a damaged zip64 record), else that the stream was cut short; where they point
        before the bytes the stream kept of its end, it cannot tell (``stream-unreadable``).
        (End records a file's reader accepts though they do not end the stream — a zip
        stored as the last member, its comment cut — it goes by; the stream says the cut.)"""
        _, _, view, size = self._tail()
        try:
            directory_start(cast(BinaryIO, view), size)
        except ArchiveError as exc:
            if view.reached_before:
                return self._points_before()
            if exc.issue.code != "not-a-zip":
                return exc  # as `_read_directory` lets it through
        return _stream_ends(self._in.name, "before the end of its central directory")

    def _tail_directory(self, out: BinaryIO) -> MemberIndex | ArchiveError | None:
        """The central directory as a file's reader finds it from the stream's last bytes
        (`_tail`; the stream at its end): its index, or the error parsing it raises; None
        where the end records put it, or what they need, before those bytes (the stream
        cannot tell)."""
        start, tail, view, size = self._tail()
        found = _directory_found(view, size, start)
        if not isinstance(found, int):
            return found
        self._in.advance(self._in.available)  # (in `tail`: not to be copied again)
        _rewritten(out, tail)
        try:
            return self._parsed_directory(out, start)[0]
        except ArchiveError as exc:
            return exc

    def _drained_directory(self, out: BinaryIO, start: int) -> MemberIndex | None:
        """The central directory `_drain_to_directory` found at `start`, its headers in
        `out`, parsed as a file's (None: it does not parse)."""
        source = self._in
        # The end record is looked for in the last `_TAIL` bytes of the file: a shorter
        # directory gets the bytes before it too, as `_read_directory`'s does.
        keep = min(start, max(0, source.offset + source.available - _TAIL))
        if keep < start:
            _rewritten(out, source.history(keep, source.offset))
        try:
            return self._parsed_directory(out, keep)[0]
        except ArchiveError:
            return None

    def _skip_to(self, signature: bytes) -> bool:
        """Consume the stream up to the next `signature` (False: to its end, none found)."""
        source = self._in
        keep = len(signature) - 1  # a signature may begin in one read and end in the next
        while True:
            buf, at = source.window()
            found = buf.find(signature, at)
            if found >= 0:
                source.advance(found - at)
                return True
            tail = min(keep, len(buf) - at)
            source.advance(len(buf) - at - tail)
            if source.fill(tail + 1) <= tail:
                source.advance(tail)
                return False

    # --- the rest --------------------------------------------------------------------------

    def finish(self, measure: Collection[str] = (), keep: Collection[str] = ()) -> None:
        """Read the rest of the stream: the members after the JSONL and the central
        directory. `measure`: keys whose image dimensions are wanted whatever their names
        (the profile images the JSONL names; image names always are); `keep`: keys whose
        first bytes will be read (the emoji images it names).

        Raises `ArchiveError` for what a file's reader raises, and ``stream-unreadable``
        when the central directory's JSONL is not the one the stream began with.
        """
        if self._jsonl_state != 2:
            raise ValueError("read the JSONL to its end first")
        if self._finished:
            return
        self._finished = True
        if self.kind == "jsonl":
            self.size = self._jsonl_reading.produced
            self.jsonl = plain_member(self.jsonl.name, 0, self.size)
            self.index = ListIndex([self.jsonl])
            return
        self._before_jsonl = False
        self._measure = frozenset(measure)
        self._keep = frozenset(keep)
        with self._complete_or_cut():
            while True:
                self._pass_attachments()
                if (local := self._next_member()) is None:
                    break
                self._read_member(local)
        self._read_directory()
        self._check_jsonl()
        self._check_members()

    @contextmanager
    def _complete_or_cut(self) -> Iterator[None]:
        """A stream that ends inside a member or a local header was cut short — unless its
        last bytes hold the end records of a zip that ends there, as a file's reader finds
        them: then the download is whole and the local headers led the stream astray (a
        damaged size or name length, bytes missing or added between members), which it
        cannot tell apart from the members' own bytes (``stream-unreadable``; a file's
        reader goes by the central directory). A file's reader reads the end records and the
        central directory before any member: where they are refused (another disk, a damaged
        zip64 record: `_unended`) or the directory does not parse (`_tail_directory`), the
        stream says that error too."""
        try:
            yield
        except ArchiveError as exc:
            if not _ran_out(exc, self._in.name):
                raise  # (a member's own data ending early is its damage, not a cut)
            if not self._ends_with_end_records():
                if (unended := self._unended()).issue.code != exc.issue.code:
                    raise unended from None
                raise
            with self._directory_file() as out:
                directory = self._tail_directory(out)
            if isinstance(directory, ArchiveError):
                raise directory from None
            values = dict(exc.issue.values)
            member = values.get("member")
            near = f" (at member {member!r})" if member is not None else ""
            raise ArchiveError(
                error(
                    "stream-unreadable",
                    f"The stream {self._in.name} ends where its local headers say more "
                    f"follows{near}, yet it ends with a zip's end records: reading it front "
                    f"to back does not meet the members where the central directory puts "
                    f"them (a damaged local header, or bytes missing or added between "
                    f"members). {SAVE_HINT}",
                    values=values,
                )
            ) from None

    def _ends_with_end_records(self) -> bool:
        if not self._in.eof:  # (it is, where the stream was found cut)
            return False
        _, _, view, size = self._tail()
        return ends_with_end_records(cast(BinaryIO, view), size)

    def _pass_attachments(self) -> None:
        """Pass over the members `_read_member` would note nothing of but where they end, from
        the next local header on, while they are (100,000s of attachments in an export): in C
        (`_WALK_MEMBERS`) when it is built, else `_pass_attachments_python`. Stops, consuming
        nothing of it, at the first member that needs more (or, without C, whose header or
        end is not buffered yet). The C pass reads on where the buffered window cut a member
        (a pipe read ends anywhere): Python's way through one member costs as much as C's
        through a hundred. A member larger than `_CHUNK` is left to Python, which streams it."""
        if self._verify:
            return  # every member's data is checked: `_read_member`
        if _WALK_MEMBERS is None:
            self._pass_attachments_python()
            return
        source = self._in
        images = self._images
        exts = _IMAGE_EXTENSIONS if images else None
        wanted = self._measure | self._keep if images and (self._measure or self._keep) else None
        while True:
            buf, at = source.window()
            end, offsets, hashes, names, lens, crcs, sizes, states, short = _WALK_MEMBERS(
                buf, at, source.eof, source.offset, exts, wanted
            )
            if end > at:
                source.advance(end - at)
                self._passed(offsets, hashes, names, lens, crcs, sizes, states)
            if not short or source.available >= _CHUNK:
                return
            source.fill(source.available + 1)  # the next read of the stream

    def _passed(
        self,
        offsets: bytes,
        hashes: bytes,
        names: bytes,
        lens: bytes,
        crcs: bytes,
        sizes: bytes,
        states: bytes,
    ) -> None:
        """Note the members the C pass passed."""
        # Packed as the arrays hold them (native order): nothing of the members is an object.
        self._offsets.frombytes(offsets)
        self._state.extend(states)
        self._names.frombytes(hashes)
        self._name_bytes += names
        self._name_lens.frombytes(lens)
        self._crc.frombytes(crcs)
        self._size.frombytes(sizes)
        self._method.frombytes(b"\xff\xff" * len(states))
        self._consumed.frombytes(bytes(8 * len(states)))

    def _pass_attachments_python(self) -> None:
        """`_pass_attachments` without the C extension: the stored members written with a
        data descriptor that `_quick_descriptor` delimits (`_next_member` and `_read_member`'s
        quick way in one loop, no objects per member)."""
        source = self._in
        images, wants_head = self._images, self._wants_head
        fixed, flag_mask = LOCAL_HEADER.size, FLAG_ENCRYPTED | FLAG_DATA_DESCRIPTOR
        record = self._record_plain_at
        while True:
            buf, at = source.window()
            if len(buf) - at < fixed or buf[at : at + 4] != LOCAL_HEADER_SIG:
                return
            (_, _, flags, method, _, _, _, _, _, n_name, n_extra) = LOCAL_HEADER.unpack_from(
                buf, at
            )
            if method != STORED or flags & flag_mask != FLAG_DATA_DESCRIPTOR:
                return
            raw_name = buf[at + fixed : at + fixed + n_name]
            try:
                name = raw_name.decode("utf-8")
            except UnicodeDecodeError:
                return
            if images and wants_head(member_key(name)):
                return
            quick = _quick_descriptor(buf, at + fixed + n_name + n_extra, source.eof)
            if quick is None:
                return
            offset = source.offset
            stop, length, crc = quick
            source.advance(stop + length - at)
            record(offset, raw_name, crc, stop - (at + fixed + n_name + n_extra))

    def _read_member(self, local: _Local) -> None:
        """Pass over a member that is not the JSONL, noting what later checks need."""
        member = local.info
        verify = self._verify
        if (
            local.descriptor
            and member.method == STORED
            and not member.encrypted
            and not verify
            and not self._before_jsonl
            and not (self._images and self._wants_head(member.key))
        ):
            # The common case, an attachment of an export: nothing of it noted but where it
            # ends, found without the full scan when `_quick_descriptor` can tell (the same
            # end as the scan's).
            buf, at = self._in.window()
            quick = _quick_descriptor(buf, at, self._in.eof)
            if quick is not None:
                stop, length, crc = quick
                self._in.advance(stop - at + length)
                self._record_plain_at(member.header_offset, local.raw_name, crc, stop - at)
                return
        readable = member.method in READABLE_METHODS and not member.encrypted
        wanted = self._images and server_reads(member.method, member.encrypted)
        before = self._before_jsonl
        measure = wanted and (before or is_image_name(member.key) or member.key in self._measure)
        keep = wanted and (before or member.key in self._keep)
        head_size = KEPT_HEAD if keep else HEAD_BYTES if measure else 0
        need: int | None
        if not readable:
            need = 0
        elif verify:
            need = None
        else:
            need = head_size
        reading = _Reading()
        head: list[bytes] = []
        got = 0
        max_size, max_ratio = self._limits.max_member_size, self._limits.max_ratio
        for block in self._data(local, reading, BLOCK_SIZE, need=need, strict=False):
            if got < head_size:
                head.append(block[: head_size - got])
                got += len(head[-1])
            if verify and reading.error is None:
                reading.error = _over_limits(member, reading, max_size, max_ratio)
                reading.error_at = reading.produced
        data = b"".join(head)
        dims = image_dimensions(data[:HEAD_BYTES]) if measure else None
        self._note(local, reading, dims, data if keep else None)

    def _wants_head(self, key: str) -> bool:
        """Whether the checks read the head of a readable member after the JSONL."""
        return is_image_name(key) or key in self._measure or key in self._keep

    def _note(
        self,
        local: _Local,
        reading: _Reading,
        dims: tuple[str, int, int] | None,
        head: bytes | None = None,
    ) -> None:
        if reading.error is not None:
            self._errors[len(self._offsets)] = (reading.error, reading.error_at)
        self._record_at(
            local.info.header_offset,
            local.raw_name,
            (_WHOLE if reading.whole else 0)
            | (_SCANNED if reading.scanned else 0)
            | (_ENCRYPTED if local.info.encrypted else 0),
            reading.crc,
            reading.produced,
            local.info.method,
            # Its local header's size, where it gives one (what the stream passed; a data
            # read to its head only leaves some of it unconsumed), else what was found.
            reading.consumed if local.descriptor else local.info.compressed_size,
        )
        if dims is None and head is None:
            return
        missing = len(self._offsets) - 1 - len(self._dim_kind)  # the members before: none
        self._dim_kind.extend(bytes(missing))
        self._dim_width.frombytes(bytes(4 * missing))
        self._dim_height.frombytes(bytes(4 * missing))
        self._kept_at.frombytes(b"\xff" * (8 * missing))  # -1: none kept
        self._kept_len.frombytes(bytes(4 * missing))
        if dims is None:
            self._dim_kind.append(0)
            self._dim_width.append(0)
            self._dim_height.append(0)
        else:
            kind, width, height = dims
            self._dim_kind.append(IMAGE_FORMATS.index(kind) + 1)
            self._dim_width.append(min(width, U32_MAX))
            self._dim_height.append(min(height, U32_MAX))
        if head is None:
            self._kept_at.append(-1)
            self._kept_len.append(0)
            return
        self._kept_at.append(self._heads_size)
        self._kept_len.append(len(head))
        self._keep_head(head)

    def _record_at(
        self,
        offset: int,
        raw_name: bytes,
        state: int,
        crc: int,
        size: int,
        method: int,
        consumed: int,
    ) -> None:
        self._method.append(method)
        self._consumed.append(consumed)
        self._offsets.append(offset)
        self._state.append(state)
        self._names.append(name_hash(raw_name))
        self._name_bytes += raw_name
        self._name_lens.append(len(raw_name))
        self._crc.append(crc)
        self._size.append(size)

    def _record_plain_at(self, offset: int, raw_name: bytes, crc: int, size: int) -> None:
        """`_note` of a member scanned to its end without damage, nothing else noted of it."""
        self._record_at(offset, raw_name, _WHOLE | _SCANNED, crc, size, STORED, size)

    def _keep_head(self, head: bytes) -> None:
        assert self._run is not None
        path = self._run.path / "heads"
        try:
            if self._heads is None:
                self._heads = open(path, "w+b")  # noqa: SIM115 - closed by close()
            self._heads.seek(self._heads_size)
            self._heads.write(head)
        except OSError as exc:
            raise temporary_file_error(path, exc) from None
        self._heads_size += len(head)

    def _read_directory(self) -> None:
        """Everything after the last member — central directory, end records, comment —
        into a temporary file, parsed as a file's would be."""
        source = self._in
        tail_start = source.offset
        keep = max(0, tail_start - _TAIL)
        # The members ended at what may follow them in a zip (a directory header or an end
        # record), or at bytes that cannot: then the stream read into the directory.
        at_directory = source.peek(4) in (CENTRAL_HEADER_SIG, *_DIRECTORY_ENDS)
        with self._directory_file() as out:
            out.write(source.history(keep, tail_start))
            try:
                self.index, size = self._parsed_directory(out, keep)
            except ArchiveError as exc:
                # The file begins inside the last member's data, not at a zip's start:
                # no end record found there means the stream stopped early, not that
                # it is no zip (its members were read).
                if exc.issue.code != "not-a-zip":
                    if not self._directory_passed(out, keep):
                        raise  # the end records' or the directory's own damage
                    passed = self._points_before() if at_directory else self._led_into_directory()
                    raise passed from None
                raise _stream_ends(source.name, "before the end of its central directory") from None
        self.size = size

    def _directory_passed(self, out: BinaryIO, shift: int) -> bool:
        """Whether the end records in `out` (the stream from `shift` to its end) put the
        central directory, or their own zip64 records, before `shift`: bytes the stream
        passed (as a member's data, or long before), so that its parse of the rest is no
        file's reader's."""
        return _directory_found(TailView(out, shift), self._in.offset, shift) is None

    def _points_before(self) -> ArchiveError:
        return ArchiveError(
            error(
                "stream-unreadable",
                f"The stream {self._in.name} ends with end records that point before the last "
                f"bytes it keeps (to a central directory or a zip64 record there): it cannot "
                f"tell what a file's reader makes of them. {SAVE_HINT}",
            )
        )

    def _led_into_directory(self) -> ArchiveError:
        return ArchiveError(
            error(
                "stream-unreadable",
                f"The stream {self._in.name} read into its central directory as a member's "
                f"data: reading it front to back does not meet the members where the central "
                f"directory puts them (a damaged local header, or bytes missing or added "
                f"between members). {SAVE_HINT}",
            )
        )

    def _parsed_directory(self, out: BinaryIO, shift: int) -> tuple[MemberIndex, int]:
        """The rest of the stream after what `out` holds (the stream's bytes from `shift` up
        to its position), parsed as a file's central directory: its index and the stream's
        size. Raises what the parser raises."""
        size = self._in.offset + self._in.copy_rest(out)
        out.flush()
        out.seek(0)
        return read_member_index(out, size, shift=shift), size

    @contextmanager
    def _directory_file(self) -> Iterator[BinaryIO]:
        """A temporary file in the run's directory for the central directory to be parsed
        from (as a file's), removed afterwards."""
        if self._run is None:
            raise ValueError("a zip stream needs a run directory")
        path = self._run.path / "central-directory"
        try:
            with open(path, "w+b") as out:
                yield out
        except OSError as exc:
            raise temporary_file_error(path, exc) from None
        finally:
            path.unlink(missing_ok=True)

    def _check_jsonl(self) -> None:
        """The central directory's JSONL must be the one the stream began with, intact."""
        index = self.index
        server = zip_jsonl(index)
        local = self._jsonl_local
        assert local is not None
        if (refused := self._refused_before_reading(server, local, self.size)) is not None:
            raise refused
        # Its method, flags and compressed size as the stream noted them (`_note`).
        self._held_to_directory(server, bisect_left(self._offsets, local.info.header_offset))
        reading = self._jsonl_reading
        check_member_data(server, reading.produced, reading.crc)
        self.jsonl = server

    def _check_members(self) -> None:
        """The members the stream read must be the central directory's: each entry's local
        header read, under the same name (the same stored bytes, whatever either header's UTF-8
        flag says), and where a scan for its data descriptor ended a member, at the
        directory's size. Else the stream split the archive otherwise than a
        file's reader does — an attachment holding what looks like a data descriptor and a
        header (crafted, or an unlucky file), or junk between members — and what it checked
        is not the archive's content. (A CRC-32 other than the directory's is damage, which
        the checks report as for a file.)"""
        sizes = self._size
        found = self.index.check_local(
            LocalHeaders(
                self._offsets, self._names, self._state, sizes, self._name_bytes, self._name_lens
            )
        )
        if found is None:
            return
        entry, why_code, i = found
        name = self.index.name(entry)
        values: dict[str, Scalar] = {"member": name}
        if why_code == LOCAL_MISSING:
            why = "the stream read no local header where the directory says it begins"
        elif why_code == LOCAL_RENAMED:
            why = "its local header gives another name"
        else:
            csize = self.index.data_fields(entry)[2]
            why = f"the stream found it {sizes[i]:,} bytes long, the directory says {csize:,}"
            values.update(found=sizes[i], expected=csize, unit="bytes")
        raise _not_the_directorys(name, why, values)

    def _refused_before_reading(
        self, server: MemberInfo, local: _Local, size: int
    ) -> ArchiveError | None:
        """What a file's reader says of the directory's JSONL, `server`, before it reads a
        byte of its data, in its order (the stream `size` bytes long): where it is not the
        JSONL the stream read (`local`), `_other_jsonl`; its method and encryption; its data
        within the file (at open); its declared size against the limits. None: it reads it."""
        if server.header_offset != local.info.header_offset:
            return self._other_jsonl(server, size)
        try:
            require_readable_jsonl(server)
            if self._jsonl_data + server.compressed_size > size:
                return data_past_end(server)
            check_member_size(server, self._limits)
        except ArchiveError as exc:
            return exc
        return None

    def _other_jsonl(self, server: MemberInfo, size: int) -> ArchiveError:
        """The central directory's JSONL, `server`, is not where the stream read one (the
        stream `size` bytes long): what a file's reader says first where the stream can tell
        it too, in its order (the JSONL's method and encryption, then its local header by its
        offset alone: outside the file, or cut by its end), else that the stream read another
        (past those checks, a file's reader reads bytes the stream has passed)."""
        try:
            require_readable_jsonl(server)
        except ArchiveError as exc:
            return exc
        outside = local_header_outside(server, size)
        return outside if outside is not None else self._not_the_jsonl_read(server.name)

    def _not_the_jsonl_read(self, server: str) -> ArchiveError:
        streamed = self._jsonl_local.info.name if self._jsonl_local is not None else None
        what = (
            f"the stream began with {streamed!r} and validated it"
            if streamed is not None
            else "the stream has no local header for it"
        )
        return ArchiveError(
            error(
                "stream-unreadable",
                f"The archive's central directory (at its end) says the server imports "
                f"{server!r}, but {what}: a stream cannot go back. {SAVE_HINT}",
                values={"member": server}
                if streamed is None
                else {"member": server, "streamed": streamed},
            )
        )

    # --- what reading found, for the checks ------------------------------------------------

    def _ordinal(self, member: MemberInfo) -> int | None:
        """The stream's record of the member at `member.header_offset`, or None."""
        offsets = self._offsets
        i = bisect_left(offsets, member.header_offset)
        return i if i < len(offsets) and offsets[i] == member.header_offset else None

    def member_dimensions(self, member: MemberInfo) -> tuple[str, int, int] | None:
        """What a file's reader measures (`Archive.member_dimensions`), from what was noted
        as the member passed."""
        i = self._ordinal(member)
        if i is None:
            return None
        self._held_to_directory(member, i)
        if i >= len(self._dim_kind):
            return None  # nothing read of its head
        if self._kept_at[i] >= 0:
            return super().member_dimensions(member)  # `read_member_head`
        if not self._dim_kind[i]:
            return None
        try:
            self._as_read(member, i, HEAD_BYTES)
        except ArchiveError:
            return None
        return (
            IMAGE_FORMATS[self._dim_kind[i] - 1],
            self._dim_width[i],
            self._dim_height[i],
        )

    def read_member_head(self, member: MemberInfo, n: int) -> bytes:
        """The first `n` bytes of a member whose head was kept (see the module doc), raising
        what reading them from a file raises."""
        if n <= 0:
            return b""
        i = self._ordinal(member)
        if i is None:
            raise ArchiveError(
                error("zip-corrupt", f"Member {member.name!r}: the local header is damaged.")
            )
        self._held_to_directory(member, i)
        self._as_read(member, i, n)
        at, kept = (self._kept_at[i], self._kept_len[i]) if i < len(self._kept_at) else (-1, 0)
        whole = self._state[i] & _WHOLE and self._size[i] <= kept
        if at < 0 or (n > kept and not whole):
            raise ValueError(f"the stream did not keep the first {n} bytes of {member.name!r}")
        assert self._heads is not None
        self._heads.flush()
        return os.pread(self._heads.fileno(), min(n, kept), at)

    def _held_to_directory(self, member: MemberInfo, i: int) -> None:
        """What was noted of the central directory's `member` (record `i`) came of its data
        read in its local header's method: a file's reader reads it in the directory's
        (`Archive.member_dimensions`, `read_member_head`, `iter_member_blocks`). Where they
        differ (one of the headers is damaged), what was noted is not what a file's reader
        reads, and the data has passed: ``stream-unreadable``. The same for the encryption
        flag (an encrypted member's data is not read), and for the compressed bytes its data
        took, where its local header gave its sizes (a file's reader reads the directory's)."""
        local = self._method[i]
        if local == _UNNOTED:
            return
        encrypted = bool(self._state[i] & _ENCRYPTED)
        if (local, encrypted) == (member.method, member.encrypted):
            consumed = self._consumed[i]
            if consumed != member.compressed_size:
                raise _not_the_directorys(
                    member.name,
                    f"the stream read {consumed:,} bytes of its compressed data, where the "
                    f"central directory (at its end) says {member.compressed_size:,}",
                    {"found": consumed, "expected": member.compressed_size, "unit": "bytes"},
                )
            return
        said = f"method {local}{', encrypted' if encrypted else ''}"
        directory = f"method {member.method}{', encrypted' if member.encrypted else ''}"
        raise ArchiveError(
            error(
                "stream-unreadable",
                f"Member {member.name!r}: its local header, which the stream read, says "
                f"{said}, the central directory (at its end) says {directory}, which a "
                f"file's reader goes by: a stream cannot go back to read it so. {SAVE_HINT}",
                values={"member": member.name, "method": local, "directory": member.method},
            )
        )

    def _damage(self, member: MemberInfo, i: int) -> tuple[ArchiveError, int] | None:
        """The damage noted of record `i` as a file's reader meets it in the directory's
        `member`, and after how many bytes: compressed data that ends early (the only
        ``zip-truncated`` noted; a stream cut short stops) after more bytes than the
        directory's size decompressed is, for a file's reader, which decompresses the same
        bytes, more data than declared, met first (once past that size)."""
        found = self._errors.get(i)
        if found is None or found[1] <= member.size or found[0].issue.code != "zip-truncated":
            return found
        return too_much_data(member), member.size + 1

    def _as_read(self, member: MemberInfo, i: int, n: int) -> None:
        """Raise what reading the first `n` bytes of the central directory's `member` from a
        file raises, from what was noted of it (record `i`): damage met before `n` bytes;
        for a member shorter than `n`, read to its end, a size or CRC-32 other than the
        directory's; more data than the directory declares."""
        if member.encrypted:
            raise member_encrypted(member)
        found = self._damage(member, i)
        if found is not None and found[1] < n:
            raise found[0]
        size = self._size[i]
        if self._state[i] & _WHOLE and size < n:
            check_member_data(member, size, self._crc[i])
        elif n > member.size:
            raise too_much_data(member)

    def iter_member_blocks(
        self, member: MemberInfo, block_size: int = BLOCK_SIZE, *, ratio: bool = True
    ) -> Iterator[bytes]:
        """`--verify-files` on a stream: raises what reading `member` in full raises for a
        file (checked as it passed: open the stream with ``verify``); yields nothing. Its
        members passed with every limit checked: ``ratio`` False is refused (ValueError)."""
        if not self._verify or not ratio:
            raise ValueError("a stream's members can only be checked as they pass (verify)")
        check_member_size(member, self._limits)
        i = self._ordinal(member)
        if i is None:
            raise ArchiveError(
                error("zip-corrupt", f"Member {member.name!r}: the local header is damaged.")
            )
        self._held_to_directory(member, i)
        found = self._damage(member, i)
        if found is not None:
            raise found[0]
        if self._state[i] & _WHOLE:
            check_member_data(member, self._size[i], self._crc[i])
        return iter(())

    # --- member data -----------------------------------------------------------------------

    def _data(
        self, local: _Local, reading: _Reading, block_size: int, *, need: int | None, strict: bool
    ) -> Iterator[bytes]:
        """The member's uncompressed blocks, consuming its data (and data descriptor).

        `need`: stop decompressing after this many bytes (None: all) when its end is known
        without (sizes in the local header); `strict`: raise damage at once (the JSONL)
        instead of noting it in `reading`.
        """
        member = local.info
        method = member.method
        if not local.descriptor:
            if need == 0 or method not in READABLE_METHODS or member.encrypted:
                self._skip(member, member.compressed_size, reading)
                return
            if method == STORED:
                yield from self._stored_known(member, reading, block_size, need)
            elif method == DEFLATED:
                yield from self._deflated(member, reading, block_size, need, strict, True)
            else:
                yield from self._deflate64(member, reading, block_size, need, strict, True)
            return
        if member.encrypted:
            raise _undelimited(member, "it is encrypted and written with a data descriptor")
        if method == STORED:
            yield from self._stored_scan(member, reading, block_size)
        elif method == DEFLATED:
            yield from self._deflated(member, reading, block_size, None, strict, False)
        elif method in READABLE_METHODS:  # deflate64, bzip2, LZMA
            yield from self._deflate64(member, reading, block_size, None, strict, False)
        else:
            raise _undelimited(
                member,
                f"it is compressed with method {method}, which cannot be decompressed here, "
                "and written with a data descriptor",
                method,
            )

    def _skip(self, member: MemberInfo, n: int, reading: _Reading) -> None:
        skipped = self._in.skip(n)
        reading.consumed += skipped
        if skipped < n:
            raise _stream_ends(self._in.name, f"inside member {member.name!r}", member.name)

    def _emit(self, reading: _Reading, block: bytes) -> bytes:
        reading.produced += len(block)
        reading.crc = crc32(block, reading.crc)
        return block

    def _stored_known(
        self, member: MemberInfo, reading: _Reading, block_size: int, need: int | None
    ) -> Iterator[bytes]:
        remaining = member.compressed_size
        while remaining:
            if need is not None and reading.produced >= need:
                self._skip(member, remaining, reading)
                return
            block = self._in.take_upto(min(block_size, remaining))
            if not block:
                raise _stream_ends(self._in.name, f"inside member {member.name!r}", member.name)
            remaining -= len(block)
            reading.consumed += len(block)
            yield self._emit(reading, block)
        reading.whole = True

    def _stored_scan(
        self, member: MemberInfo, reading: _Reading, block_size: int
    ) -> Iterator[bytes]:
        """A stored member whose size only its data descriptor says: scan for it."""
        source = self._in
        reading.scanned = True
        want = _HOLD + 1
        while True:
            available = source.fill(want)
            buf, at = source.window()
            end = at + available
            stop, length, need = _find_descriptor(
                buf, at, end, reading.produced, reading.crc, source.eof
            )
            if need:
                want = need  # undecided: read further ahead first
                continue
            want = _HOLD + 1
            yield from self._emit_slices(reading, buf, at, stop, block_size)
            source.advance(stop - at + length)
            if length:
                reading.whole = True
                return
            if source.eof:
                # No descriptor matching the data up to the end: cut short (or damaged).
                raise _stream_ends(source.name, f"inside member {member.name!r}", member.name)

    def _emit_slices(
        self, reading: _Reading, buf: bytes, start: int, stop: int, block_size: int
    ) -> Iterator[bytes]:
        for lo in range(start, stop, block_size):
            block = buf[lo : min(stop, lo + block_size)]
            reading.consumed += len(block)
            yield self._emit(reading, block)

    def _deflated(
        self,
        member: MemberInfo,
        reading: _Reading,
        block_size: int,
        need: int | None,
        strict: bool,
        known: bool,
    ) -> Iterator[bytes]:
        """A deflate member: to `compressed_size` bytes when `known` (like a file's reader),
        else to the end of its deflate stream, then its data descriptor."""
        source = self._in
        inflater = new_inflater()
        remaining = member.compressed_size if known else -1
        while not inflater.eof:
            chunk = inflater.unconsumed_tail
            if not chunk and remaining:
                want = DEFLATE_INPUT if remaining < 0 else min(DEFLATE_INPUT, remaining)
                chunk = source.take_upto(want)
                if not chunk:
                    raise _stream_ends(source.name, f"inside member {member.name!r}", member.name)
                if remaining > 0:
                    remaining -= len(chunk)
            try:
                # Pieces that end where a block of the data ends: the JSONL's `exact_blocks`
                # passes a whole one on as it is and joins the others without cutting them
                # again (copies in the inflating thread, which waits for the GIL for them).
                room = block_size - reading.produced % block_size
                block = inflater.decompress(chunk, room)
            except ZLIB_ERRORS as exc:
                self._failed(member, reading, bad_data(member, exc), strict, known)
                break
            reading.consumed += len(chunk) - len(inflater.unconsumed_tail)
            if block:
                yield self._emit(reading, block)
                if known and need is not None and reading.produced >= need and not inflater.eof:
                    break
            elif not chunk:
                # Known size used up before the deflate stream ended (a file's reader fails so).
                self._failed(member, reading, ends_early(member), strict, known)
                break
        if known:
            # Whatever follows the deflate stream within the member is ignored, as a file's
            # reader does; so is the rest when only its head was wanted.
            reading.whole = inflater.eof and reading.error is None
            self._skip(member, remaining, reading)
            return
        source.unread(inflater.unused_data)
        reading.consumed -= len(inflater.unused_data)
        self._descriptor(member, reading)

    def _deflate64(
        self,
        member: MemberInfo,
        reading: _Reading,
        block_size: int,
        need: int | None,
        strict: bool,
        known: bool,
    ) -> Iterator[bytes]:
        """A Deflate64 (or bzip2, LZMA) member (see `_deflated`); its decompressor does not say
        where its stream ended, so the end is found in the last slice fed, by the descriptor."""
        source = self._in
        inflater = new_decoder(member.method, member.size if known else None)
        remaining = member.compressed_size if known else -1
        pending = bytearray()
        piece = previous = b""
        while not inflater.eof:
            if remaining == 0:
                self._failed(member, reading, ends_early(member), strict, known)
                break
            want = DEFLATE64_INPUT if remaining < 0 else min(DEFLATE64_INPUT, remaining)
            previous, piece = piece, source.take_upto(want)
            if not piece:
                raise _stream_ends(source.name, f"inside member {member.name!r}", member.name)
            if remaining > 0:
                remaining -= len(piece)
            reading.consumed += len(piece)  # before a block is yielded: its ratio is checked
            enough = False
            try:
                for out in decoded(inflater, piece, member):
                    pending += out
                    if len(pending) >= block_size:
                        yield self._emit(reading, bytes(pending))
                        pending.clear()
                        if known and need is not None and reading.produced >= need:
                            enough = True
                            break
            except ArchiveError as exc:  # damaged data (`decoded`)
                reading.consumed -= len(piece)
                self._failed(member, reading, exc, strict, known)
                break
            if enough:
                break
        if pending:
            yield self._emit(reading, bytes(pending))
        if known:
            reading.whole = inflater.eof and reading.error is None
            self._skip(member, remaining, reading)
            return
        # The stream ended in the last slice fed (or, should the decompressor have looked
        # ahead, the one before): find where by the data descriptor that follows.
        fed = previous + piece
        source.unread(fed)
        reading.consumed -= len(fed)
        window = source.peek(len(fed) + _HOLD)
        for cut in range(1, len(fed) + 1):
            found = _match_descriptor(
                window[cut : cut + _HOLD], reading.consumed + cut, reading.produced
            )
            if found is not None:
                source.advance(cut + found[0])
                reading.consumed += cut
                reading.whole = True
                return
        if len(window) < len(fed) + _HOLD:
            # The stream ends before a descriptor and a signature after the data could be
            # seen whole: cut inside them (or, ending with a zip's end records, led astray by
            # a local header: `_complete_or_cut` tells which).
            raise _stream_ends(source.name, f"after member {member.name!r}", member.name)
        raise _undelimited(member, "no data descriptor matching its data follows it")

    def _descriptor(self, member: MemberInfo, reading: _Reading) -> None:
        """Consume the data descriptor after a deflate stream (sizes as decompressed)."""
        data = self._in.peek(_HOLD)
        found = _match_descriptor(data, reading.consumed, reading.produced)
        reading.whole = True
        if found is not None:
            self._in.advance(found[0])
            return
        if data[:4] in _NEXT:
            return  # flagged, but no descriptor written: the next header follows at once
        if len(data) < _HOLD:
            # The stream ends before a descriptor and a signature after the data could be
            # seen whole: cut inside them (a whole zip has at least its central directory
            # and end record there).
            raise _stream_ends(self._in.name, f"after member {member.name!r}", member.name)
        raise _undelimited(member, "no data descriptor matching its data follows it")

    @staticmethod
    def _failed(
        member: MemberInfo, reading: _Reading, damage: ArchiveError, strict: bool, known: bool
    ) -> None:
        """Damaged data: raised for the JSONL (`strict`, as a file's reader does) and when
        only decompressing could tell where the member ends; else noted, for what a file's
        reader would meet reading the member (its image head, --verify-files)."""
        if strict:
            raise damage
        if not known:
            raise _undelimited(member, "its compressed data is damaged")
        reading.error = damage
        reading.error_at = reading.produced


def _find_descriptor(
    buf: bytes, at: int, end: int, produced: int, crc: int, eof: bool
) -> tuple[int, int, int]:
    """Scan `buf[at:end]` (the data of a stored member `produced` bytes in, whose CRC-32 so
    far is `crc`) for the data descriptor that ends it: sizes equal to the bytes before it
    and a header signature after it — the first whose CRC-32 is that of those bytes too; or,
    when none within `_LOOKAHEAD` bytes after the first such descriptor has it, that first
    one (the member's data is damaged, which the checks report as for a file).

    Returns ``(start, length, need)``: found, the descriptor's index in `buf` and its length;
    else ``length`` 0 and either `need` 0 and `start` where the next scan must begin (every
    candidate before it was tried, none after it is seen whole yet), or `need` the bytes from
    `at` the window must hold before the scan can decide (nothing may be consumed yet).

    The work is linear in the bytes scanned: candidates are tried in order as the scan meets
    them, and it stops at the first that decides (a window may hold many small members).
    """
    view = memoryview(buf)
    pending: list[int] = []  # candidate starts not tried yet (a heap)
    limit = end if eof else end - _HOLD  # a candidate from here on is not seen whole yet
    fallback: tuple[int, int] | None = None  # the first descriptor with another CRC-32

    def tried_upto(bound: int) -> tuple[int, int] | None:
        nonlocal fallback
        while pending and pending[0] <= bound and pending[0] < limit:
            start = heapq.heappop(pending)
            if fallback is not None and start > fallback[0] + _LOOKAHEAD:
                return fallback
            size = produced + start - at
            match = _match_descriptor(buf[start : start + _HOLD], size, size)
            if match is None:
                continue
            if match[1] == crc32(view[at:start], crc):
                return start, match[0]
            if fallback is None:
                fallback = start, match[0]
        return None

    i = buf.find(b"PK", at, end)
    while i >= 0:
        sig = buf[i : i + 4]
        if sig == DESCRIPTOR_SIG:
            heapq.heappush(pending, i)
        if sig in _NEXT:
            # A descriptor without its signature ends right before the next header.
            for j in (i - 20, i - 12):
                if j >= at:
                    heapq.heappush(pending, j)
        # A later "PK" yields candidates from 19 bytes before itself on: those before are
        # final, tried in order.
        found = tried_upto(i - 20)
        if found is not None:
            return found[0], found[1], 0
        i = buf.find(b"PK", i + 1, end)
    found = tried_upto(end)
    if found is not None:
        return found[0], found[1], 0
    if fallback is None:
        return limit, 0, 0
    if eof or fallback[0] + _LOOKAHEAD < limit:
        return fallback[0], fallback[1], 0
    return at, 0, fallback[0] + _LOOKAHEAD + _HOLD + 1 - at


def _quick_descriptor(buf: bytes, at: int, eof: bool) -> tuple[int, int, int] | None:
    """What `_find_descriptor` finds for a stored member whose data starts at `buf[at]`, in
    the common case only, at a fraction of its cost: the first "PK" after `at` is the
    signature of the data descriptor that ends the member (sizes and CRC-32 right, the next
    header's signature after it, all in `buf`). ``(start, length, crc)`` as `_find_descriptor`
    gives its descriptor and the data's CRC-32; None when the full scan must decide.

    The scan tries candidates in the order they start: before this one, only a descriptor
    without its signature that ends at a header signature found within the next 20 bytes
    (none before: no "PK" precedes it). Any such candidate whose sizes fit leaves it to the
    scan."""
    i = buf.find(b"PK", at)
    limit = len(buf) if eof else len(buf) - _HOLD  # as `_find_descriptor`'s
    if i < 0 or i >= limit or buf[i : i + 4] != DESCRIPTOR_SIG:
        return None
    k = buf.find(b"PK", i + 1, i + 21)
    while k >= 0:
        if buf[k : k + 4] in _NEXT:
            for j in (k - 20, k - 12):
                # (Its compressed size, 32- or 64-bit, begins at j + 4: a cheap first test.)
                if (
                    at <= j < i
                    and _U32.unpack_from(buf, j + 4)[0] == (j - at) & U32_MAX
                    and _match_descriptor(buf[j : j + _HOLD], j - at, j - at)
                ):
                    return None
        k = buf.find(b"PK", k + 1, i + 21)
    size = i - at
    match = _match_descriptor(buf[i : i + _HOLD], size, size)
    if match is None:
        return None
    crc = crc32(memoryview(buf)[at:i], 0)
    return (i, match[0], crc) if crc == match[1] else None


# The C pass over a window's members (`StreamArchive._pass_attachments`), or None; what it
# tests names against: `is_image_name`'s extensions, as bytes.
_WALK_MEMBERS = None if NATIVE is None else NATIVE.walk_members
_IMAGE_EXTENSIONS = tuple(sorted(ext.encode() for ext in IMAGE_EXTENSIONS))

# Blocks a reader thread may have ready before the checks take them (a few MiB).
_AHEAD = 4
_FINISHED = object()


def _ahead(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """`blocks`, produced by a thread up to `_AHEAD` ahead of the consumer: reading the pipe
    and decompressing (both release the GIL) then overlap with the checks of the lines,
    which is most of a stream's time. What the producer raises is raised here; a consumer
    that stops early stops it (a thread blocked in a read dies with the process)."""
    ready: queue.Queue[object] = queue.Queue(_AHEAD)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for block in blocks:
                if not put(block):
                    return
            put(_FINISHED)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)

    thread = start_thread(produce, "archivekit stream reader")
    try:
        while True:
            item = get_waking(ready)
            if item is _FINISHED:
                break
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()
        thread.join(timeout=0.1)


def _copied(blocks: Iterator[bytes], tee: Tee) -> Iterator[bytes]:
    """`blocks`, each copied to `tee` once handed on (in the reader's thread, which closes
    it): the checks of a block and its copy overlap."""
    try:
        for block in blocks:
            yield block
            tee.write(block)
    finally:
        tee.close()


def _over_limits(
    member: MemberInfo, reading: _Reading, max_size: int, max_ratio: float
) -> ArchiveError | None:
    """The zip-bomb limits a file's reader applies while reading one member in full."""
    if reading.produced > max_size:
        return member_too_large(member, max_size)
    if over_ratio(reading.produced, reading.consumed, max_ratio):
        return member_ratio(member, max_ratio)
    return None


def _local_zip64(extra: bytes, usize: int, csize: int) -> tuple[int, int]:
    """A local header's zip64 extra field: the original, then the compressed size, each only
    where the 32-bit field is maxed out."""
    i = 0
    while len(extra) - i >= 4:
        tag, length = struct.unpack_from("<HH", extra, i)
        i += 4
        field = extra[i : i + length]
        i += length
        if tag != 0x0001:
            continue
        j = 0
        if usize == U32_MAX and len(field) >= j + 8:
            usize = struct.unpack_from("<Q", field, j)[0]
            j += 8
        if csize == U32_MAX and len(field) >= j + 8:
            csize = struct.unpack_from("<Q", field, j)[0]
        break
    return usize, csize


def open_stream(
    path: str | os.PathLike[str],
    *,
    run: RunDirectory,
    limits: ReadLimits | None = None,
    verify: bool = False,
    images: bool = True,
    tee: int | None = None,
    jsonl_tee: int | None = None,
    fd: int | None = None,
    plain: bool = False,
) -> StreamArchive:
    """Open a stream (`is_stream`): a zip, or a bare JSONL (``-`` whose first byte is ``{``,
    or a path ending in ``.jsonl``, as for files), read up to the JSONL's data.

    `run`: its directory holds the central directory while it is parsed. `verify`: check
    every member's data as it passes (`--verify-files`); `images`: measure image dimensions
    (validation needs them, counting does not). For a second process that reads a copy
    (`archivekit.read.teed`): `tee`, a pipe (then owned) to which every byte read is copied;
    `jsonl_tee`, one to which only the JSONL's uncompressed bytes are (the copy ends with
    them: it is all that counting needs). `fd`: read from this descriptor (then owned) the
    copy of the stream `path` that such a pipe carries; `plain`: it is a JSONL's bytes.

    Raises `ArchiveError`: ``not-a-zip``, ``input-unreadable``, ``stream-unreadable`` and what
    `StreamArchive.finish` raises when the archive has no root-level .jsonl.
    """
    name = os.fspath(path)
    try:
        if fd is not None:
            # A JSONL's copy is read in whole chunks (a buffered read fills what it is asked
            # for, straight into the bytes it returns): they are the blocks the parent wrote,
            # handed on without being joined or cut (`_Input.take_upto`, `exact_blocks`).
            buffering = -1 if plain else 0
            raw: BinaryIO = open(fd, "rb", buffering=buffering)  # noqa: SIM115 - owned below
        elif name == STDIN:
            raw = open(0, "rb", buffering=0, closefd=False)  # noqa: SIM115 - owned below
        else:
            try:
                raw = open(name, "rb", buffering=0)  # noqa: SIM115 - owned by the archive
            except OSError as exc:
                raise input_error(name, exc) from None
    except BaseException:
        for pipe in (tee, jsonl_tee):
            if pipe is not None:
                os.close(pipe)
        raise
    widen_pipe(raw.fileno())
    source = _Input(raw, "standard input" if name == STDIN else name, _tee(tee))
    try:
        if plain:
            archive = _plain(name, source, limits or ReadLimits())
        else:
            archive = _open(name, source, run, limits or ReadLimits(), verify, images)
    except BaseException:
        source.close()
        if jsonl_tee is not None:
            os.close(jsonl_tee)
        raise
    archive._jsonl_tee = _tee(jsonl_tee)
    return archive


def _tee(fd: int | None) -> Tee | None:
    return None if fd is None else Tee(fd)


def _open(
    name: str,
    source: _Input,
    run: RunDirectory,
    limits: ReadLimits,
    verify: bool,
    images: bool,
) -> StreamArchive:
    head = source.peek(4)
    # A stream that is an end record and no more (at most its 64 KiB comment after it): an
    # empty zip. Read as a file's reader reads it (`StreamArchive._start`), it says what a file
    # says of it.
    whole_tail = head == EOCD_SIG and source.fill(_TAIL + 1) <= _TAIL
    if head == LOCAL_HEADER_SIG or whole_tail:
        placeholder = plain_member("", 0, 0)
        archive = StreamArchive(
            name, "zip", source, placeholder, run=run, limits=limits, verify=verify,
            images=images,
        )  # fmt: skip
        try:
            archive._start()
        except BaseException:
            archive.close()
            raise
        return archive
    if _looks_like_jsonl(name, source):
        return _plain(name, source, limits)
    if head in (EOCD_SIG, SPANNED_MARKER, ZIP64_EOCD_SIG, CENTRAL_HEADER_SIG):
        raise ArchiveError(
            error(
                "stream-unreadable",
                f"{source.name} is a zip that does not begin with a member (empty, split or "
                f"unusual): a stream cannot be read from its end. {SAVE_HINT}",
            )
        )
    if not head:
        raise ArchiveError(error("not-a-zip", f"{source.name} is empty: not a zip archive."))
    raise ArchiveError(
        error(
            "not-a-zip",
            f"{source.name} is not a zip archive: it does not begin with a zip member. A zip "
            f"with something before it (a self-extracting one) cannot be read from a stream. "
            f"{SAVE_HINT}",
        )
    )


def _plain(name: str, source: _Input, limits: ReadLimits) -> StreamArchive:
    """A bare JSONL."""
    member = plain_member(os.path.basename(name), 0, 0)
    return StreamArchive(
        name, "jsonl", source, member, run=None, limits=limits, verify=False, images=False
    )


def _looks_like_jsonl(name: str, source: _Input) -> bool:
    """A bare JSONL: a path ending in .jsonl, as for files; standard input when its first
    byte (after a UTF-8 BOM or white space) opens a JSON object."""
    if name != STDIN:
        return name.lower().endswith(".jsonl")
    head = source.peek(4096).removeprefix(BOM).lstrip()
    return head.startswith(b"{")
