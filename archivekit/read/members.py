"""The member index of an archive: lookups by the server's key and whole-archive counts.

`read_member_index` reads a zip's central directory into a `NativeIndex` — the compact C
index of archivekit/read/_zipindex.c: 40 bytes per entry plus its name (front-coded: about half
of an export path), a hash table of 4-byte slots (4-8 bytes per entry), no Python object per
entry — or, without the C extension (or
``ARCHIVEKIT_PURE_PYTHON``), a `ListIndex` of `MemberInfo` objects from the reference parser in
zipdir.py. Bare JSONL files and export directories use a `ListIndex` too. Both are sequences of
`MemberInfo` (``index[i]``, iteration) with one API:

* cheap, no per-member objects: `find` / `lookup` (the entry the server finds for a key: the
  last of duplicates), `file_totals`, `stats` and `unreferenced` (driven by a bitmap of
  referenced entry indexes, see `archivekit.check.files.ReferencedFiles`), `suspects` and
  `ending_with` (the few entries the archive-level checks must look at);
* per member, slower: ``index[i]`` and iteration build each `MemberInfo` on demand (a new,
  equal object each time: compare entries by `MemberInfo.index`, not with ``is``).

Keys: a name's key is its NFC form (the server's `member_key`). The C index takes an ASCII name,
or a UTF-8 name whose characters it knows to be NFC-safe (most non-ASCII names: accents,
U+202F of macOS screenshot names, CJK), as its own key, with no Python object. Only the
other entries (MB_KEY_APART: combining marks as in macOS NFD names, KELVIN SIGN, names that
are not UTF-8) get their key computed here, once at open, and it joins the C table as an
alias: every key, ASCII or not, is looked up in C.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, BinaryIO, cast, overload

from archivekit.gosem.paths import DATA_PREFIX, member_key
from archivekit.native import native_module
from archivekit.read.zipdir import (
    FLAG_ENCRYPTED,
    FLAG_UTF8,
    MemberInfo,
    check_entry_count,
    decode_name,
    directory_start,
    input_error,
    is_utf8,
    parse_entries,
    stored_name,
)

# MemberRecord.bits (archivekit/read/_memberindex.h)
MB_DIR = 1
MB_SYMLINK = 2
MB_ENCRYPTED = 4
MB_KEY_APART = 8
MB_SHADOWED = 16
MB_DUPLICATE = 32
MB_ODD_NAME = 64
MB_DATA = 128


@dataclass(frozen=True, slots=True)
class LocalHeaders:
    """What a stream noted of the local headers it read, per header in stream order, for
    `MemberIndex.check_local` (columns as the C index takes them)."""

    offsets: Sequence[int]  # where it begins (ascending)
    hashes: Sequence[int]  # `name_hash` of its stored name
    states: bytearray  # its state bits (2: its end found by a scan for its data descriptor)
    sizes: Sequence[int]  # its data's size as read
    # The stored names end to end, and their lengths: two names of one hash are conceivable
    # with PYTHONHASHSEED fixed, so the bytes are compared where the hashes agree.
    names: bytearray
    name_lens: Sequence[int]


# What `MemberIndex.check_local` finds wrong with an entry.
LOCAL_MISSING = 1
LOCAL_RENAMED = 2
LOCAL_RESIZED = 3
# A stream's state bit (archivekit.read.stream): a member's end found by a scan for its data
# descriptor.
SCANNED = 2


NATIVE = native_module("archivekit.read._zipindex")


def name_hash(raw: bytes) -> int:
    """What a stream notes of a local header's name, for `MemberIndex.check_local`: hash() of
    the name's bytes as stored, whatever the header's UTF-8 flag says ("the same name" is the
    same bytes, as Go compares them); C hashes them in place, no object per member (100,000s
    of attachments)."""
    return hash(raw)


def mark_entries(bits: bytearray, indexes: bytes) -> None:
    """Set bit i (byte i >> 3, bit i & 7) of `bits` for each entry index i packed as native
    uint32: in C when built (no int object per entry; an attachment-heavy archive has
    hundreds of thousands). IndexError for an index past the bitmap."""
    if NATIVE is not None:
        NATIVE.mark(bits, indexes)
        return
    for index in array("I", indexes):
        bits[index >> 3] |= 1 << (index & 7)


def packed(indexes: bytes) -> Sequence[int]:
    """Entry indexes the C index packs as native uint32 (its `select` and `unreferenced`),
    read in place: 4 bytes per entry, no int object until one is read."""
    return memoryview(indexes).cast("I")


class MemberIndex(Sequence[MemberInfo]):
    """The entries of an archive in central-directory order (see the module docstring).

    A forked process inherits it as it is; pickled (a spawned process) it becomes None, and
    the other process reads the directory itself (`open_archive(..., index=None)`).
    """

    def __reduce__(self) -> tuple[type[None], tuple[()]]:
        return type(None), ()

    # A capsule of the C table for the C fast path; None for a ListIndex.
    table: Any = None

    def __len__(self) -> int:
        raise NotImplementedError

    def member(self, i: int) -> MemberInfo:
        raise NotImplementedError

    def name(self, i: int) -> str:
        """Entry `i`'s name (as `MemberInfo.name`), without building its `MemberInfo`."""
        return self.member(i).name

    @overload
    def __getitem__(self, i: int) -> MemberInfo: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[MemberInfo]: ...
    def __getitem__(self, i: int | slice) -> MemberInfo | Sequence[MemberInfo]:
        if isinstance(i, slice):
            return [self.member(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("member index out of range")
        return self.member(i)

    def __iter__(self) -> Iterator[MemberInfo]:
        for i in range(len(self)):
            yield self.member(i)

    def find(self, key: str) -> int:
        """The index of the entry the server finds for an NFC key (the last of duplicates),
        or -1."""
        raise NotImplementedError

    def check_local(self, local: LocalHeaders) -> tuple[int, int, int] | None:
        """The first entry, in order, that the `local` headers a stream read do not match
        (`archivekit.read.stream.StreamArchive._check_members`). ``(entry, why, header)``: why
        `LOCAL_MISSING` (no header at the entry's offset), `LOCAL_RENAMED` (another name: where
        the hashes agree, the bytes must too), `LOCAL_RESIZED` (scanned, to a size other than
        its compressed size); None: all match."""
        offsets, names, states, sizes = local.offsets, local.hashes, local.states, local.sizes
        count = len(offsets)
        starts = [0, *accumulate(local.name_lens)]
        for entry, member in enumerate(self):
            i = bisect_left(offsets, member.header_offset)
            if i == count or offsets[i] != member.header_offset:
                return entry, LOCAL_MISSING, i
            stored = stored_name(member)
            if names[i] != name_hash(stored) or local.names[starts[i] : starts[i + 1]] != stored:
                return entry, LOCAL_RENAMED, i
            if states[i] & SCANNED and sizes[i] != member.compressed_size:
                return entry, LOCAL_RESIZED, i
        return None

    def lookup(self, key: str) -> MemberInfo | None:
        i = self.find(key)
        return None if i < 0 else self.member(i)

    def ending_with(self, suffix: str) -> list[int]:
        """Indexes of the entries whose name ends with an ASCII `suffix`."""
        return [i for i, m in enumerate(self) if m.name.endswith(suffix)]

    def outside_data(self) -> Sequence[int]:
        """Indexes of the file entries whose name is not under data/ (the server never reads
        them: candidates for the hint about files that should have been there). The C index
        packs them, 4 bytes each (`packed`): an archive of a million stray files makes no
        million objects to list them."""
        return [
            i for i, m in enumerate(self) if not m.is_dir and not m.name.startswith(DATA_PREFIX)
        ]

    def suspects(self) -> list[int]:
        """Indexes of the entries the archive-level checks must look at (a superset of those
        with an issue: unreadable, duplicate, non-ASCII, unsafe or backslashed names,
        symlinks), in order."""
        return list(range(len(self)))

    def data_fields(self, i: int) -> tuple[int, int, int, int, int, int]:
        """What reading entry `i`'s data needs (`archivekit.read.inflate.DataFields`): method,
        flags, compressed size, size, CRC-32, local header offset — without its `MemberInfo`
        from the C index."""
        m = self.member(i)
        return m.method, m.flags, m.compressed_size, m.size, m.crc, m.header_offset

    def method(self, i: int) -> tuple[int, bool]:
        """(compression method, encrypted) of entry `i`: whether the server reads its data."""
        method, flags, *_ = self.data_fields(i)
        return method, bool(flags & FLAG_ENCRYPTED)

    def total_size(self, indexes: Iterable[int]) -> int:
        """The uncompressed bytes of the entries `indexes` (no `MemberInfo` from the C
        index)."""
        return sum(self.member(i).size for i in indexes)

    def file_totals(self) -> tuple[int, int]:
        """(count, bytes) of the file entries under data/, duplicates included."""
        files = [m for m in self if not m.is_dir and m.key.startswith(DATA_PREFIX)]
        return len(files), sum(m.size for m in files)

    def stats(self, referenced: bytearray, skip: int) -> tuple[int, int, int, int]:
        """(referenced, their bytes, unreferenced under data/, their bytes) over the entries
        the server can find (a repeated name counts once), entry `skip` (the JSONL) aside."""
        used = used_bytes = unused = unused_bytes = 0
        for i, m in enumerate(self):
            if m.is_dir or i == skip or self._winner(m) != i:
                continue
            if referenced[i >> 3] >> (i & 7) & 1:
                used += 1
                used_bytes += m.size
            elif m.key.startswith(DATA_PREFIX):
                unused += 1
                unused_bytes += m.size
        return used, used_bytes, unused, unused_bytes

    def unreferenced(self, referenced: bytearray, skip: int) -> Sequence[int]:
        """Indexes of the file entries whose key finds neither a referenced entry nor entry
        `skip`, in order (every entry of a repeated name); packed by the C index, as
        `outside_data`."""
        return [i for i, m in enumerate(self) if not m.is_dir and self._unused(m, referenced, skip)]

    def _winner(self, member: MemberInfo) -> int:
        """The entry the server finds for `member`'s name: one not UTF-8 is its own (no
        path finds it, nothing shadows it)."""
        return self.find(member.key) if member.utf8 else member.index

    def not_utf8(self) -> list[int]:
        """Indexes of the entries whose stored name is not UTF-8 (no JSONL path finds them)."""
        return [m.index for m in self if not m.utf8]

    def _unused(self, member: MemberInfo, referenced: bytearray, skip: int) -> bool:
        """Whether the entry `member`'s key finds is neither referenced nor entry `skip`."""
        winner = self._winner(member)
        return winner != skip and not referenced[winner >> 3] >> (winner & 7) & 1

    @property
    def nbytes(self) -> int:
        """Memory the index holds (an estimate for a ListIndex)."""
        raise NotImplementedError


class OutsideData:
    """The file members outside data/ that a JSONL path could mean, by base name (built on
    first use): what `archivekit fix` moves under data/ when exactly one fits (`candidates`),
    and what validate then says it does. JSONL files are never candidates."""

    def __init__(self, index: MemberIndex) -> None:
        self._index = index
        # base name -> {member name -> its entry}: of entries sharing a name only the last
        # (the one the server reads; the others are left out by fix): one candidate per name.
        self._by_base: dict[str, dict[str, int]] | None = None

    def candidates(self, key: str) -> list[int]:
        """The members outside data/ that a path resolving to ``key`` (``data/REL``) could
        mean: named REL, or ending with ``/REL`` — one per distinct name."""
        index = self._index
        if self._by_base is None:
            self._by_base = {}
            for i in index.outside_data():
                name = index[i].key
                if not name.endswith(".jsonl"):
                    self._by_base.setdefault(name.rsplit("/", 1)[-1], {})[name] = i
        rel = key.removeprefix(DATA_PREFIX)
        return [
            i
            for name, i in self._by_base.get(rel.rsplit("/", 1)[-1], {}).items()
            if name == rel or name.endswith("/" + rel)
        ]


class ListIndex(MemberIndex):
    """Entries held as `MemberInfo` objects (directories, bare JSONL, no C extension)."""

    def __init__(self, members: Sequence[MemberInfo]) -> None:
        self._members = tuple(members)
        # The server's map: NFC key -> entry, a later duplicate replacing an earlier one.
        # Entries whose name is not UTF-8 get no key: no JSONL path finds them.
        self._by_key = {m.key: m.index for m in self._members if m.utf8}

    def __len__(self) -> int:
        return len(self._members)

    def member(self, i: int) -> MemberInfo:
        return self._members[i]

    def name(self, i: int) -> str:
        return self._members[i].name

    def __iter__(self) -> Iterator[MemberInfo]:
        return iter(self._members)

    def find(self, key: str) -> int:
        return self._by_key.get(key, -1)

    @property
    def nbytes(self) -> int:
        return len(self._members) * 1000  # measured: about 1 KB per MemberInfo with its dict


class NativeIndex(MemberIndex):
    """The C member index (archivekit/read/_zipindex.c), with the NFC keys of its key-apart
    names added as aliases (see the module docstring)."""

    def __init__(self, native: Any) -> None:
        self._c = native
        self.table = native.table
        # Entries whose name is not UTF-8 get no key: no JSONL path finds them (`not_utf8`).
        self._not_utf8: list[int] = []
        for i in packed(native.select("key_apart")):
            raw, _, flags, *_ = native.record(i)
            if is_utf8(raw):
                native.alias(member_key(decode_name(raw, flags)).encode(), i)
            else:
                self._not_utf8.append(i)

    def __len__(self) -> int:
        return len(self._c)

    def member(self, i: int) -> MemberInfo:
        raw, method, flags, csize, size, crc, offset, bits = self._c.record(i)
        name = raw.decode("ascii") if raw.isascii() else decode_name(raw, flags)
        utf8 = not bits & MB_KEY_APART or is_utf8(raw)
        return MemberInfo(
            name=name,
            key=member_key(name),
            index=i,
            method=method,
            flags=flags,
            compressed_size=csize,
            size=size,
            crc=crc,
            header_offset=offset,
            is_dir=bool(bits & MB_DIR),
            is_symlink=bool(bits & MB_SYMLINK),
            encrypted=bool(bits & MB_ENCRYPTED),
            utf8=utf8,
            raw=None if utf8 or not flags & FLAG_UTF8 else raw,
        )

    def check_local(self, local: LocalHeaders) -> tuple[int, int, int] | None:
        found: tuple[int, int, int] | None = self._c.check_local(
            local.offsets, local.hashes, local.states, local.sizes, local.names, local.name_lens
        )
        return found

    def name(self, i: int) -> str:
        raw, _, flags, *_ = self._c.record(i)
        return raw.decode("ascii") if raw.isascii() else decode_name(raw, flags)

    def find(self, key: str) -> int:
        try:
            encoded = key.encode()
        except UnicodeEncodeError:  # a lone surrogate: no member name decodes to one
            return -1
        found: int = self._c.find(encoded)
        return found

    def ending_with(self, suffix: str) -> list[int]:
        return list(packed(self._c.select(suffix.encode())))

    def suspects(self) -> list[int]:
        return list(packed(self._c.select("suspects")))

    def outside_data(self) -> Sequence[int]:
        return packed(self._c.select("outside_data"))

    def not_utf8(self) -> list[int]:
        return self._not_utf8

    def file_totals(self) -> tuple[int, int]:
        totals: tuple[int, int] = self._c.files()
        return totals

    def stats(self, referenced: bytearray, skip: int) -> tuple[int, int, int, int]:
        totals: tuple[int, int, int, int] = self._c.stats(referenced, skip)
        return totals

    def unreferenced(self, referenced: bytearray, skip: int) -> Sequence[int]:
        found = packed(self._c.unreferenced(referenced, skip))
        # C lists every shadowed key-apart entry (it cannot tell their key): decided here.
        undecided = set(packed(self._c.select("undecided")))
        if not undecided:
            return found
        return array(
            "I", (i for i in found if i not in undecided or self._unused(self[i], referenced, skip))
        )

    def data_fields(self, i: int) -> tuple[int, int, int, int, int, int]:
        _, method, flags, csize, size, crc, offset, _ = self._c.record(i)
        return method, flags, csize, size, crc, offset

    def total_size(self, indexes: Iterable[int]) -> int:
        record = self._c.record
        return sum(record(i)[4] for i in indexes)

    @property
    def nbytes(self) -> int:
        return int(self._c.nbytes)


def read_member_index(fh: BinaryIO, file_size: int, *, shift: int = 0) -> MemberIndex:
    """The zip's entries (see the module docstring).

    `shift`: `fh` holds the zip's bytes from this offset on (the tail of a stream: its
    central directory and the 64 KiB before it, `archivekit.read.stream`); offsets stay
    those of the whole zip. Raises `ArchiveError`: ``not-a-zip``, ``zip-truncated``,
    ``zip-corrupt``, ``zip-multidisk``, ``input-unreadable`` (an I/O error).
    """
    view = fh if shift == 0 else cast(BinaryIO, TailView(fh, shift))
    start, base, entries = directory_start(view, file_size)
    index: MemberIndex
    if NATIVE is None or start < shift:
        index = ListIndex(parse_entries(view, start, file_size, base))
    else:
        try:
            index = NativeIndex(
                NATIVE.read_index(fh.fileno(), start - shift, file_size - shift, base)
            )
        except ValueError:
            # A damaged zip64 field (the reference parser raises the exact ArchiveError), or
            # a directory beyond the C index's bounds (2**31 entries, 4 GiB of names).
            index = ListIndex(parse_entries(view, start, file_size, base))
        except OSError as exc:
            raise input_error(getattr(fh, "name", "the archive"), exc) from None
    check_entry_count(len(index), entries)
    return index


class TailView:
    """The bytes of a zip from offset `shift` on, read at the zip's own offsets, and its
    first bytes `head` (known otherwise); what else lies before `shift` reads as nothing (a
    parse stops there as at a damaged record), and `reached_before` tells its caller so:
    what the parse then says is no file's word."""

    def __init__(self, fh: BinaryIO, shift: int, head: bytes = b"") -> None:
        self._fh = fh
        self._shift = shift
        self._head = head
        self._at = 0
        self._before = False
        self.reached_before = False

    def seek(self, offset: int, whence: int = 0) -> int:
        self._at = offset
        self._before = offset < self._shift
        self._fh.seek(max(offset - self._shift, 0))
        return offset

    def read(self, n: int = -1) -> bytes:
        if self._before:
            if n >= 0 and self._at + n <= len(self._head):
                self._at += n
                return self._head[self._at - n : self._at]
            self.reached_before = True
            return b""
        return self._fh.read(n)
