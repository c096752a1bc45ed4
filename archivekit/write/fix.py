"""`fix`: the archive with what `validate` finds mechanically repaired — usually one pass.

`FixRun` reads the JSONL once and writes every line:

- framing first, on the raw bytes: a byte order mark before line 1, a carriage return
  ending a line, blank lines, text after the line's JSON object (when what is left decodes:
  a second JSON object there becomes a line of its own);
- post and direct-post lines the validator's scanner accepts with the server's message limit
  (canonical, every name defined and lowercase, every file found and readable, no reply or
  reaction older than its post) and without an escaped NUL are kept byte-identical,
  undecoded — runs of them as one block; the others are decoded as the server decodes them
  and go through `repairs.LineRepairs`; a line no repair changed is written byte-identical,
  a changed one from its repaired envelope (compact JSON; keys the server ignores are not
  written again);
- definitions are learned as their lines pass (an export defines everything before using
  it). A line that uses a name no line has defined yet is noted; when a later line defines
  it, the run stops (`NeedsSurvey`) and starts again (the output so far is discarded: it is
  a temporary file): `definitions` reads every definition first (post lines passed over in
  C, unread), and the lines are written in the server's block order (`EXPORT_ORDER`), each
  type's lines in their input order — they wait in a `GroupSpool` of temporary files beside
  the output, memory holding at most `SPILL_BUDGET` bytes of buffers; every line moved out of
  place is logged (input line, output position before → after). Lines of a type the
  server does not know, or that cannot be decoded, stay with the lines before them (the server
  stops at such a line: moved to the end, more would be imported before the stop than the
  input's order gives — fix does not guess where such a line belongs);
- a line over 16 MiB (the server's scanner stops there) is not read: it is copied as it is,
  read again from the input in pieces, and reported as not repaired.

Then the members, in the input's order, raw (compressed bytes, CRC and sizes as they are),
under their new name when a path pointed there (`move-into-data`), re-compressed with deflate
when the server cannot read their method (`recompress`); of members sharing a name only the
last is kept (the one the server reads). Every change is logged (`changes.ChangeLog`).

Memory: the names the archive defines, the names used before their definition, the moves
(one entry per moved file) and the base names of the members outside data/ (built only when a
path is not found) — bounded by the definitions and the files, never by the posts.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, cast

import orjson

from archivekit.check.fast.fastpath import (
    DIRECT_POST_PREFIX,
    IMAGE_EXTENSION_BYTES,
    NATIVE_TEXT,
    POST_PREFIX,
    FilesArg,
    key_finder,
    scan,
    scan_python,
)
from archivekit.check.rules.context import DEFAULT_CHANNELS
from archivekit.errors import ArchiveError
from archivekit.gosem.archive import server_reads
from archivekit.gosem.decode import (
    BOM,
    JSON_WHITESPACE,
    POST_LINE_TYPES,
    decode_line,
    leading_objects,
)
from archivekit.gosem.strings import go_lower
from archivekit.issues import (
    REPAIR_BLANK_LINE,
    REPAIR_BOM,
    REPAIR_CLEAR_ENCRYPTION,
    REPAIR_CR,
    REPAIR_DEDUPE,
    REPAIR_DUPLICATE_MEMBER,
    REPAIR_RECOMPRESS,
    REPAIR_REORDER,
    REPAIR_SHORTEN_LINE,
    REPAIR_STRAY_VERSION,
    REPAIR_TRAILING,
)
from archivekit.read import Archive, LineTooLong, MemberInfo, iter_line_blocks
from archivekit.read.inflate import STORED, method_name
from archivekit.read.source import without_flag
from archivekit.write.changes import Change, ChangeLog, shown_json
from archivekit.write.core import COPY_BLOCK, ArchiveWriter, GroupSpool
from archivekit.write.dedupe import (
    DedupePlan,
    definition_envelopes,
    definition_key,
    plan_dedupe,
)
from archivekit.write.lines import NO_SIZE_LIMIT, LineDecoder, accept_any_type
from archivekit.write.repairs import Definitions, FilePlan, FixOptions, LineRepairs
from archivekit.write.select import EXPORT_ORDER

SPILL_BUDGET: Final = 16 << 20
# How a piece of the output is written (`FixRun._write`): new bytes, input lines kept as they
# are, or a line over 16 MiB (the piece is its place: `_LONG_LINE`), copied from the input.
_NEW: Final = 0
_KEPT: Final = 1
_LONG: Final = 2
_LONG_LINE: Final = struct.Struct("<QQ")  # (offset in the JSONL, length) of a long line
# Before each piece in the reorder spool: its first input line, where its first line would be
# in the output without the reorder, and whether it is moved out of place (logged).
_PLACE: Final = struct.Struct("<QQ?")
_KNOWN_TYPES: Final = frozenset(EXPORT_ORDER)
# `FixRun._plain_runs`: (text, offset, first line) -> (stop, lines, posts, direct posts).
_Runs = Callable[[bytes, int, int], tuple[int, int, int, int]]


@dataclass(slots=True)
class FixStats:
    """What a fix run read and wrote."""

    lines_read: int = 0
    lines_written: int = 0
    lines_rewritten: int = 0
    lines_dropped: int = 0
    reordered: bool = False
    members_copied: int = 0
    members_moved: int = 0
    members_recompressed: int = 0
    members_dropped: int = 0
    too_long: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines_read": self.lines_read,
            "lines_written": self.lines_written,
            "lines_rewritten": self.lines_rewritten,
            "lines_dropped": self.lines_dropped,
            "reordered": self.reordered,
            "members_copied": self.members_copied,
            "members_moved": self.members_moved,
            "members_recompressed": self.members_recompressed,
            "members_dropped": self.members_dropped,
        }


# --- pass 1 -----------------------------------------------------------------------------------


def definitions(archive: Archive) -> Definitions:
    """Pass 1 (only when a name is used before its line): the names every line defines.
    Posts and direct posts define nothing: runs of them are passed over in C, unread."""
    defs = Definitions()
    for _, envelope in definition_envelopes(archive):
        _define(envelope, defs)
    return defs


def _define(envelope: dict[str, Any], defs: Definitions) -> None:
    line_type = envelope.get("type")
    payload = envelope.get(line_type) if isinstance(line_type, str) else None
    if not isinstance(payload, dict):
        return
    if line_type == "team" and isinstance(payload.get("name"), str):
        team = go_lower(payload["name"])
        defs.teams.add(team)
        defs.channels.update((team, channel) for channel in DEFAULT_CHANNELS)
    elif line_type == "channel":
        in_team, name = payload.get("team"), payload.get("name")
        if isinstance(in_team, str) and isinstance(name, str):
            defs.channels.add((go_lower(in_team), go_lower(name)))
    elif line_type in ("user", "bot") and isinstance(payload.get("username"), str):
        defs.users.add(go_lower(payload["username"]))
        if line_type == "user" and isinstance(payload.get("email"), str):
            defs.emails.add(go_lower(payload["email"]))
    elif line_type == "scheme" and isinstance(payload.get("name"), str):
        defs.schemes.add(payload["name"])
        for key, role in payload.items():  # its own roles: default_team_admin_role ...
            if key.startswith("default_") and isinstance(role, dict):
                defs.roles.update(name for name in [role.get("name")] if isinstance(name, str))
    elif line_type in ("emoji", "role") and isinstance(payload.get("name"), str):
        (defs.emojis if line_type == "emoji" else defs.roles).add(payload["name"])


def _references(envelope: dict[str, Any]) -> Iterator[tuple[str, object]]:
    """The schemes, teams, channels and users a line names (stored forms: schemes as written,
    the others lowercased), for the order check — every reference the validator resolves."""
    line_type = envelope.get("type")
    payload = envelope.get(line_type) if isinstance(line_type, str) else None
    if not isinstance(payload, dict):
        return
    if line_type in ("team", "channel") and isinstance(payload.get("scheme"), str):
        yield "scheme", payload["scheme"]
    if line_type == "channel" and isinstance(payload.get("team"), str):
        yield "team", go_lower(payload["team"])
    elif line_type == "user":
        for membership in payload.get("teams") or ():
            team = membership.get("name")
            if isinstance(team, str):
                yield "team", go_lower(team)
                for channel in membership.get("channels") or ():
                    if isinstance(channel.get("name"), str):
                        yield "channel", (go_lower(team), go_lower(channel["name"]))
    elif line_type == "bot" and isinstance(payload.get("owner"), str):
        yield "user", go_lower(payload["owner"])
    elif line_type in POST_LINE_TYPES:
        team, channel = payload.get("team"), payload.get("channel")
        if isinstance(team, str):
            yield "team", go_lower(team)
            if isinstance(channel, str):
                yield "channel", (go_lower(team), go_lower(channel))
        yield from _users(payload.get("channel_members"))
        yield from _users(f.get("user") for f in payload.get("thread_followers") or ())
        for post in [payload, *(payload.get("replies") or ())]:
            yield from _users([post.get("user")])
            yield from _users(post.get("flagged_by"))
            yield from _users(r.get("user") for r in post.get("reactions") or ())
    elif line_type == "direct_channel":
        participants = payload.get("participants")
        if isinstance(participants, list):
            yield from _users((p or {}).get("username") for p in participants)
        yield from _users(payload.get("members"))


def _users(names: Iterable[Any] | None) -> Iterator[tuple[str, object]]:
    for name in names or ():
        if isinstance(name, str) and name:
            yield "user", go_lower(name)


def _defines_used(envelope: dict[str, Any], used: dict[tuple[str, object], int]) -> bool:
    """Whether the line defines one of the names in ``used``."""
    found = Definitions()
    _define(envelope, found)
    return any(_defined(found, ref) for ref in used)


def _known(decoder: LineDecoder, ref: tuple[str, object]) -> dict[Any, None]:
    kind = ref[0]
    if kind == "team":
        return decoder.teams
    if kind == "channel":
        return decoder.channels
    if kind == "scheme":
        return decoder.schemes
    return decoder.users


def _defined(defs: Definitions, ref: tuple[str, object]) -> bool:
    kind, key = ref
    if kind == "team":
        return key in defs.teams
    if kind == "channel":
        return key in defs.channels
    if kind == "scheme":
        return key in defs.schemes
    return key in defs.users


# --- pass 2 -----------------------------------------------------------------------------------


class NeedsSurvey(Exception):
    """A name is used before the line that defines it: the output must be written again,
    with every definition known first (`definitions`) and the lines reordered."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line} uses a name defined later")
        self.line = line


class FixRun:
    """Pass 2 onto ``writer`` (None: a dry run, nothing written)."""

    def __init__(
        self,
        archive: Archive,
        writer: ArchiveWriter | None,
        options: FixOptions,
        log: ChangeLog,
        *,
        spool_folder: str | os.PathLike[str] | None = None,
        early_use: int | None = None,
    ) -> None:
        self.archive = archive
        self.writer = writer
        self.options = options
        self.log = log
        self.stats = FixStats()
        self._spool_folder = spool_folder
        self.files = FilePlan(archive)
        self.early_use = early_use
        self.decoder = LineDecoder()
        self.definitions = Definitions()
        self.dedupe = DedupePlan()  # --dedupe: filled by `run`
        # The names lines used before any line defined them, with the first such line (a
        # later definition means a reorder; names defined nowhere stay unknown).
        self._used_early: dict[tuple[str, object], int] = {}
        self._version_kept = False  # the output's version line (line 1) is written
        self._definition_keys: set[object] = set()  # without --dedupe: what lines defined
        self._repairs: LineRepairs | None = None  # set by `run`
        self._group = "version"  # `_lines`: the block (`EXPORT_ORDER`) of the last line

    def run(self) -> FixStats:
        """Write everything. Without ``early_use`` (see `FixRun`) it may raise `NeedsSurvey`
        once the JSONL is read: the caller then starts again with its line."""
        if self.early_use is not None:
            self.definitions = definitions(self.archive)
        if self.options.dedupe:
            self.dedupe = plan_dedupe(self.archive)
        defined = self.definitions
        jsonl = self.archive.jsonl
        if self.archive.jsonl_flag_cleared:
            # Read as the plain data it is (`open_archive`'s ``plain_flagged``); written anew.
            self.log.add(
                Change(
                    REPAIR_CLEAR_ENCRYPTION,
                    None,
                    jsonl.name,
                    shown_json("encrypted (flag set)"),
                    shown_json("deflate"),
                    "stored, its size as compressed and its CRC-32 match its bytes: plain data",
                )
            )
        if self.archive.kind == "zip" and not server_reads(jsonl.method, jsonl.encrypted):
            # The JSONL is always written anew, deflated: this one is re-compressed anyway.
            before = shown_json(method_name(jsonl.method))
            self.log.add(Change(REPAIR_RECOMPRESS, None, jsonl.name, before, shown_json("deflate")))
        decoder = self.decoder
        decoder.users.update(dict.fromkeys(defined.users))
        decoder.teams.update(dict.fromkeys(defined.teams))
        decoder.channels.update(dict.fromkeys(defined.channels))
        repairs = LineRepairs(defined, self.files, self.options, self.log)
        self._repairs = repairs
        lines = self._lines(decoder, repairs)
        if self.early_use is not None:
            self.stats.reordered = True
            self._write_reordered(lines)
        else:
            for _, data, count, mode, _ in lines:
                self._write(data, count, mode)
        self._check_order()
        self._members()
        return self.stats

    def _write(self, data: bytes, count: int, mode: int) -> None:
        """``count`` lines (joined by ``\\n``), kept byte-identical or new (``mode``)."""
        self.stats.lines_written += count
        writer = self.writer
        if writer is None:
            return
        if mode == _LONG:
            offset, length = _LONG_LINE.unpack(data)
            writer.jsonl.keep_stream(self._input_bytes(offset, length))
        elif count > 1:
            writer.jsonl.keep_block(data, count)
        elif mode == _KEPT:
            writer.jsonl.keep(data)
        else:
            writer.jsonl.write(data)

    def _input_bytes(self, offset: int, length: int) -> Iterator[bytes]:
        """``length`` bytes of the JSONL from ``offset``, read again from the input (a line
        over 16 MiB is never held in memory)."""
        end = offset + length
        pos = 0
        for block in self.archive.iter_jsonl_blocks():
            start, stop = pos, pos + len(block)
            pos = stop
            if stop <= offset:
                continue
            yield block[max(offset - start, 0) : min(end - start, len(block))]
            if stop >= end:
                return

    def _write_reordered(self, lines: Iterator[tuple[str, bytes, int, int, int]]) -> None:
        """The lines in the server's block order (`EXPORT_ORDER`; each type's lines in their
        input order), through a `GroupSpool`; every line moved out of place is logged with its
        output position without and with the reorder — the lines that moved up (over lines of
        a later block before them) or those that moved down (passed by lines of an earlier
        block after them), whichever are fewer; the lines that only shift by one because
        another line passed them are not (a dry run spools too: the log is the same). A version
        line put on line 1 is logged always, as `drop-stray-version` (the repair validate
        names for a version line not on line 1: the first is moved, any other dropped)."""
        spool = GroupSpool(self._spool_folder, SPILL_BUDGET)
        try:
            order = {kind: i for i, kind in enumerate(EXPORT_ORDER)}
            blocks = len(order) + 1
            position = 0  # of the piece's first line in the output without the reorder
            latest = -1  # the latest block (in `EXPORT_ORDER`) met so far
            up_lines = 0
            counts = [0] * blocks  # lines of each block so far
            before_last: dict[int, list[int]] = {}  # block -> `counts` before its last piece
            for group, data, count, mode, first in lines:
                rank = order.get(group, len(order))
                # Moved up: a line of an earlier block than one met before it.
                up = rank < latest
                up_lines += count if up else 0
                latest = max(latest, rank)
                before_last[rank] = counts.copy()
                counts[rank] += count
                spool.add(group, _PLACE.pack(first, position, up) + data, count * 3 + mode)
                position += count
            # Moved down: a line that a line of an earlier block after it passes — the first
            # `passed[b]` lines of block b. Logged are the lines of the way that moves fewer
            # (a late definition: it moved up; an early post: it moved down), never the lines
            # that only shift by one because another line passed them.
            passed = [
                max((before_last[r][b] for r in before_last if r < b), default=0)
                for b in range(blocks)
            ]
            down = sum(passed) < up_lines
            groups = spool.groups()
            first_seen = {group: i for i, group in enumerate(groups)}
            groups.sort(key=lambda g: (order.get(g, len(order)), first_seen[g]))
            position = 0
            for group in groups:
                rank, done = order.get(group, len(order)), 0
                for tag, record in spool.replay(group):
                    count, mode = divmod(tag, 3)
                    first, before, up = _PLACE.unpack_from(record)
                    moved = up if group == "version" or not down else done < passed[rank]
                    if moved and before != position:
                        self._log_moves(first, before, position, count, group == "version")
                    self._write(record[_PLACE.size :], count, mode)
                    position += count
                    done += count
        finally:
            spool.close()

    def _log_moves(self, first: int, before: int, after: int, count: int, version: bool) -> None:
        """``count`` lines from input line ``first`` written at output position ``after``
        instead of ``before`` (0-based; shown 1-based); ``version``: the version line."""
        repair, note = REPAIR_REORDER, None
        if version:
            repair, note = REPAIR_STRAY_VERSION, "a version line is only allowed as line 1"
        for k in range(count):
            self.log.add(
                Change(
                    repair,
                    first + k,
                    None,
                    shown_json(f"output line {before + k + 1:,}"),
                    shown_json(f"output line {after + k + 1:,}"),
                    note,
                )
            )

    def _lines(
        self, decoder: LineDecoder, repairs: LineRepairs
    ) -> Iterator[tuple[str, bytes, int, int, int]]:
        """(line type, bytes, lines in them, how to write them: `_NEW`, `_KEPT`, `_LONG`, the
        input line of the first) of everything to write, in input order. Runs of post lines
        the scanner accepts (of one type) come as one piece, their lines joined by ``\\n``
        (a whole input block when it is nothing else). A block without a carriage return (a
        plain line's other condition) goes through the C scanner as text, never split into
        lines: it finds those runs without a Python step per line (`_plain_runs`)."""
        self._group = "version"
        number = 0
        offset = 0  # of the line in the JSONL (a long line is read again from there)
        plain = self._plain_post(decoder)
        runs = self._plain_runs(decoder)
        for block in iter_line_blocks(self.archive.iter_jsonl_blocks()):
            text = block.text
            if runs is not None and text is not None and b"\r" not in text:
                count = text.count(b"\n") + 1
                self.stats.lines_read += count
                yield from self._block_runs(text, number, runs, repairs)
                number += count
                offset += len(text) + 1
                continue
            lines = block.lines()
            self.stats.lines_read += len(lines)
            run: list[bytes] = []
            for raw in lines:
                number += 1
                start = offset
                offset += (raw.length if isinstance(raw, LineTooLong) else len(raw)) + 1
                kind = plain(raw)
                if kind is not None:
                    if run and kind != self._group:
                        yield self._group, b"\n".join(run), len(run), _KEPT, number - len(run)
                        run = []
                    self._group = kind
                    run.append(cast("bytes", raw))
                    continue
                if run:
                    yield self._group, b"\n".join(run), len(run), _KEPT, number - len(run)
                    run = []
                if isinstance(raw, LineTooLong):
                    self._too_long(number, raw.length)
                    yield self._group, _LONG_LINE.pack(start, raw.length), 1, _LONG, number
                    continue
                yield from self._other(raw, number, repairs)
            if run:
                if text is None or len(run) != len(lines):
                    text = b"\n".join(run)
                yield self._group, text, len(run), _KEPT, number - len(run) + 1

    def _block_runs(
        self, text: bytes, before: int, runs: _Runs, repairs: LineRepairs
    ) -> Iterator[tuple[str, bytes, int, int, int]]:
        """`_lines` for one block of whole lines (``text``, after input line ``before``)
        without a carriage return: the runs of plain post lines found in C (`_plain_runs`),
        the line each stops at through the slow path."""
        size = len(text)
        at, number = 0, before + 1  # where the next line starts, and its number
        while at <= size:
            stop, count, posts, directs = runs(text, at, number)
            if count:
                data = text if at == 0 and stop > size else text[at : stop - 1]
                if posts and directs:  # both types: a piece per stretch of one
                    yield from self._typed_runs(data.split(b"\n"), number)
                else:
                    self._group = POST_LINE_TYPES[directs > 0]
                    yield self._group, data, count, _KEPT, number
                number += count
            if stop > size:
                return
            end = text.find(b"\n", stop)
            end = size if end < 0 else end
            yield from self._other(text[stop:end], number, repairs)
            number += 1
            at = end + 1

    def _typed_runs(
        self, lines: list[bytes], first: int
    ) -> Iterator[tuple[str, bytes, int, int, int]]:
        """Plain post and direct-post lines (from input line ``first``) as a piece per
        stretch of one type."""
        start = 0
        for k, line in enumerate(lines):
            kind = POST_LINE_TYPES[line.startswith(DIRECT_POST_PREFIX)]
            if kind != self._group and k > start:
                yield self._group, b"\n".join(lines[start:k]), k - start, _KEPT, first + start
                start = k
            self._group = kind
        yield self._group, b"\n".join(lines[start:]), len(lines) - start, _KEPT, first + start

    def _other(
        self, raw: bytes, number: int, repairs: LineRepairs
    ) -> Iterator[tuple[str, bytes, int, int, int]]:
        """A line that is not a plain post through the slow path (`_line`)."""
        for line_type, line, keep in self._line(raw, number, repairs):
            if line_type in _KNOWN_TYPES:
                # A line of a type the server does not know stays where it is, with the
                # lines before it: fix does not guess where it belongs.
                self._group = line_type
            yield self._group, line, 1, _KEPT if keep else _NEW, number

    def _too_long(self, number: int, length: int) -> None:
        """A line over 16 MiB: kept as it is, reported (what it holds is not read: nothing
        is guessed — not even for a post whose message alone makes it long)."""
        self.stats.too_long.append(number)
        self.log.add(
            Change(
                REPAIR_SHORTEN_LINE,
                number,
                None,
                shown_json(f"a line of {length:,} bytes"),
                None,
                "over the server's 16 MiB line limit (its import stops there): kept as it is; "
                "shorten or split it by hand",
            )
        )

    def _plain_post(self, decoder: LineDecoder) -> Callable[[bytes | LineTooLong], str | None]:
        """The test of the fast path: the type of a post or direct-post line the scanner
        accepts — written canonically, every name known and lowercase, every file found, no
        message over the limit, no reply or reaction older than its post — without a NUL or
        a carriage return (nothing to repair: kept byte-identical, undecoded); else None."""
        users, teams, channels = decoder.users, decoder.teams, decoder.channels
        max_post_size = self.options.max_post_size
        files = self._files_arg()

        def plain(raw: bytes | LineTooLong) -> str | None:
            if type(raw) is not bytes:
                return None
            direct = raw.startswith(DIRECT_POST_PREFIX)
            if not (direct or raw.startswith(POST_PREFIX)):
                return None
            if b"\\u0000" in raw or raw.endswith(b"\r"):
                return None
            found = scan(raw, direct, users, teams, channels, accept_any_type, max_post_size, files)
            if found is None:
                return None
            return POST_LINE_TYPES[direct]

        return plain

    def _plain_runs(self, decoder: LineDecoder) -> _Runs | None:
        """`_plain_post`'s test for a run of lines at once, in C (`NATIVE_TEXT`): for lines
        joined by newlines, from the one at ``offset`` (input line ``first``), where the run
        of post and direct-post lines the scanner accepts ends (the start of the first line
        it does not accept, or past the end), how many lines it holds, and how many of each
        type. `_plain_post` without its own checks: the scanner declines a line with an
        escaped NUL, and the caller passes no carriage return (it looks for one in the whole
        block). None without the C scanner."""
        scan_text = NATIVE_TEXT
        if scan_text is None:
            return None
        users, teams, channels = decoder.users, decoder.teams, decoder.channels
        max_post_size = self.options.max_post_size
        files = self._files_arg()

        def runs(text: bytes, offset: int, first: int) -> tuple[int, int, int, int]:
            return scan_text(
                text, offset, first, users, teams, channels, accept_any_type, max_post_size, files
            )

        return runs

    def _files_arg(self) -> FilesArg | None:
        """The member index for the scanner to resolve attachments with (lines whose files are
        all found and readable are accepted), or None (it declines lines with files)."""
        if self.archive.kind == "jsonl":
            return None
        index = self.archive.index
        table = index.table if scan is not scan_python else index
        if table is None:
            return None
        return table, NO_SIZE_LIMIT, IMAGE_EXTENSION_BYTES, key_finder(index)

    def _line(
        self, raw: bytes, number: int, repairs: LineRepairs
    ) -> Iterator[tuple[str, bytes, bool]]:
        """The slow path of one line: framing, decoding, repairs."""
        text = raw
        if text.startswith(BOM):  # line 1's, or one where files were joined together
            text = text[3:]
            self._framing(REPAIR_BOM, number, "a byte order mark before the JSON", "nothing")
        if text.endswith(b"\r"):
            text = text[:-1]
            self._framing(REPAIR_CR, number, "a carriage return at the end", "nothing")
        if not text.strip(JSON_WHITESPACE):
            self.stats.lines_dropped += 1
            self.log.add(
                Change(
                    REPAIR_BLANK_LINE,
                    number,
                    None,
                    shown_json(raw.decode("utf-8", "replace")),
                    shown_json(""),
                    "line removed",
                )
            )
            return
        first, _ = decode_line(text)
        if first is not None and not self.options.dedupe:
            self._count_duplicate(first)
        merged = False
        if first is not None and self.dedupe:
            kept, merged = self.dedupe.rewrite(number, first, self.log)
            if kept is None:
                self.stats.lines_dropped += 1
                return
            first = kept
        pieces = [text] if first is not None else self._trailing(text, number)
        for piece in pieces:
            envelope = first if piece is text else decode_line(piece)[0]
            if envelope is not None and self.early_use is None:
                self._learn(envelope, number)
            if envelope is None:
                yield "", piece, piece is raw
                continue
            line_type = envelope.get("type")
            kind = line_type if isinstance(line_type, str) else ""
            if kind == "version" and self._stray_version(piece, number):
                continue
            changed = repairs.repair(envelope, number, nul=merged or b"\\u0000" in piece)
            changed = changed or (merged and piece is text)
            if repairs.drop:
                self.stats.lines_dropped += 1
            elif changed:
                self.stats.lines_rewritten += 1
                yield kind, orjson.dumps(envelope), False
            else:
                yield kind, piece, piece is raw

    def _count_duplicate(self, envelope: dict[str, Any]) -> None:
        """Without --dedupe: a later definition of what an earlier line defined is counted,
        as what --dedupe would merge (`ChangeLog.offered`)."""
        key = definition_key(envelope)
        if key is None:
            return
        if key in self._definition_keys:
            self.log.offer(REPAIR_DEDUPE)
        else:
            self._definition_keys.add(key)

    def _stray_version(self, piece: bytes, number: int) -> bool:
        """Whether a version line is left out: every one but the input's first (two exports
        joined). The server accepts a version line only as line 1 and stops the import at any
        other (`unknown_line_type`); a later one carries nothing, so it is dropped — kept, a
        reorder would move it to line 2, where the import would stop. The first one goes to
        line 1: when lines were written before it, the run starts again as a reorder
        (`NeedsSurvey`), whose block order puts it first (logged as a move)."""
        if not self._version_kept:
            if self.early_use is None and self.stats.lines_written > 0:
                raise NeedsSurvey(number)
            self._version_kept = True
            return False
        self.stats.lines_dropped += 1
        self.log.add(
            Change(
                REPAIR_STRAY_VERSION,
                number,
                None,
                shown_json(piece.decode("utf-8", "replace")),
                shown_json(""),
                "line removed: a version line is only allowed as line 1",
            )
        )
        return True

    def _check_order(self) -> None:
        """Raise `NeedsSurvey` when a name used early has been defined since."""
        defined = self.definitions
        later = [line for ref, line in self._used_early.items() if _defined(defined, ref)]
        if later:
            raise NeedsSurvey(min(later))

    def _learn(self, envelope: dict[str, Any], number: int) -> None:
        """What a decoded line defines, and the names it uses before any line defined them
        (the definitions come from the lines as they pass, unless a reorder is under way)."""
        decoder = self.decoder
        for ref in _references(envelope):
            if ref[1] not in _known(decoder, ref):
                self._used_early.setdefault(ref, number)
        decoder.learn(envelope)
        before = len(self._used_early)
        _define(envelope, self.definitions)
        if before and _defines_used(envelope, self._used_early):
            self._check_order()
        if self._repairs is not None and self._repairs.nul_names:
            found = Definitions()
            _define(envelope, found)
            if self._repairs.cleaned_into(found):
                # An earlier line's name lost its NULs and became this line's name: two
                # definitions merged. Again, with every definition known first (the removal
                # is then refused); that run puts the lines in block order too.
                raise NeedsSurvey(number)

    def _framing(self, repair: str, number: int, before: str, after: str) -> None:
        self.log.add(Change(repair, number, None, shown_json(before), shown_json(after)))

    def _trailing(self, text: bytes, number: int) -> list[bytes]:
        """A line that does not decode: when it is JSON objects with text after them, the
        objects that decode (one line each) without the rest; else the line as it is."""
        pieces, rest = leading_objects(text)
        if not pieces:
            return [text]
        note = f"split into {len(pieces)} lines" if len(pieces) > 1 else None
        before = rest or text.decode("utf-8")
        self.log.add(
            Change(REPAIR_TRAILING, number, None, shown_json(before), shown_json(""), note)
        )
        return pieces

    # --- members ---------------------------------------------------------------------------
    def _members(self) -> None:
        archive = self.archive
        if archive.kind == "jsonl":
            return
        index = archive.index
        last: dict[str, int] = {}
        for i in range(len(index)):
            last[index[i].key] = i
        jsonl = archive.jsonl.index
        for i in range(len(index)):
            if i == jsonl:
                continue
            member = index[i]
            if last[member.key] != i:
                self.stats.members_dropped += 1
                self.log.add(
                    Change(
                        REPAIR_DUPLICATE_MEMBER,
                        None,
                        member.name,
                        shown_json(f"entry {i + 1} of {len(index)}"),
                        shown_json(""),
                        "a later member has the same name; the server reads that one",
                    )
                )
                continue
            names = self.files.moves.get(i, [member.name])
            if names != [member.name]:
                self.stats.members_moved += 1
            for name in names:
                self._copy(member, name)

    def _copy(self, member: MemberInfo, name: str) -> None:
        self.stats.members_copied += 1
        writer, archive = self.writer, self.archive
        if archive.kind != "zip":
            # A file of an export folder: stored, sizes in the local header, as a raw copy of
            # it writes it again (fix of its own output gives the same bytes).
            if writer is not None:
                blocks = partial(archive.iter_member_blocks, member, COPY_BLOCK)
                writer.add_sized_member(name, blocks, STORED)
            return
        if not server_reads(member.method, member.encrypted):
            if member.encrypted:
                member = self._encrypted(member, name)
            elif self._recompress(member, name):
                return
        if writer is not None:
            writer.copy_member(archive, member, name)

    def _encrypted(self, member: MemberInfo, name: str) -> MemberInfo:
        """``member`` as it is copied: without its encryption flag when its bytes are
        provably plain (`Archive.provably_plain`: `clear-encryption-flag`), else as it is
        (reported: without the password nothing can be read)."""
        if self.archive.provably_plain(member):
            self.log.add(
                Change(
                    REPAIR_CLEAR_ENCRYPTION,
                    None,
                    name,
                    shown_json("encrypted (flag set)"),
                    shown_json("stored"),
                    "stored, its size as compressed and its CRC-32 match its bytes: plain data",
                )
            )
            return without_flag(member)
        if member.method != STORED:
            why = f"{method_name(member.method)}: only a stored member's bytes can be checked"
        elif member.compressed_size == member.size + 12:
            why = "stored with the 12 bytes of a ZipCrypto header before its data"
        elif member.compressed_size == member.size:
            why = "stored, but its bytes do not give its CRC-32: encrypted or damaged"
        else:
            why = f"stored with {member.compressed_size - member.size:+,} bytes against its size"
        self.log.add(
            Change(
                REPAIR_CLEAR_ENCRYPTION,
                None,
                name,
                shown_json("encrypted"),
                None,
                f"not provably plain ({why}): cannot be read without the password; copied as "
                "it is — zip it again without a password",
            )
        )
        return member

    def _recompress(self, member: MemberInfo, name: str) -> bool:
        """Write ``member`` deflated under ``name``; False when it cannot be read.

        It is read up to its declared size whatever its ratio (a member of zeros in bzip2
        expands far more than the readers' zip-bomb limit): it cannot give more than it
        declares, and its deflated copy is kept within the ratio (`zipwriter.RatioBound`),
        so validate's promise of `recompress` holds for every readable member."""
        before = method_name(member.method)
        blocks = partial(self.archive.iter_member_blocks, member, COPY_BLOCK, ratio=False)
        try:
            # Read once to the end first (the CRC is checked there): a member that turns out
            # unreadable half-way must not leave half a member in the output.
            for _ in blocks():
                pass
        except ArchiveError as exc:
            self.log.add(
                Change(
                    REPAIR_RECOMPRESS,
                    None,
                    name,
                    shown_json(before),
                    None,
                    f"cannot be read ({exc.issue.message}): copied as it is",
                )
            )
            return False
        if self.writer is not None:
            # Sizes in the local header (no data descriptor): fix of the output copies this
            # member raw to the same bytes.
            self.writer.add_compressed_member(name, blocks, folder=self._spool_folder)
        self.stats.members_recompressed += 1
        self.log.add(
            Change(REPAIR_RECOMPRESS, None, name, shown_json(before), shown_json("deflate"))
        )
        return True
