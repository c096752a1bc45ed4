"""The zip central directory: find it, parse it into `MemberInfo`, locate member data.

Owns the on-disk zip structures (EOCD, zip64 locator and record, central directory headers,
zip64 extra fields, local headers). It follows Go's ``archive/zip`` reader, which is what the
Mattermost server uses, wherever the two readers differ: the EOCD is the last signature in the
tail whose comment fits, a prefix before the archive is allowed (base offset), the directory is
read until a record does not parse, and the entry count only has to match modulo 65536.
Every failure is an `ArchiveError` with an issue code; no struct/zipfile exception escapes.
"""

from __future__ import annotations

import posixpath
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from archivekit.errors import ArchiveError
from archivekit.gosem.paths import member_key
from archivekit.issues import Scalar, error

LOCAL_HEADER_SIG = b"PK\x03\x04"
CENTRAL_HEADER_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"
ZIP64_LOCATOR_SIG = b"PK\x06\x07"
ZIP64_EOCD_SIG = b"PK\x06\x06"
SPANNED_MARKER = b"PK\x07\x08"
# APPNOTE 4.3.9.3: the same four bytes open a data descriptor (where one is written).
DESCRIPTOR_SIG = SPANNED_MARKER

# The end records; the reader parses them, the writer (`write.zipwriter`) packs them.
EOCD = struct.Struct("<4sHHHHIIH")  # 22 bytes
ZIP64_LOCATOR = struct.Struct("<4sIQI")  # 20 bytes
ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")  # 56 bytes
# The two headers every member has (APPNOTE 4.3.7, 4.3.12), signature first as 4 bytes; the
# reader parses them, the writer (`write.zipwriter`) packs them.
CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")  # 46 bytes
LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")  # 30 bytes
_U16 = struct.Struct("<H")
_U64 = struct.Struct("<Q")

_MAX_COMMENT = 0xFFFF
U32_MAX = 0xFFFFFFFF  # a 32-bit size or offset of this value: the zip64 field holds it
_ZIP64_EXTRA_ID = 0x0001
# General-purpose flag bits (APPNOTE 4.4.4).
FLAG_ENCRYPTED = 0x0001
FLAG_DATA_DESCRIPTOR = 0x0008  # sizes and CRC follow the data, not in the local header
FLAG_UTF8 = 0x0800  # the name is UTF-8
_S_IFMT = 0o170000
_S_IFLNK = 0o120000
_READ_CHUNK = 4 << 20  # central directory is parsed through a window of this size


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """One central-directory entry (or one file of a bare JSONL / export directory)."""

    name: str  # as stored; see `decode_name`
    key: str  # paths.member_key(name): NFC, the server's lookup key
    index: int  # central-directory order
    method: int  # 0 stored, 8 deflate, 9 deflate64, ...
    flags: int
    compressed_size: int
    size: int
    crc: int
    header_offset: int
    is_dir: bool
    is_symlink: bool  # unix mode S_IFLNK in the external attributes
    encrypted: bool
    # False: the stored name is not UTF-8. Go compares raw bytes and a JSONL path is UTF-8:
    # no path ever finds this entry, whatever its decoded `name` and `key` say.
    utf8: bool = True
    # The stored name's bytes where `name` cannot give them back (`stored_name`): not UTF-8
    # yet flagged UTF-8, decoded with replacement characters. None otherwise.
    raw: bytes | None = field(default=None, compare=False, repr=False)


def _corrupt(message: str, values: dict[str, Scalar] | None = None) -> ArchiveError:
    return ArchiveError(error("zip-corrupt", message, values=values))


def _truncated(message: str, values: dict[str, Scalar] | None = None) -> ArchiveError:
    return ArchiveError(error("zip-truncated", message, values=values))


def input_error(name: str, exc: OSError) -> ArchiveError:
    """An archive (or a file of an export directory) that the system cannot read: permission
    denied, an I/O error (a failing disk, a network file system that went away)..."""
    cause = exc.strerror or str(exc)
    return ArchiveError(
        error(
            "input-unreadable",
            f"Cannot read {name}: {cause}. Check the file and its permissions, or copy it again.",
            values={"path": name, "found": cause},
        )
    )


def _multidisk() -> ArchiveError:
    return ArchiveError(
        error(
            "zip-multidisk",
            "This is one part of a split (multi-disk) zip; the server cannot read split "
            "archives. Join the parts into one zip first (e.g. `zip -s 0 split.zip --out "
            "whole.zip`).",
        )
    )


def _read_at(fh: BinaryIO, offset: int, n: int) -> bytes:
    fh.seek(offset)
    return fh.read(n)


def is_utf8(raw: bytes) -> bool:
    """Whether a stored name is (strict) UTF-8: only then can a JSONL path match it."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def stored_name(member: MemberInfo) -> bytes:
    """The bytes a zip entry's name was stored as (what Go compares): `decode_name` undone."""
    if member.raw is not None:
        return member.raw
    return member.name.encode("utf-8" if member.utf8 else "cp437")


def decode_name(raw: bytes, flags: int) -> str:
    """A member name as the server sees it.

    Go keeps the raw bytes as the name whatever the UTF-8 flag says, and JSONL paths are UTF-8,
    so a name that *is* valid UTF-8 matches the server's lookups only when decoded as UTF-8 —
    even without flag bit 11 (Python's zipfile would turn it into cp437 mojibake). Names that are
    not UTF-8 can never match a JSONL path on the server; they are decoded as cp437 (the zip
    default) only so they can be shown.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if flags & FLAG_UTF8:
            return raw.decode("utf-8", "replace")
        return raw.decode("cp437")


def _find_eocd(fh: BinaryIO, file_size: int) -> tuple[int, bytes] | None:
    """Offset and bytes of the end-of-central-directory record, or None.

    Like Go: the *last* signature with room for the 22-byte record in the final 64 KiB +
    22 bytes; if its comment would run past the end of the file there is no valid EOCD.
    """
    if file_size < EOCD.size:
        return None
    tail_len = min(file_size, _MAX_COMMENT + EOCD.size)
    tail = _read_at(fh, file_size - tail_len, tail_len)
    i = tail.rfind(EOCD_SIG, 0, len(tail) - EOCD.size + 4)
    if i < 0:
        return None
    record = tail[i : i + EOCD.size]
    comment_len = _U16.unpack_from(record, 20)[0]
    if i + EOCD.size + comment_len > len(tail):
        return None
    return file_size - tail_len + i, record


def looks_like_zip(fh: BinaryIO, file_size: int) -> bool:
    """Zip by content: a zip signature at the start, or an end record in the tail."""
    head = _read_at(fh, 0, 4)
    if head in (LOCAL_HEADER_SIG, EOCD_SIG, SPANNED_MARKER):
        return True
    return _find_eocd(fh, file_size) is not None


class _DirectoryEnd:
    """Where the central directory is. `end_offset`: where the (zip64) end record starts (the
    directory ends before it). A plain class: a dataclass costs ~0.5 ms of every start-up."""

    __slots__ = ("end_offset", "entries", "offset", "size")

    def __init__(self, entries: int, size: int, offset: int, end_offset: int) -> None:
        self.entries = entries
        self.size = size
        self.offset = offset
        self.end_offset = end_offset


def _read_directory_end(fh: BinaryIO, file_size: int) -> _DirectoryEnd:
    found = _find_eocd(fh, file_size)
    if found is None:
        head = _read_at(fh, 0, 4)
        if head == SPANNED_MARKER:
            raise _multidisk()
        if head == LOCAL_HEADER_SIG:
            raise _truncated(
                "The archive ends early: its end-of-central-directory record is missing "
                "(incomplete download or copy?). Fetch the file again."
            )
        raise ArchiveError(error("not-a-zip", "The file is not a zip archive."))
    eocd_offset, record = found
    _, disk, cd_disk, entries_here, entries, cd_size, cd_offset, _ = EOCD.unpack(record)
    end = _DirectoryEnd(entries, cd_size, cd_offset, eocd_offset)
    multidisk = disk != 0 or cd_disk != 0 or entries_here != entries
    if entries == 0xFFFF or cd_size == U32_MAX or cd_offset == U32_MAX:
        multidisk |= _read_zip64_end(fh, eocd_offset, end, file_size)
    if multidisk:
        raise _multidisk()
    return end


def _read_zip64_end(fh: BinaryIO, eocd_offset: int, end: _DirectoryEnd, file_size: int) -> bool:
    """Apply the zip64 end record to ``end``; True when it describes a multi-disk archive."""
    locator_offset = eocd_offset - ZIP64_LOCATOR.size
    if locator_offset < 0:
        return False
    locator = _read_at(fh, locator_offset, ZIP64_LOCATOR.size)
    if len(locator) < ZIP64_LOCATOR.size:
        return False  # a view of a file's tail that does not reach it (`TailView`)
    sig, _, record_offset, total_disks = ZIP64_LOCATOR.unpack(locator)
    if sig != ZIP64_LOCATOR_SIG:
        return False  # Go: not a zip64 file, use the 32-bit values as they are
    if total_disks != 1:
        return True
    if record_offset >= 1 << 63:
        return False  # Go takes it for a negative offset: not a zip64 file
    damaged = _corrupt("The zip64 end-of-central-directory record is missing or damaged.")
    if record_offset + ZIP64_EOCD.size > file_size:
        raise damaged  # past the end (where a read may fail otherwise than with no bytes)
    record = _read_at(fh, record_offset, ZIP64_EOCD.size)
    if len(record) < ZIP64_EOCD.size or record[:4] != ZIP64_EOCD_SIG:
        raise damaged
    (_, _, _, _, disk, cd_disk, entries_here, entries, cd_size, cd_offset) = ZIP64_EOCD.unpack(
        record
    )
    end.entries, end.size, end.offset, end.end_offset = entries, cd_size, cd_offset, record_offset
    return bool(disk != 0 or cd_disk != 0 or entries_here != entries)


def read_central_directory(fh: BinaryIO, file_size: int) -> list[MemberInfo]:
    """All entries of the zip in central-directory order, one `MemberInfo` each (the
    reference parser; `archivekit.read.members.read_member_index` is the compact one).

    Raises `ArchiveError`: ``not-a-zip``, ``zip-truncated``, ``zip-corrupt``, ``zip-multidisk``.
    """
    start, base, entries = directory_start(fh, file_size)
    members = parse_entries(fh, start, file_size, base)
    check_entry_count(len(members), entries)
    return members


def directory_start(fh: BinaryIO, file_size: int) -> tuple[int, int, int]:
    """(offset of the first central-directory record, prefix length before the archive,
    entry count the end record states)."""
    end = _read_directory_end(fh, file_size)
    base = end.end_offset - end.size - end.offset
    start = base + end.offset
    if start < 0 or start >= file_size:
        raise _corrupt("The central directory offset points outside the file.")
    # Go: some writers record a wrong prefix length; trust offset 0 if a header sits there.
    if base > 0 and _read_at(fh, end.offset, 4) == CENTRAL_HEADER_SIG:
        base = 0
        start = end.offset
    return start, base, end.entries


def ends_with_end_records(fh: BinaryIO, file_size: int) -> bool:
    """Whether the file's last bytes hold the end records of a zip that ends there: records a
    file's reader accepts (`directory_start`), and either the end record's comment reaches the
    end of the file or the archive has no prefix. (A zip stored whole as a member — an Office
    document — has its own end record, which a file cut within 64 KiB after it still holds;
    its directory lies at a prefix, and bytes of the cut file follow its comment.)"""
    try:
        _, base, _ = directory_start(fh, file_size)
    except ArchiveError:
        return False
    if base == 0:
        return True
    found = _find_eocd(fh, file_size)
    if found is None:
        return False
    eocd_offset, record = found
    comment: int = EOCD.unpack(record)[-1]
    return eocd_offset + EOCD.size + comment == file_size


def check_entry_count(found: int, entries: int) -> None:
    """Go only requires the count read to match the stated one modulo 65536."""
    if found & 0xFFFF != entries & 0xFFFF:
        raise _corrupt(
            f"The central directory lists {entries} entries but only {found} "
            "could be read: the directory is damaged.",
            {"found": found, "expected": entries},
        )


def parse_entries(fh: BinaryIO, start: int, file_size: int, base: int) -> list[MemberInfo]:
    """Entries from `start` until a record does not parse (Go reads the directory so)."""
    members: list[MemberInfo] = []
    fh.seek(start)
    remaining = file_size - start
    buf = b""
    pos = 0
    unpack = CENTRAL_HEADER.unpack_from
    while True:
        if len(buf) - pos < CENTRAL_HEADER.size and remaining:
            buf, pos, remaining = _refill(fh, buf, pos, remaining)
        if len(buf) - pos < CENTRAL_HEADER.size or buf[pos : pos + 4] != CENTRAL_HEADER_SIG:
            return members
        fields = unpack(buf, pos)
        record_len = CENTRAL_HEADER.size + fields[10] + fields[11] + fields[12]
        if len(buf) - pos < record_len and remaining:
            buf, pos, remaining = _refill(fh, buf, pos, remaining)
        if len(buf) - pos < record_len:
            return members  # cut short: the entry count check reports it
        members.append(_member_from_record(buf, pos, fields, len(members), base))
        pos += record_len


def _refill(fh: BinaryIO, buf: bytes, pos: int, remaining: int) -> tuple[bytes, int, int]:
    more = fh.read(min(_READ_CHUNK, remaining))
    if not more:
        return buf[pos:], 0, 0
    return buf[pos:] + more, 0, remaining - len(more)


def _member_from_record(
    buf: bytes, pos: int, fields: tuple[Any, ...], index: int, base: int
) -> MemberInfo:
    (_, _, _, flags, method, _, _, crc, csize, size, n_name, n_extra, _, _, _, attrs, offset) = (
        fields
    )
    name_start = pos + CENTRAL_HEADER.size
    raw = buf[name_start : name_start + n_name]
    name = decode_name(raw, flags)
    utf8 = raw.isascii() or is_utf8(raw)
    if csize == U32_MAX or size == U32_MAX or offset == U32_MAX:
        extra = buf[name_start + n_name : name_start + n_name + n_extra]
        size, csize, offset = _apply_zip64_extra(name, extra, size, csize, offset)
    return MemberInfo(
        name=name,
        key=member_key(name),
        index=index,
        method=method,
        flags=flags,
        compressed_size=csize,
        size=size,
        crc=crc,
        header_offset=offset + base,
        is_dir=name.endswith("/"),
        is_symlink=(attrs >> 16) & _S_IFMT == _S_IFLNK,
        encrypted=bool(flags & FLAG_ENCRYPTED),
        utf8=utf8,
        raw=None if utf8 or not flags & FLAG_UTF8 else raw,
    )


def _apply_zip64_extra(
    name: str, extra: bytes, size: int, csize: int, offset: int
) -> tuple[int, int, int]:
    """Go's reading of the zip64 extra field: only the maxed-out values, in this order."""
    need_size, need_csize, need_offset = size == U32_MAX, csize == U32_MAX, offset == U32_MAX
    i = 0
    while len(extra) - i >= 4:
        tag, field_len = struct.unpack_from("<HH", extra, i)
        i += 4
        if len(extra) - i < field_len:
            break
        field, i = extra[i : i + field_len], i + field_len
        if tag != _ZIP64_EXTRA_ID:
            continue
        j = 0
        if need_size:
            size, j, need_size = _zip64_value(name, field, j), j + 8, False
        if need_csize:
            csize, j, need_csize = _zip64_value(name, field, j), j + 8, False
        if need_offset:
            offset, j, need_offset = _zip64_value(name, field, j), j + 8, False
    # Go accepts an uncompressed size of exactly 4 GiB - 1 without a zip64 field (old zips
    # that sharded at that size), but not a missing compressed size or header offset.
    if need_csize or need_offset:
        raise _corrupt(
            f"Member {name!r}: zip64 sizes are missing from the central directory.",
            {"member": name},
        )
    return size, csize, offset


def _zip64_value(name: str, field: bytes, at: int) -> int:
    if len(field) < at + 8:
        raise _corrupt(f"Member {name!r}: its zip64 extra field is too short.", {"member": name})
    value: int = _U64.unpack_from(field, at)[0]
    return value


def local_header_outside(member: MemberInfo, file_size: int) -> ArchiveError | None:
    """What a file's reader says of ``member``'s local header by its offset alone, before
    it reads a byte there: the offset outside the file, or the header cut by the file's end;
    None where the header fits."""
    if not 0 <= member.header_offset < file_size:
        return _corrupt(
            f"Member {member.name!r}: its local header offset is outside the file.",
            {"member": member.name},
        )
    if member.header_offset + LOCAL_HEADER.size > file_size:
        return _past_end(member, "local header lies")
    return None


def _past_end(member: MemberInfo, what: str) -> ArchiveError:
    """`member`'s `what` ("data runs", ...) past the end of the file."""
    return _truncated(
        f"Member {member.name!r}: its {what} past the end of the file.", {"member": member.name}
    )


def read_data_offset(fh: BinaryIO, member: MemberInfo, file_size: int) -> int:
    """Where ``member``'s compressed data starts (after its local header)."""
    if (outside := local_header_outside(member, file_size)) is not None:
        raise outside
    header = _read_at(fh, member.header_offset, LOCAL_HEADER.size)
    if len(header) < LOCAL_HEADER.size:  # the file shrank since its size was taken
        raise _past_end(member, "local header lies")
    if header[:4] != LOCAL_HEADER_SIG:
        raise _corrupt(
            f"Member {member.name!r}: the local header is damaged.", {"member": member.name}
        )
    n_name, n_extra = LOCAL_HEADER.unpack(header)[9:]
    data_offset: int = member.header_offset + LOCAL_HEADER.size + n_name + n_extra
    if data_offset + member.compressed_size > file_size:
        raise data_past_end(member)
    return data_offset


def data_past_end(member: MemberInfo) -> ArchiveError:
    """A member whose data, by its compressed size, would end past the end of the file."""
    return _past_end(member, "data runs")


def go_dir(name: str) -> str:
    """Go's ``filepath.Dir`` on Linux: the cleaned part before the last ``/``."""
    cut = name.rfind("/")
    return posixpath.normpath(name[: cut + 1]) if cut >= 0 else "."
