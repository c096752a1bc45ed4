"""`split`: an archive cut into parts that import one after the other.

The scheme (what makes every part importable after the earlier ones):

* each part is a zip of its own: ``import.jsonl`` starting with the source's version line,
  then the part's lines, then exactly the files those lines refer to (copied raw; a file two
  parts need is in both);
* by size (``max_bytes``): the parts are consecutive runs of the source's lines, in the
  source's order. Exports write every definition (roles, schemes, teams, channels, users,
  bots) before the posts, so the first part(s) create what later parts refer to, and a line
  only ever refers to lines before it. A post line carries its replies, reactions and files:
  it is never cut. A part is closed before the line that would take it over the limit; a
  post that is larger than the limit with its files on its own gets a part to itself — the
  only part over the limit, and the result names it;
* by group (``by`` = ``team``, ``channel`` or ``month``): the first part(s) hold every line
  that is not a post (the definitions, in order), then each group's posts and direct posts
  follow in parts of their own (groups in name or date order, DMs and GMs last for ``team``
  and ``channel``), cut by ``max_bytes`` too when it is given.

Sizes are the real zip sizes: the JSONL is compressed as it goes, and when a part nears the
limit the compressor is flushed so the decision uses exact numbers. Memory: nothing per post;
by group, one spool file (`GroupSpool`) with a bounded buffer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal

from archivekit.check.fast.fastpath import DIRECT_POST_PREFIX, POST_PREFIX
from archivekit.check.files import ReferencedFiles
from archivekit.errors import OutputError, UsageError
from archivekit.gosem.decode import POST_LINE_TYPES, decode_line, str_or_empty
from archivekit.gosem.strings import go_lower
from archivekit.read import Archive, LineBlock, LineTooLong, iter_line_blocks
from archivekit.runtime import partial_name_owner, remove_abandoned
from archivekit.write.atomic import make_folder
from archivekit.write.core import (
    ArchiveWriter,
    GroupSpool,
    WrittenArchive,
    files_left_out,
    find_file,
)
from archivekit.write.lines import (
    VERSION_LINE,
    LineDecoder,
    might_have_attachments,
    payload_of,
    post_block,
    post_facts,
)
from archivekit.write.select import by_export_order
from archivekit.write.zipwriter import END_RECORDS_SIZE, central_entry_size, local_overhead

By = Literal["team", "channel", "month"]
_ZIP64_AT: Final = 0xFFFFFFFF - (64 << 20)  # parts this big budget for zip64 records
_ZIP64_END: Final = 76
STAGE_PREFIX: Final = ".archivekit-split-"
_DEFINITIONS: Final = ""  # the group of every line that is not a post
_DIRECT: Final = "\uffff direct messages"  # sorts after every team and channel name
_UNDATED: Final = "\uffff undated"


@dataclass(slots=True)
class PartInfo:
    """One part of a split."""

    number: int
    file: str
    group: str | None
    lines: Counter[str] = field(default_factory=Counter)
    files: int = 0
    file_bytes: int = 0
    over_limit: str | None = None  # why this part is over the limit
    written: WrittenArchive | None = None

    def to_dict(self) -> dict[str, Any]:
        written = self.written
        return {
            "part": self.number,
            "file": self.file,
            "group": self.group,
            "size": None if written is None else written.size,
            "sha256": None if written is None else written.sha256,
            "lines": by_export_order(self.lines),
            "files": self.files,
            "file_bytes": self.file_bytes,
            "over_limit": self.over_limit,
        }


@dataclass(slots=True)
class SplitStats:
    parts: list[PartInfo] = field(default_factory=list)
    lines_read: int = 0
    too_long: int = 0
    files_left_out: int = 0
    file_bytes_left_out: int = 0


def group_label(group: str | None) -> str | None:
    if group is None:
        return None
    if group == _DEFINITIONS:
        return "definitions"
    if group == _DIRECT:
        return "direct messages"
    if group == _UNDATED:
        return "posts without a date"
    return group


def open_part(path: Path) -> BinaryIO:
    """A part's file in the staging folder (tests fail its writes)."""
    return path.open("wb")


class _Part:
    """The part being written, and what it will cost once closed."""

    def __init__(self, run: SplitRun, number: int, group: str | None, version: bytes) -> None:
        self.run = run
        self.info = PartInfo(number, run.part_name(number), group_label(group))
        self.path = run.stage / self.info.file
        self._fp = open_part(self.path)
        self.writer = ArchiveWriter(self._fp, path=str(run.folder / self.info.file))
        self.members: set[int] = set()
        self.files_cost = 0
        self.content = 0  # lines after the version line
        self.alone: str | None = None  # the line that may be over the limit on its own
        self.writer.jsonl.keep(version)
        self.info.lines["version"] += 1
        self._fixed = (
            (24 if run.zip64 else 16)  # the JSONL's data descriptor
            + central_entry_size(self.writer.jsonl_name, run.zip64)
            + END_RECORDS_SIZE
            + (_ZIP64_END if run.zip64 else 0)
            + 16  # the deflate stream's end
        )

    def estimate(self) -> int:
        """An upper bound of the part's size if it were closed now."""
        loose = self.writer.jsonl.loose
        return self.writer.size + loose + loose // 8192 + 64 + self._fixed + self.files_cost

    def fits(self, cost: int) -> bool:
        limit = self.run.limit
        if limit is None:
            return True
        extra = cost + cost // 8192
        if self.estimate() + extra <= limit:
            return True
        if self.writer.jsonl.loose:
            self.writer.jsonl.sync()  # exact numbers before cutting
            return self.estimate() + extra <= limit
        return False

    def add(self, raw: bytes, line_type: str, members: list[int], *, block: int = 1) -> None:
        if block == 1:
            self.writer.jsonl.keep(raw)
        else:
            self.writer.jsonl.keep_block(raw, block)
        self.content += block
        for index in members:
            if index not in self.members:
                self.members.add(index)
                self.files_cost += self.run.file_cost(index)

    def close(self) -> PartInfo:
        archive = self.run.archive
        for index in sorted(self.members):
            member = archive.index[index]
            self.writer.copy_member(archive, member)
            self.info.files += 1
            self.info.file_bytes += member.size
        self.info.written = self.writer.close()
        self._fp.flush()
        os.fsync(self._fp.fileno())
        self._fp.close()
        return self.info

    def abandon(self) -> None:
        # After a failed write, closing flushes the rest and fails again (a full disk): the
        # first error is the one to report.
        with contextlib.suppress(OSError):
            self._fp.close()


class SplitRun:
    """One split of ``archive`` into ``folder`` (parts are staged in a hidden folder inside
    it and moved into place only when every part is complete)."""

    def __init__(
        self,
        archive: Archive,
        folder: Path,
        *,
        limit: int | None,
        by: By | None,
        stem: str,
    ) -> None:
        if limit is None and by is None:
            raise UsageError("split needs --max-bytes SIZE (or --target-config) or --by")
        self.archive = archive
        self.folder = folder
        self.limit = limit
        self.by = by
        self.stem = stem
        self.zip64 = limit is None or limit >= _ZIP64_AT
        self.stats = SplitStats()
        self.decoder = LineDecoder()
        self.version = VERSION_LINE
        # Named after this run, so that a later run removes it if this one is killed outright.
        remove_abandoned(folder, STAGE_PREFIX)
        self.stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX + partial_name_owner(), dir=folder))
        self._part: _Part | None = None
        self._group: str | None = None if by is None else _DEFINITIONS
        self._spool = GroupSpool(self.stage) if by is not None else None
        self._referenced = ReferencedFiles(len(archive.index))
        self._number = 0
        self._costs: dict[int, int] = {}

    # --- names and costs -------------------------------------------------------------------
    def part_name(self, number: int) -> str:
        return f"{self.stem}-part-{number:03d}.zip"

    def file_cost(self, index: int) -> int:
        cost = self._costs.get(index)
        if cost is None:
            member = self.archive.index[index]
            raw = self.archive.kind == "zip"
            data = member.compressed_size if raw else member.size
            cost = (
                local_overhead(member.name, streamed=not raw, zip64=self.zip64)
                + data
                + central_entry_size(member.name, self.zip64)
            )
            self._costs[index] = cost
        return cost

    # --- the pass --------------------------------------------------------------------------
    def run_staged(self) -> SplitStats:
        """Write every part into the staging folder; `publish` moves them into place,
        `discard` removes them."""
        try:
            self._read()
            self._flush_groups()
            self._close_part()
            self._count_left_out()
        finally:
            if self._spool is not None:
                self._spool.close()
        return self.stats

    def discard(self) -> None:
        if self._part is not None:
            self._part.abandon()
            self._part = None
        shutil.rmtree(self.stage, ignore_errors=True)

    def _read(self) -> None:
        number = 0
        for block in iter_line_blocks(self.archive.iter_jsonl_blocks()):
            if number == 0 or self.by is not None or not self._block(block):
                batch = block.lines()
                start = int(self._take_version(batch[0])) if number == 0 else 0
                for offset in range(start, len(batch)):
                    raw = batch[offset]
                    if isinstance(raw, LineTooLong):
                        self.stats.too_long += 1
                    else:
                        self._line(raw, number + offset + 1)
                number += len(batch)
            else:
                number += block.text.count(b"\n") + 1 if block.text is not None else 0
        self.stats.lines_read = number

    def _take_version(self, first: bytes | LineTooLong) -> bool:
        if type(first) is bytes:
            envelope = decode_line(first)[0]
            if envelope is not None and envelope.get("type") == "version":
                self.version = first
                return True
        return False

    def _block(self, block: LineBlock) -> bool:
        """A whole batch of post lines added at once when it fits (with the files its lines
        name); False: it needs line by line (it crosses a part boundary, or holds others)."""
        found = post_block(block)
        if found is None:
            return False
        members: list[int] = []
        naming = found.naming_files()
        lines = found.lines() if naming else []
        for index in naming:
            envelope = self.decoder.decode(lines[index])
            line_type, payload = payload_of(envelope) if envelope is not None else ("?", None)
            members += self._files(line_type, payload)
        part = self._current()
        new = {i for i in members if i not in part.members}
        if not part.fits(len(found.text) + 1 + sum(self.file_cost(i) for i in new)):
            return False
        part.add(found.text, "post", members, block=found.count)
        part.info.lines["post"] += found.posts
        part.info.lines["direct_post"] += found.direct_posts
        for index in members:
            self._referenced.add(index)
        return True

    def _line(self, raw: bytes, number: int) -> None:
        envelope = None
        members: list[int] = []
        if raw.startswith((POST_PREFIX, DIRECT_POST_PREFIX)) and not might_have_attachments(raw):
            # A post line naming no file: copied as it is (decoded only to find its group).
            line_type = POST_LINE_TYPES[raw.startswith(DIRECT_POST_PREFIX)]
        else:
            envelope = self.decoder.decode(raw)
            line_type, payload = payload_of(envelope) if envelope is not None else ("?", None)
            members = self._files(line_type, payload)
        if self.by is not None and line_type in POST_LINE_TYPES:
            assert self._spool is not None
            self._spool.add(self._group_of(raw, envelope), raw, number)
            for index in members:
                self._referenced.add(index)
            return
        self._place(raw, line_type, members, number)

    def _files(self, line_type: str, payload: dict[str, Any] | None) -> list[int]:
        if payload is None or self.archive.kind == "jsonl":
            return []
        paths: list[Any]
        if line_type in POST_LINE_TYPES:
            paths = list(post_facts(line_type, payload).paths)
        elif line_type in ("user", "bot"):
            paths = [payload.get("profile_image")]
        elif line_type == "emoji":
            paths = [payload.get("image")]
        else:
            return []
        found: list[int] = []
        for path in paths:
            if isinstance(path, str) and path:
                index = find_file(self.archive, path)
                if index >= 0 and index not in found:
                    found.append(index)
        return found

    def _place(self, raw: bytes, line_type: str, members: list[int], line: int = 0) -> None:
        part = self._current()
        cost = len(raw) + 1 + sum(self.file_cost(i) for i in members if i not in part.members)
        if part.content and not part.fits(cost):
            part = self._next_part()
            cost = len(raw) + 1 + sum(self.file_cost(i) for i in members)
        part.add(raw, line_type, members)
        part.info.lines[line_type if line_type != "?" else "unjudged"] += 1
        for index in members:
            self._referenced.add(index)
        if part.content == 1 and not part.fits(0):
            # Nothing more fits beside this line (`fits` is an upper bound): the part ends
            # here. Whether it is over the limit is known once it is closed (`_close_part`).
            part.alone = (
                f"{_describe(raw, line_type, line)}: {len(raw) + 1:,} bytes of JSON and "
                f"{len(members)} file(s) ({cost - len(raw) - 1:,} bytes)"
            )
            self._close_part()

    # --- parts -----------------------------------------------------------------------------
    def _current(self) -> _Part:
        if self._part is None:
            self._number += 1
            self._part = _Part(self, self._number, self._group, self.version)
        return self._part

    def _next_part(self) -> _Part:
        self._close_part()
        return self._current()

    def _close_part(self) -> None:
        part = self._part
        if part is None:
            return
        info = part.close()
        assert info.written is not None
        size, limit = info.written.size, self.limit
        if limit is not None and size > limit:
            # The real size decides. Only a line alone in its part can get here: a part with
            # several lines was closed before the one that did not fit (`fits` bounds it).
            over = f"the part is {size:,} bytes, over the limit of {limit:,} bytes"
            info.over_limit = (
                f"{part.alone}: {over} with this line alone (a line is never cut)"
                if part.alone is not None
                else f"{over} (a size estimate was wrong: please report this)"
            )
        self.stats.parts.append(info)
        self._part = None

    # --- groups ----------------------------------------------------------------------------
    def _group_of(self, raw: bytes, envelope: dict[str, Any] | None) -> str:
        if envelope is None:
            envelope = self.decoder.decode(raw)
        kind, payload = payload_of(envelope) if envelope is not None else ("", None)
        payload = payload or {}
        direct = kind == "direct_post"
        team = go_lower(str_or_empty(payload.get("team")))
        channel = go_lower(str_or_empty(payload.get("channel")))
        create_at = payload.get("create_at")
        if self.by == "month":
            if type(create_at) is not int:
                return _UNDATED
            try:
                moment = dt.datetime.fromtimestamp(create_at / 1000, dt.UTC)
            except (OverflowError, OSError, ValueError):
                return _UNDATED
            return moment.strftime("%Y-%m")
        if direct:
            return _DIRECT
        return team if self.by == "team" else f"{team}/{channel}"

    def _flush_groups(self) -> None:
        if self._spool is None:
            return
        for group in sorted(self._spool.groups()):
            self._close_part()
            self._group = group
            for number, raw in self._spool.replay(group):
                envelope = None if not might_have_attachments(raw) else self.decoder.decode(raw)
                if envelope is None:
                    direct = raw.startswith(DIRECT_POST_PREFIX)
                    self._place(raw, POST_LINE_TYPES[direct], [], number)
                    continue
                line_type, payload = payload_of(envelope)
                self._place(raw, line_type, self._files(line_type, payload), number)

    # --- the end ---------------------------------------------------------------------------
    def _count_left_out(self) -> None:
        stats = self.stats
        stats.files_left_out, stats.file_bytes_left_out = files_left_out(
            self.archive, self._referenced
        )

    def publish(self) -> None:
        """Move every part into the folder, once all of them are complete."""
        for part in self.stats.parts:
            os.replace(self.stage / part.file, self.folder / part.file)
        shutil.rmtree(self.stage, ignore_errors=True)


def _describe(raw: bytes, line_type: str, line: int) -> str:
    """Which line this is, for the over-limit note: its line number, place and time."""
    where = f"line {line:,}, " if line else ""
    envelope = decode_line(raw)[0]
    payload = payload_of(envelope)[1] if envelope is not None else None
    if payload is None or line_type not in POST_LINE_TYPES:
        return f"{where}a {line_type} line"
    if line_type == "post":
        place = f"{str_or_empty(payload.get('team'))}/{str_or_empty(payload.get('channel'))}"
    else:
        members = payload.get("channel_members") or ()
        place = "the conversation of " + ", ".join(str_or_empty(m) for m in members)
    return f"{where}the {line_type} in {place} created at {payload.get('create_at')}"


def prepare_folder(folder: str | os.PathLike[str], stem: str) -> tuple[Path, list[Path]]:
    """The output folder, created when missing, and the folders this created (outermost
    first: `remove_created` takes them away again when the split fails or is refused).
    Refuses a folder that holds an earlier split."""
    path = Path(folder)
    missing = make_folder(path)
    earlier = sorted(p.name for p in path.glob(f"{stem}-part-*.zip"))
    if (path / "manifest.json").exists() or earlier:
        found = ", ".join(earlier[:3]) or "manifest.json"
        raise OutputError(
            f"{path} already holds a split ({found}): choose an empty folder, or remove them"
        )
    return path, missing
