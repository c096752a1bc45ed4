"""File checks that wait for the end of a stream.

Read from a stream, an archive's members arrive after its JSONL (mmctl writes import.jsonl
first), and a line's file checks need them. So the engine (`LineProcessor` given a
`DeferredFiles`) does all of a line but the part that depends on the archive's members — a
post's attachments with its validation rules (the server blanks only the paths it resolves, so
the rules see what resolution did), a user's or bot's profile image with its rules (skipped
when the image is missing), an emoji's image — and records that part here: the line number,
where its issues go among the line's (`position`), the line type and the raw line. The
findings of every batch wait too, in a `FindingsSpool`. Once the stream's end has brought
every member, `LineProcessor.replay` runs the deferred parts in line order, and `with_late`
puts what they find back in place, batch by batch: whoever adds the findings up
(`archivekit.report.tally.Tally`) sees exactly what a file's run gives it, in the same order —
issue list, cap, root causes, limits.

Post lines take the C fast path, as from a file: while the stream is read, the C scanner
accepts a post whose attachment lists are plain for all but its files (defer mode), and hands
back, per run of such lines, only what their file part needs: each line's attachment paths
with where they sit (list, position) and the lines themselves (`add_waiting`: a "waiting"
record, at position 0). At the end C resolves those paths against the member index built from
the central directory (`resolve_waiting` in _scan.c), a run at a time, as a file's scan
resolves them; only the lines whose files do not resolve (a missing file, a data/ prefix...)
are taken out of the run's lines, decompressed then, to run the general path's deferred part.
The post lines the general path deferred go back to the C scanner in runs first, the same way.

Memory stays bounded: records and findings go to temporary files in the run's directory
(compressed records: lines with files can be much of a JSONL; a waiting run's lines are
compressed on their own, in a thread beside the checks (`_Packer`), as most are never read
again — but up to `KEEP_LINES` bytes of lines and paths stay in memory as they are:
compressing the lines and writing the paths cost a stream more than anything else it does
that a file does not; the batches' findings likewise, up to `KEEP_FINDINGS` bytes); only
the keys used as profile and emoji images are kept (bounded by users and emoji), for the
stream reader, which notes what the checks will need of those members as they pass.
"""

from __future__ import annotations

import pickle
import queue
import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, NamedTuple

from archivekit.check.facts import Findings, Unresolved
from archivekit.issues import Issue
from archivekit.native import fast_zlib
from archivekit.runtime import RunDirectory, start_thread, temporary_file_error

# line, position among the line's issues, type, the emoji rules passed, raw line length
_RECORD = struct.Struct("<QIB?I")
_KINDS = ("post", "direct_post", "user", "bot", "emoji", "waiting")
# A "waiting" record's raw: the size of its records, which are in the side file
# (`DeferredFiles.add_waiting`), and where its lines are: `_KEPT` in memory, `_PACKED`
# compressed in the packed file (`_Packer`).
_WAITING = struct.Struct("<II")
_KEPT = 0xFFFF_FFFF
_PACKED = 0xFFFF_FFFE
# Waiting runs' lines and paths kept in memory, uncompressed, before the rest are compressed
# and written: a fixed bound (whatever the number of posts) that holds those of a JSONL of
# ~10 MB of posts with files (bench/make_archive.py --file-posts 15000).
KEEP_LINES = 16 << 20
# The head of a waiting line's record (WaitingLine in _scan.c): line, where the line is among
# the record's lines, its length, direct, files, the record's size.
WAITING_LINE = struct.Struct("<qqiiii")
# The temporary files in the run's directory: the records, and the waiting runs' beside them.
_RECORDS_FILE = "deferred-files"
_LINES_FILE = "deferred-lines"
_PACKED_FILE = "deferred-packed"
# Each compressed run of lines in the packed file follows its length.
_LENGTH = struct.Struct("<I")
# Runs of lines waiting for the packer's thread (~1 MB each): a bound on what it holds.
_PACK_AHEAD = 2
_FLUSH = 1 << 20
_READ = 1 << 20
# The findings of a stream's batches kept in memory before the rest are spooled to a file
# (`FindingsSpool`): a fixed bound; those of ~300,000 attachment lines take ~2.5 MB.
KEEP_FINDINGS = 16 << 20
# What `FindingsSpool` counts per issue or fact (an Issue with its values dict, or a fact),
# beside an issue's own strings.
_ENTRY_BYTES = 1024


_zlib = fast_zlib()


class Deferred(NamedTuple):
    """One line's file checks, waiting."""

    line: int
    position: int  # how many of the line's issues come before the deferred part's
    kind: str  # the line type, or "waiting": post lines the C scanner accepted but for files
    raw: bytes  # the line; "waiting": the attachments of its lines (`resolve_waiting`)
    ok: bool  # emoji lines: whether the validator passed (it decides what the image check does)
    lines: bytes = b""  # "waiting": its lines one after the other, compressed unless `kept`
    kept: bool = False  # "waiting": `lines` were kept in memory as they are


def _spill(run: RunDirectory, name: str, file: BinaryIO | None, data: bytearray) -> BinaryIO:
    """`data` moved to the end of the temporary file `name` (opened on first use)."""
    path = run.path / name
    try:
        if file is None:
            file = open(path, "w+b")  # noqa: SIM115 - closed by DeferredFiles.close()
        file.write(data)
    except OSError as exc:
        raise temporary_file_error(path, exc) from None
    data.clear()
    return file


def _memory_reader(pending: bytearray) -> Callable[[int], bytes]:
    """Reads `pending`'s bytes in order, as a spilled file's ``read`` would (emptying it)."""
    data = bytes(pending)
    pending.clear()
    at = 0

    def read(n: int) -> bytes:
        nonlocal at
        at += n
        return data[at - n : at]

    return read


class _Packer:
    """Writes the waiting runs that are not kept in memory, in a thread, in the order they
    are given: their records (attachment paths) to the side file, their lines compressed to
    the packed file, each after its length. The compressor and the writes let the GIL go, so
    the checks' thread only hands the runs over (compressing and writing them in line cost a
    stream ~0.2 s CPU per 300,000 attachments, on its critical path). The files' bytes do not
    depend on timing."""

    def __init__(self, run: RunDirectory) -> None:
        self._run = run
        self._files: dict[str, BinaryIO | None] = {_LINES_FILE: None, _PACKED_FILE: None}
        self._pending = {_LINES_FILE: bytearray(), _PACKED_FILE: bytearray()}
        self._queue: queue.Queue[tuple[bytes, bytes | None] | None] = queue.Queue(_PACK_AHEAD)
        self._failed: BaseException | None = None
        self._thread = start_thread(self._work, "archivekit deferred lines")

    def _work(self) -> None:
        side, packed_lines = self._pending[_LINES_FILE], self._pending[_PACKED_FILE]
        while (run := self._queue.get()) is not None:
            if self._failed is not None:
                continue  # taken off the queue unread: `add` raises it
            records, lines = run
            try:
                side += records
                if lines is not None:
                    packed = _zlib.compress(lines, 1)
                    packed_lines += _LENGTH.pack(len(packed))
                    packed_lines += packed
                for name, pending in self._pending.items():
                    if len(pending) >= _FLUSH:
                        self._files[name] = _spill(self._run, name, self._files[name], pending)
            except BaseException as exc:  # raised in the checks' thread
                self._failed = exc

    def add(self, records: bytes, lines: bytes | None) -> None:
        """A run's records and lines (None: records only, of runs whose lines are kept)."""
        self._raise()
        self._queue.put((records, lines))

    def _raise(self) -> None:
        if self._failed is not None:
            raise self._failed

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _reader(self, name: str) -> Callable[[int], bytes]:
        file = self._files[name]
        if file is None:
            return _memory_reader(self._pending[name])
        file = self._files[name] = _spill(self._run, name, file, self._pending[name])
        file.seek(0)
        return file.read

    def readers(self) -> tuple[Callable[[int], bytes], Callable[[], bytes]]:
        """Once every run is added: the side file's reader, and one that gives the
        compressed runs of lines back, in order."""
        self._stop()
        self._raise()
        read = self._reader(_PACKED_FILE)

        def take() -> bytes:
            (length,) = _LENGTH.unpack(read(_LENGTH.size))
            return read(length)

        return self._reader(_LINES_FILE), take

    def close(self) -> None:
        self._stop()
        for name, file in self._files.items():
            if file is not None:
                file.close()
                self._files[name] = None


def waiting_lines(record: Deferred) -> bytes:
    """A "waiting" record's lines, one after the other."""
    return record.lines if record.kept else bytes(_zlib.decompress(record.lines))


class DeferredFiles:
    """The deferred parts of a run's lines (see the module doc), in line order."""

    def __init__(self, run: RunDirectory, processes: int = 1) -> None:
        """`processes`: how many read the stream (`archivekit.read.teed`); each keeps its
        part of `KEEP_LINES` in memory, so that together they hold what one would."""
        self._run = run
        self._keep_lines = KEEP_LINES // processes
        self._file: BinaryIO | None = None
        self._compressor = _zlib.compressobj(1)
        self._pending = bytearray()  # records not compressed yet
        self._compressed = bytearray()  # compressed, not written yet
        self.count = 0
        # "waiting" records' attachments and lines, beside the others (most of their bytes are
        # lines that only the few whose files do not resolve need): in memory up to
        # KEEP_LINES bytes, then handed to the packer's thread (started when that is reached),
        # which writes the attachments' and the compressed lines' files.
        self._side_pending = bytearray()  # the kept runs' attachments
        self._kept: deque[bytes] = deque()  # their lines
        self._kept_bytes = 0
        self._packer: _Packer | None = None
        # Keys the lines use as profile images (their dimensions are measured whatever their
        # names) and as emoji images (their first bytes are read): bounded by the number of
        # users, bots and emoji.
        self.profile_keys: set[str] = set()
        self.emoji_keys: set[str] = set()

    def add(self, line: int, position: int, kind: str, raw: bytes, ok: bool = True) -> None:
        self._pending += _RECORD.pack(line, position, _KINDS.index(kind), ok, len(raw))
        self._pending += raw
        self.count += 1
        if len(self._pending) >= _FLUSH:
            self._compressed += self._compressor.compress(self._pending)
            self._pending.clear()
            if len(self._compressed) >= _FLUSH:
                self._spill()

    def add_waiting(self, records: bytes, lines: bytes) -> None:
        """Post lines the C scanner accepted but for their files (scan_batch's defer mode:
        their attachments' `records`, the `lines` themselves), in line order with the rest."""
        first = int.from_bytes(records[:8], "little", signed=True)
        fits = self._kept_bytes + len(lines) + len(self._side_pending) + len(records)
        if self._packer is None and fits <= self._keep_lines:
            self._side_pending += records  # the paths stay in memory too
            self._kept.append(lines)
            self._kept_bytes += len(lines)
            self.add(first, 0, "waiting", _WAITING.pack(len(records), _KEPT))
            return
        if self._packer is None:
            self._packer = _Packer(self._run)
            self._packer.add(bytes(self._side_pending), None)  # the kept runs' paths first
            self._side_pending.clear()
        self._packer.add(records, lines)
        self.add(first, 0, "waiting", _WAITING.pack(len(records), _PACKED))

    def _spill(self) -> None:
        """Move the compressed records to the temporary file."""
        self._file = _spill(self._run, _RECORDS_FILE, self._file, self._compressed)

    def __iter__(self) -> Iterator[Deferred]:
        """The records, in the order they were added (once)."""
        self._compressed += self._compressor.compress(self._pending)
        self._compressed += self._compressor.flush()
        self._pending.clear()
        decompressor = _zlib.decompressobj()
        buffer = bytearray()
        packed_lines: Callable[[], bytes] | None = None
        if self._packer is None:
            side = _memory_reader(self._side_pending)
        else:
            side, packed_lines = self._packer.readers()
        for chunk in self._chunks():
            # At most _READ bytes out per call: lines of one repeated character compress
            # ~1000:1, and a whole chunk inflated at once would hold ~1 GB.
            data = chunk
            more = True
            while more:
                out = decompressor.decompress(data, _READ)
                buffer += out
                data = decompressor.unconsumed_tail
                more = bool(data) or len(out) == _READ  # a full call may hold more back
                at = 0
                while len(buffer) - at >= _RECORD.size:
                    line, position, kind, ok, length = _RECORD.unpack_from(buffer, at)
                    end = at + _RECORD.size + length
                    if end > len(buffer):
                        break
                    raw = bytes(buffer[end - length : end])
                    if _KINDS[kind] == "waiting":
                        records, where = _WAITING.unpack(raw)
                        if where == _KEPT:
                            kept = self._kept.popleft()
                            yield Deferred(line, 0, "waiting", side(records), ok, kept, True)
                        else:
                            assert packed_lines is not None
                            lines = packed_lines()
                            yield Deferred(line, 0, "waiting", side(records), ok, lines)
                    else:
                        yield Deferred(line, position, _KINDS[kind], raw, ok)
                    at = end
                del buffer[:at]

    def _chunks(self) -> Iterator[bytes]:
        if self._file is None:
            yield bytes(self._compressed)
            return
        self._spill()
        file = self._file
        file.seek(0)
        while chunk := file.read(_READ):
            yield chunk

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._packer is not None:
            self._packer.close()
            self._packer = None
        self._kept.clear()


class FindingsSpool:
    """The findings of a stream's batches of lines, kept until its members are known: the
    first ones in memory as they are, up to about `KEEP_FINDINGS` bytes, the rest pickled to
    a temporary file. (Pickling and writing every batch's findings cost the checks' thread
    of a stream of 300,000 attachments 0.015-0.03 s, and 0.16-0.26 s on two cores busy with
    other work, for 0.02 s of CPU: each write gives the GIL up to the reading threads, and
    getting it back waits for them. A file's run pays none of it.)"""

    def __init__(self, run: RunDirectory, keep: int | None = None) -> None:
        """`keep`: the bytes kept in memory (default `KEEP_FINDINGS`)."""
        self._run = run
        self._file: BinaryIO | None = None
        self._kept: deque[Findings] = deque()
        self._room = KEEP_FINDINGS if keep is None else keep

    def add(self, found: Findings) -> None:
        if self._file is None:
            size = _findings_size(found)
            if size <= self._room:
                self._room -= size
                self._kept.append(found)
                return
            self._room = 0  # in order: every later batch goes after this one, to the file
        path = self._run.path / "findings"
        try:
            if self._file is None:
                self._file = open(path, "w+b")  # noqa: SIM115 - closed by close()
            pickle.dump(found, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:
            raise temporary_file_error(path, exc) from None

    def __iter__(self) -> Iterator[Findings]:
        """The findings, in the order they were added (once)."""
        kept = self._kept
        while kept:
            yield kept.popleft()
        if self._file is None:
            return
        file = self._file
        file.seek(0)
        while True:
            try:
                found = pickle.load(file)
            except EOFError:
                return
            yield found

    def close(self) -> None:
        self._kept.clear()
        if self._file is not None:
            self._file.close()
            self._file = None


def _findings_size(found: Findings) -> int:
    """About the bytes `found` holds: its identities, a kilobyte per issue and per fact, and
    the characters of each issue's message, field and string values (a name the archive gave
    can be megabytes, and is in both). An estimate on the high side that reads no object
    deeper than that: measuring them would cost what pickling does. Called only until the
    room is spent: for at most `KEEP_FINDINGS` / `_ENTRY_BYTES` issues a run."""
    size = len(found.identities) + len(found.identity_lines)
    size += _ENTRY_BYTES * (len(found.issues) + len(found.facts))
    for issue, _ in found.issues:
        size += len(issue.message) + len(issue.field or "")
        size += sum(len(value) for value in issue.values.values() if isinstance(value, str))
    return size


def with_late(
    batches: Iterable[Findings], late: Iterable[tuple[int, int, Findings]]
) -> Iterator[Findings]:
    """The findings of consecutive batches of lines (from line 1), each with the findings of
    its lines' deferred parts (`LineProcessor.replay`: (line, position, findings), in line
    order) put in place: their issues before the line's own issue number `position`, their
    facts after the batch's (no other fact depends on the order of file facts, which keep
    theirs), their counts added."""
    following = iter(late)
    upcoming = next(following, None)
    first = 1
    for found in batches:
        end = first + found.lines
        mine: list[tuple[int, int, Findings]] = []
        while upcoming is not None and upcoming[0] < end:
            mine.append(upcoming)
            upcoming = next(following, None)
        if mine:
            _merge(found, mine)
        yield found
        first = end
    if upcoming is not None:
        raise AssertionError(f"a deferred part of line {upcoming[0]} after the last line")


def _merge(found: Findings, late: list[tuple[int, int, Findings]]) -> None:
    issues: list[tuple[Issue, Unresolved | None]] = []
    pending = iter(late)
    upcoming = next(pending, None)
    line, seq = 0, 0
    for entry in found.issues:
        issue_line = entry[0].line or 0
        if issue_line != line:
            line, seq = issue_line, 0
        while upcoming is not None and (upcoming[0], upcoming[1]) <= (line, seq):
            issues.extend(upcoming[2].issues)
            upcoming = next(pending, None)
        issues.append(entry)
        seq += 1
    while upcoming is not None:
        issues.extend(upcoming[2].issues)
        upcoming = next(pending, None)
    found.issues = issues
    for _, _, part in late:
        found.facts.extend(part.facts)
        found.counts.add(part.counts)
        found.missing += part.missing
