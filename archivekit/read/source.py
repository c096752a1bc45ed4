"""Opening an import source: a zip, a bare ``.jsonl`` or an unzipped export directory.

Owns `open_archive` and `Archive`: detecting the kind of input by content, choosing the JSONL
member exactly as the server does (reference §1.2: it must be read), and streaming member data
with the zip-bomb limits. It raises `ArchiveError` only for a source that cannot be read at
all; what the server would think of the archive (another JSONL chosen by older servers,
methods it cannot read, member-name hygiene) is checked in `archivekit.check.archive`.
Nothing is ever extracted to disk: member names are data, never used as paths (except below
an export directory the user gave us).
"""

from __future__ import annotations

import os
import stat
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import replace
from types import TracebackType
from typing import BinaryIO, Literal, cast

from archivekit.errors import ArchiveError
from archivekit.gosem.images import HEAD_BYTES, image_dimensions
from archivekit.gosem.paths import member_key
from archivekit.issues import REPAIR_CLEAR_ENCRYPTION, error
from archivekit.read.imageheads import IMAGE_HEADS
from archivekit.read.inflate import (
    READABLE_METHODS,
    STORED,
    ReadBudget,
    ReadLimits,
    check_member_size,
    crc32,
    iter_compressed,
    iter_file_blocks,
    iter_member_data,
    member_encrypted,
    method_name,
    quick_head,
)
from archivekit.read.members import ListIndex, MemberIndex, read_member_index
from archivekit.read.zipdir import (
    FLAG_ENCRYPTED,
    MemberInfo,
    go_dir,
    input_error,
    looks_like_zip,
    read_data_offset,
)

Kind = Literal["zip", "jsonl", "dir"]

# Uncompressed bytes read at a time by default: the unit of streaming, and of work in a
# parallel run.
BLOCK_SIZE = 1 << 20

# The name of standard input as an archive path.
STDIN = "-"
SAVE_HINT = (
    "Save the archive to a file first (e.g. `curl -o export.zip URL`) and run archivekit on "
    "the file."
)

OPEN_FILE_ERROR_ID = "import_process.worker.do_job.open_file"
MISSING_JSONL_ERROR_ID = "import_process.worker.do_job.missing_jsonl"
REZIP_HINT = "Re-zip with deflate, e.g. `zip -r -Z deflate new.zip import.jsonl data`."
COPY_BYTES = 1 << 20  # raw bytes read at a time when a member's CRC-32 is checked


def stray_flag_hint(member: MemberInfo) -> str:
    """What a validate message about an encrypted-flagged ``member`` adds when it may be plain
    data with a stray flag (stored with no room for an encryption header): `archivekit fix`
    clears the flag once the CRC-32 of its bytes proves it (`provably_plain`). A hint, not a
    promise: validate does not read the bytes."""
    if member.method != STORED or member.compressed_size != member.size:
        return ""
    return (
        " Stored with no room for an encryption header (its compressed size is its size), "
        "it may be plain data with a stray flag: `archivekit fix` clears the flag when the "
        f"CRC-32 of its bytes proves it ({REPAIR_CLEAR_ENCRYPTION})."
    )


def without_flag(member: MemberInfo) -> MemberInfo:
    """``member`` without its encryption flag (its bytes are plain: `provably_plain`)."""
    return replace(member, flags=member.flags & ~FLAG_ENCRYPTED, encrypted=False)


class Archive:
    """An opened import source; use as a context manager or call `close`."""

    path: str
    kind: Kind
    size: int  # bytes on disk (for a directory: the sum of its files)
    jsonl: MemberInfo  # the chosen JSONL member (for a bare .jsonl: itself)

    def __init__(
        self,
        path: str,
        kind: Kind,
        size: int,
        members: MemberIndex | Sequence[MemberInfo],
        jsonl: MemberInfo,
        *,
        limits: ReadLimits,
        fh: BinaryIO | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self.size = size
        self.jsonl = jsonl
        # The JSONL was flagged encrypted, its bytes provably plain (`open_archive`'s
        # ``plain_flagged``): `jsonl` is without the flag.
        self.jsonl_flag_cleared = False
        # The entries and the server's map from NFC key to entry (archivekit.read.members).
        self.index = members if isinstance(members, MemberIndex) else ListIndex(members)
        self._limits = limits
        self._budget = ReadBudget(limits)
        self._fh = fh

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def members(self) -> Sequence[MemberInfo]:
        """All entries in central-directory order (sorted names for a directory).

        Each `MemberInfo` is built when it is read (compare entries by `index`, not with
        ``is``): fine for a few, slow for every entry of a large zip — whole-archive counts
        have cheap paths on `index` (`MemberIndex`)."""
        return self.index

    def lookup(self, key: str) -> MemberInfo | None:
        """The entry the server finds for an NFC key; the last of duplicates wins."""
        return self.index.lookup(key)

    def iter_member_blocks(
        self, member: MemberInfo, block_size: int = BLOCK_SIZE, *, ratio: bool = True
    ) -> Iterator[bytes]:
        """Uncompressed data of ``member`` in blocks of at most about ``block_size`` bytes.

        Raises `ArchiveError` (now or while iterating) for unreadable, damaged or oversized
        data; size and CRC-32 are checked once the last block has been read. ``ratio``: False
        reads a zip member up to its declared size however far it expands (`iter_member_data`).
        """
        check_member_size(member, self._limits)
        return self._stream(member, block_size, ratio)

    def read_member_head(self, member: MemberInfo, n: int) -> bytes:
        """The first ``n`` uncompressed bytes (fewer if the member is shorter).

        Only what is read counts against the limits, so the head of a huge member is fine.
        """
        if n <= 0:
            return b""
        parts: list[bytes] = []
        got = 0
        blocks = self._stream(member, min(n, BLOCK_SIZE))
        for block in blocks:
            parts.append(block)
            got += len(block)
            if got >= n:
                break
        return b"".join(parts)[:n]

    def iter_raw_blocks(self, member: MemberInfo, block_size: int = BLOCK_SIZE) -> Iterator[bytes]:
        """The compressed bytes of a zip ``member`` as stored, for copying it into another zip
        unchanged (method, CRC-32 and sizes stay valid). Zips only: ValueError otherwise.

        Raises `ArchiveError` when the member's local header is damaged or its data is cut.
        """
        if self.kind != "zip":
            raise ValueError(f"{self.path} is not a zip: its files have no compressed form")
        fh = self._open_handle()
        offset = read_data_offset(fh, member, self.size)
        return iter_compressed(fh, offset, member, block_size)

    def iter_jsonl_blocks(self, block_size: int = BLOCK_SIZE) -> Iterator[bytes]:
        return self.iter_member_blocks(self.jsonl, block_size)

    def provably_plain(self, member: MemberInfo) -> bool:
        """`provably_plain` for a member of this zip (False for any other kind)."""
        return self.kind == "zip" and provably_plain(self._open_handle(), self.size, member)

    def member_dimensions(self, member: MemberInfo) -> tuple[str, int, int] | None:
        """(format, width, height) of an image member, from its first `HEAD_BYTES` as the
        server's decoders see them; None for anything else, or when they cannot be read (a
        damaged member must not stop a validation)."""
        try:
            return image_dimensions(self.read_member_head(member, HEAD_BYTES))
        except ArchiveError:
            return None

    def entry_dimensions(self, i: int) -> tuple[str, int, int] | None:
        """`member_dimensions` of entry `i` of the index. A zip's stored or deflated member is
        read without its `MemberInfo` (`quick_head`: a few microseconds less per image, and an
        attachment-heavy archive has hundreds of thousands); anything that reading cannot
        vouch for, and every other kind of archive, goes the way of `member_dimensions`."""
        if self.kind == "zip" and self._fh is not None:
            fields = self.index.data_fields(i)
            head = quick_head(self._fh.fileno(), self.size, fields, HEAD_BYTES, self._budget)
            if head is not None:
                return image_dimensions(head)
        return self.member_dimensions(self.index[i])

    def measure_entries(
        self, entries: bytes, start: int, state: bytearray, width: array[int], height: array[int]
    ) -> int:
        """`entry_dimensions` of entries[start:] (packed uint32), in order, in one C call,
        written into arrays over the index (`archivekit.check.files.Dimensions`: `state` 1 no
        dimensions, 2 + the format's position in `FORMATS`; an entry whose state is not 0 is
        skipped), up to the first one the C reader cannot vouch for (another method, a damaged
        local header, a limit...: quick_head's None) or past the index: returns its position
        (the count when none), for the caller to read it by `entry_dimensions` and go on from
        the next. That is `start` itself without the C reader or the C index, and for any
        kind but a zip."""
        table = self.index.table
        if IMAGE_HEADS is None or table is None or self.kind != "zip" or self._fh is None:
            return start
        limits = self._limits
        self._budget.total, stop = IMAGE_HEADS.measure(
            table, self._fh.fileno(), self.size, entries, start, HEAD_BYTES, state, width,
            height, limits.max_member_size, limits.max_total_size, self._budget.total,
            limits.max_ratio,
        )  # fmt: skip
        return int(stop)

    def _open_handle(self) -> BinaryIO:
        if self._fh is None:
            raise ValueError("the archive is closed")
        return self._fh

    def _stream(self, member: MemberInfo, block_size: int, ratio: bool = True) -> Iterator[bytes]:
        if self.kind != "zip":
            return self._iter_plain_file(member, block_size)
        if member.encrypted:
            raise member_encrypted(member)
        fh = self._open_handle()
        offset = read_data_offset(fh, member, self.size)
        return iter_member_data(fh, offset, member, block_size, self._budget, ratio=ratio)

    def _iter_plain_file(self, member: MemberInfo, block_size: int) -> Iterator[bytes]:
        path = self.path if self.kind == "jsonl" else os.path.join(self.path, member.name)
        with open_input(path) as fh:
            yield from iter_file_blocks(fh, member, block_size, self._budget)


def is_stream(path: str | os.PathLike[str]) -> bool:
    """Whether `path` can only be read front to back: ``-`` (standard input) unless it is
    redirected from a regular file, a pipe, a FIFO (``<(...)`` is one), a socket, a terminal
    (`archivekit.read.stream` reads those)."""
    path = os.fspath(path)
    try:
        mode = os.fstat(0).st_mode if path == STDIN else os.stat(path).st_mode
    except OSError:
        return path == STDIN  # a path that cannot be looked at is reported when opened
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def file_path(path: str | os.PathLike[str]) -> str:
    """The path to open an input by: ``-`` redirected from a regular file is /dev/stdin
    (seekable, and parallel workers reopen it by that name: they share standard input)."""
    path = os.fspath(path)
    return "/dev/stdin" if path == STDIN else path


NEEDS_FILE = (
    "this command needs a file it can read again and at any offset (only `validate` and "
    "`inspect` without --by read a stream)"
)


def needs_file(path: str, why: str = NEEDS_FILE) -> ArchiveError:
    """The error for a stream given to a command that needs a file (exit code 3), saying `why`
    it does."""
    name = "standard input" if path == STDIN else path
    return ArchiveError(
        error(
            "stream-unreadable",
            f"{name} is a pipe or another stream, which can be read only once, front to back: "
            f"{why}. {SAVE_HINT}",
            values={"path": path},
        )
    )


def open_archive(
    path: str | os.PathLike[str],
    *,
    limits: ReadLimits | None = None,
    index: MemberIndex | None = None,
    plain_flagged: bool = False,
) -> Archive:
    """Open a zip, a bare ``.jsonl`` or an export directory for reading.

    `index`: the member index of this same zip, read before (a forked worker reuses its
    parent's instead of reading the central directory again); None reads it.
    `plain_flagged`: a JSONL flagged encrypted whose bytes are provably plain
    (`provably_plain`) is read as the plain data it is (`Archive.jsonl_flag_cleared`; fix
    writes it without the flag) — the server refuses it: validate does not pass this.

    Raises `ArchiveError` when it cannot be used: ``not-a-zip``, ``zip-truncated``,
    ``zip-corrupt``, ``zip-multidisk``, ``jsonl-missing``, ``jsonl-unsupported-compression``.
    """
    path = os.fspath(path)
    limits = limits or ReadLimits()
    if path == STDIN:
        if is_stream(path):
            raise needs_file(path)
        path = file_path(path)
    if os.path.isdir(path):
        return _open_directory(path, limits)
    fh = open_input(path)
    try:
        status = os.fstat(fh.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise needs_file(path)
        size = status.st_size
        if not looks_like_zip(fh, size) and path.lower().endswith(".jsonl"):
            fh.close()
            return _open_bare_jsonl(path, size, limits)
        return _open_zip(path, fh, size, limits, index, plain_flagged)
    except BaseException:
        fh.close()
        raise


def open_input(path: str) -> BinaryIO:
    """`path` opened for reading, unbuffered; reading it raises `ArchiveError`
    (``input-unreadable``) instead of `OSError` when the system fails (EIO...).

    Raises `ArchiveError`: ``not-a-zip`` when it does not exist, ``input-unreadable`` when it
    cannot be opened (permission denied...)."""
    try:
        raw = open(path, "rb", buffering=0)  # noqa: SIM115 - owned by the caller
    except FileNotFoundError as exc:
        cause = exc.strerror or str(exc)
        raise ArchiveError(
            error(
                "not-a-zip", f"Cannot open {path}: {cause}.", values={"path": path, "found": cause}
            )
        ) from None
    except OSError as exc:
        raise input_error(path, exc) from None
    return cast(BinaryIO, InputFile(raw, path))


class InputFile:
    """A file being read as an input: `OSError` from the system becomes `ArchiveError`."""

    __slots__ = ("_raw", "name")

    def __init__(self, raw: BinaryIO, name: str) -> None:
        self._raw = raw
        self.name = name

    def read(self, n: int = -1) -> bytes:
        try:
            return self._raw.read(n)
        except OSError as exc:
            raise input_error(self.name, exc) from None

    def seek(self, offset: int, whence: int = 0) -> int:
        try:
            return self._raw.seek(offset, whence)
        except OSError as exc:
            raise input_error(self.name, exc) from None

    def tell(self) -> int:
        return self._raw.tell()

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> InputFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_zip(
    path: str,
    fh: BinaryIO,
    size: int,
    limits: ReadLimits,
    index: MemberIndex | None,
    plain_flagged: bool = False,
) -> Archive:
    if index is None:
        index = read_member_index(fh, size)
    jsonl = zip_jsonl(index)
    flagged = plain_flagged and jsonl.encrypted and provably_plain(fh, size, jsonl)
    if flagged:
        jsonl = without_flag(jsonl)
    require_readable_jsonl(jsonl)
    read_data_offset(fh, jsonl, size)  # fail now, not mid-run, if its header is damaged
    archive = Archive(path, "zip", size, index, jsonl, limits=limits, fh=fh)
    archive.jsonl_flag_cleared = flagged
    return archive


def provably_plain(fh: BinaryIO, size: int, member: MemberInfo) -> bool:
    """Whether an encrypted-flagged ``member`` of the zip ``fh`` holds plain data: stored, as
    many bytes as its size (ZipCrypto puts a 12-byte header before the data: a really
    encrypted stored member has 12 more; AES is method 99, never stored), and the CRC-32 of
    those bytes is the one its header gives (the ciphertext's would not be). A damaged member
    is not."""
    if member.method != STORED or member.compressed_size != member.size:
        return False
    crc = 0
    try:
        offset = read_data_offset(fh, member, size)
        for block in iter_compressed(fh, offset, member, COPY_BYTES):
            crc = crc32(block, crc)
    except ArchiveError:
        return False
    return crc == member.crc


def reopen_jsonl(path: str, jsonl: MemberInfo, *, limits: ReadLimits | None = None) -> Archive:
    """A zip opened before, again, for a process that only streams its JSONL (`jsonl`, as the
    first `open_archive` chose it): the central directory is not read again, and the
    archive's `index` holds that one member."""
    fh = open_input(path)
    try:
        size = os.fstat(fh.fileno()).st_size
        only = ListIndex([replace(jsonl, index=0)])
        return Archive(path, "zip", size, only, only[0], limits=limits or ReadLimits(), fh=fh)
    except BaseException:
        fh.close()
        raise


def _open_bare_jsonl(path: str, size: int, limits: ReadLimits) -> Archive:
    name = os.path.basename(path)
    member = plain_member(name, 0, size)
    return Archive(path, "jsonl", size, [member], member, limits=limits)


def _open_directory(path: str, limits: ReadLimits) -> Archive:
    names: list[tuple[str, int]] = []

    def unreadable(exc: OSError) -> None:
        # os.walk skips a folder it cannot list; its files would then look missing.
        raise input_error(exc.filename or path, exc)

    # Symlinked folders are not descended.
    for folder, _dirs, files in os.walk(path, onerror=unreadable):
        for file_name in files:
            full = os.path.join(folder, file_name)
            if os.path.isfile(full):  # skips broken links, sockets, fifos
                rel = os.path.relpath(full, path).replace(os.sep, "/")
                try:
                    names.append((rel, os.path.getsize(full)))
                except OSError as exc:
                    raise input_error(full, exc) from None
    names.sort()
    members = [plain_member(name, i, size) for i, (name, size) in enumerate(names)]
    jsonl = choose_jsonl(members, "directory")
    return Archive(path, "dir", sum(s for _, s in names), members, jsonl, limits=limits)


def plain_member(name: str, index: int, size: int) -> MemberInfo:
    return MemberInfo(
        name=name,
        key=member_key(name),
        index=index,
        method=0,
        flags=0,
        compressed_size=size,
        size=size,
        crc=0,
        header_offset=0,
        is_dir=False,
        is_symlink=False,
        encrypted=False,
    )


# --- JSONL discovery ----------------------------------------------------------------------


def is_root_jsonl(name: str) -> bool:
    """The server's ``IsRootJsonlFile``: a ``.jsonl`` suffix and Go ``filepath.Dir == "."``."""
    return name.endswith(".jsonl") and go_dir(name) == "."


def zip_jsonl(index: MemberIndex) -> MemberInfo:
    """The JSONL the server imports from a zip, by its central directory (`choose_jsonl`).
    Only the entries whose name ends with .jsonl become MemberInfo objects."""
    return choose_jsonl([index[i] for i in index.ending_with(".jsonl")], "archive")


def choose_jsonl(members: Sequence[MemberInfo], where: str) -> MemberInfo:
    """The member the server imports: the first root-level ``.jsonl`` (`members`: every
    entry, or at least every one whose name ends with ``.jsonl``).

    Raises `ArchiveError` (``jsonl-missing``) when there is none.
    """
    for member in members:
        if is_root_jsonl(member.name):
            return member
    raise _missing_jsonl(members, where)


def _missing_jsonl(members: Sequence[MemberInfo], where: str) -> ArchiveError:
    nested = [m.name for m in members if m.name.endswith(".jsonl")]
    hint = (
        f" Found {nested[0]!r} in a folder: servers since v11.5 only look at the root, so "
        "move it to the top level of the zip."
        if nested
        else " Put the import.jsonl file at the top level of the zip, next to the data folder."
    )
    return ArchiveError(
        error(
            "jsonl-missing",
            f"No .jsonl file at the root of the {where}: the server fails with "
            f"{MISSING_JSONL_ERROR_ID} (import file missing its .jsonl).{hint}",
            server_error_id=MISSING_JSONL_ERROR_ID,
            values={"member": nested[0]} if nested else None,
        )
    )


def require_readable_jsonl(jsonl: MemberInfo) -> None:
    hint = ""
    if jsonl.encrypted:
        problem = "is encrypted"
        hint = stray_flag_hint(jsonl)
    elif jsonl.method not in READABLE_METHODS:
        problem = f"is compressed with {method_name(jsonl.method)}"
    else:
        return
    raise ArchiveError(
        error(
            "jsonl-unsupported-compression",
            f"The JSONL {jsonl.name!r} {problem}: neither the server nor archivekit can read "
            f"it. {REZIP_HINT}{hint}",
            server_error_id=OPEN_FILE_ERROR_ID,
            values={"member": jsonl.name, "method": jsonl.method},
        ).at(jsonl.name, None)
    )
