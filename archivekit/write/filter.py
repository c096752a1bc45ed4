"""`filter`: a smaller archive that still imports — one pass over the JSONL.

Post and direct-post lines (nearly all of an export) are decided the moment they are read:
whether a line is kept depends on the line alone and the selectors (`select.Selection`). A kept
line adds what it needs to bounded sets (team, channel, user and emoji names) and marks the
files it refers to in a bitmap over the input's members. Nothing is kept per post.

Definition lines (teams, channels, users, bots, roles, schemes, emoji, DM channels) come before
the posts that decide whether they are needed, so when the selectors leave places out they wait
in a `LineSpool` (a temporary file) and the kept content lines after them wait in another, in
order. At the end the definitions are resolved — channels of kept posts and their teams, users
the kept lines name and members of kept channels, bot owners, schemes of kept teams and
channels, roles kept users name, emoji kept reactions use — user memberships are pruned to the
kept teams and channels, and everything is written in the input's order. Without place
selectors nothing waits: lines stream straight into the output.

A line that cannot be decoded is kept as it is (the output then carries the input's error),
except one that begins as a direct post (``{"type":"direct_post","direct_post":{``) when the
selectors leave out every direct post: it is left out with them, unread.

The version line is written first (the input's own when it has one). Lines kept unchanged are
written byte-identical; a line is rewritten (from its decoded form) only to prune memberships
or, with ``attachments=False``, to drop attachment references. Files are copied raw, in the
input's member order, once each.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Final, cast

import orjson

from archivekit.check.fast.fastpath import DIRECT_POST_PREFIX, POST_PREFIX
from archivekit.check.files import ReferencedFiles
from archivekit.check.parallel import SETTLED_POSTS
from archivekit.check.rules.context import DEFAULT_CHANNELS
from archivekit.errors import UsageError
from archivekit.gosem.decode import POST_LINE_TYPES, decode_line, str_or_empty
from archivekit.gosem.strings import go_fields, go_lower, members_key, members_text
from archivekit.read import Archive, LineTooLong, iter_line_blocks
from archivekit.write.core import (
    ArchiveWriter,
    LineSpool,
    WrittenArchive,
    copy_files,
    files_left_out,
    find_file,
)
from archivekit.write.lines import (
    ESCAPE as _ESCAPE,
)
from archivekit.write.lines import (
    VERSION_LINE,
    LineDecoder,
    PostBlock,
    PostFacts,
    canonical_refs,
    encode,
    find_all,
    payload_of,
    plain_post,
    post_block,
    post_facts,
    without_attachments,
)
from archivekit.write.select import (
    DEFINITION_TYPES,
    EXPORT_ORDER,
    Members,
    Place,
    Selection,
    by_export_order,
    closest,
)

_TYPE_TAG: Final = {t: i for i, t in enumerate(EXPORT_ORDER)}
# Records of the content spool: lines to write as they are (a run, joined by newlines), a
# rewritten line, or the place of the next waiting definition.
_KEEP, _NEW, _DEFINITION = 0, 1, 2


@dataclass(slots=True)
class FilterStats:
    """What a filter kept and left out."""

    lines_read: int = 0
    kept: Counter[str] = field(default_factory=Counter)  # lines by type
    dropped: Counter[str] = field(default_factory=Counter)
    needed: Counter[str] = field(default_factory=Counter)  # kept only because kept lines need it
    rewritten: Counter[str] = field(default_factory=Counter)
    unjudged: int = 0  # lines kept as they are: undecodable or of an unknown type
    too_long: int = 0  # lines over 16 MiB: left out (the server stops at them anyway)
    version_added: bool = False  # line 1 was not a version line: one was written first
    jsonl_bytes_kept: int = 0
    jsonl_bytes_dropped: int = 0
    files_kept: int = 0
    file_bytes_kept: int = 0
    files_dropped: int = 0
    file_bytes_dropped: int = 0
    files_missing: int = 0  # references kept lines make to files the input does not have

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines_read": self.lines_read,
            "kept": by_export_order(self.kept),
            "dropped": by_export_order(self.dropped),
            "needed": by_export_order(self.needed),
            "rewritten": by_export_order(self.rewritten),
            "unjudged": self.unjudged,
            "too_long": self.too_long,
            "version_added": self.version_added,
            "jsonl_bytes_kept": self.jsonl_bytes_kept,
            "jsonl_bytes_dropped": self.jsonl_bytes_dropped,
            "files_kept": self.files_kept,
            "file_bytes_kept": self.file_bytes_kept,
            "files_dropped": self.files_dropped,
            "file_bytes_dropped": self.file_bytes_dropped,
            "files_missing": self.files_missing,
        }


@dataclass(slots=True)
class _Needs:
    """Names kept lines refer to (lowercased as the server stores them)."""

    teams: set[str] = field(default_factory=set)
    channels: set[Place] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    emoji: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    schemes: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Defined:
    """Names the input defines (for checking the selectors' names)."""

    teams: set[str] = field(default_factory=set)
    channels: set[Place] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    dms: set[Members] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A definition line read back from the spool."""

    line_type: str
    raw: bytes
    envelope: dict[str, Any] | None
    payload: dict[str, Any] | None


@dataclass(slots=True)
class _Resolved:
    """The definitions kept, once every content line has been seen."""

    teams: set[str] = field(default_factory=set)
    channels: set[Place] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    schemes: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    emoji: set[str] = field(default_factory=set)
    selected_users: set[str] = field(default_factory=set)  # kept for themselves, not needed


class FilterRun:
    """One filter pass over ``archive`` into ``writer`` (None: a dry run, nothing written)."""

    def __init__(
        self,
        archive: Archive,
        selection: Selection,
        writer: ArchiveWriter | None,
        *,
        spool_folder: str | os.PathLike[str] | None = None,
    ) -> None:
        self.archive = archive
        self.selection = selection
        self.writer = writer
        self.stats = FilterStats()
        self.decoder = LineDecoder()
        self.needs = _Needs()
        self.defined = _Defined()
        self.referenced = ReferencedFiles(len(archive.index))
        self.wait = selection.narrows_places or not selection.all_definitions
        # Post lines need no decoding at all when every line is kept as it is: only the
        # files they name matter (see `might_have_attachments`).
        self._skim = (
            not self.wait
            and selection.attachments
            and (selection.since is None and selection.until is None)
        )
        self._definitions = LineSpool(spool_folder) if self.wait else None
        self._content = LineSpool(spool_folder) if self.wait and writer is not None else None
        self._waiting = False  # a definition has been deferred: content goes to the spool too
        self._kept_run: list[bytes] = []  # unchanged lines not yet in the content spool
        # With only --team narrowing places: each team's name as a JSON string, to find.
        team_only = selection.team_only
        self._team_tokens = (
            None
            if team_only is None or not selection.no_direct_posts
            else tuple(b'"' + t.encode() + b'"' for t in sorted(team_only))
        )
        self._dropped = [0, 0, 0]
        self._files_checked = archive.kind != "jsonl"
        self._everything: set[str] = set()  # scheme/role/emoji types kept whole

    # --- the pass --------------------------------------------------------------------------
    def run(self) -> FilterStats:
        try:
            self._read()
            self._spool_kept()
            self._check_names()
            if self.wait:
                self._resolve_and_flush()
            self._copy_files()
        finally:
            for spool in (self._definitions, self._content):
                if spool is not None:
                    spool.close()
        return self.stats

    def _read(self) -> None:
        number = 0
        for block in iter_line_blocks(self.archive.iter_jsonl_blocks()):
            if number == 0:
                batch = block.lines()
                first = batch[0]
                start = int(self._version(first if type(first) is bytes else b""))
                self._batch(batch[start:])
                number += len(batch)
                continue
            found = post_block(block) if self._skim else None
            if found is not None and self._skim_block(found):
                number += found.count
                continue
            batch = block.lines()
            if block.text is not None and self._team_tokens and SETTLED_POSTS is not None:
                self._team_block(block.text, batch)
            else:
                self._batch(batch)
            number += len(batch)
        self.stats.lines_read = number
        if number == 0:
            self._version(b"")

    def _team_block(self, text: bytes, lines: list[bytes | LineTooLong]) -> None:
        """`_batch` when only ``--team`` narrows places: the lines of runs that are posts for
        sure (`SETTLED_POSTS`, in C) and hold neither a kept team's name (as a JSON string) nor
        an escape are left out in bulk, counted on the block's text; the others are read."""
        assert SETTLED_POSTS is not None
        assert self._team_tokens
        self._dropped = dropped = [0, 0, 0]  # posts, direct posts, bytes
        hits = [m.start() for m in _ESCAPE.finditer(text)]
        for token in self._team_tokens:
            hits += find_all(text, token)
        ends = list(accumulate(map((1).__add__, map(len, cast("list[bytes]", lines)))))
        read = sorted({bisect_right(ends, at) for at in hits})
        index, end, next_read = 0, len(lines), 0
        while index < end:
            settled = SETTLED_POSTS(lines, index)
            while next_read < len(read) and read[next_read] < index:
                next_read += 1
            start = index
            while start < settled:
                stop = read[next_read] if next_read < len(read) else end
                stop = min(stop, settled)
                if stop > start:  # lines [start, stop): posts to leave out, in bulk
                    first = ends[start - 1] if start else 0
                    size = ends[stop - 1] - first
                    directs = text.count(
                        b"\n" + DIRECT_POST_PREFIX, first - 1 if first else 0, first + size
                    )
                    if not first and text.startswith(DIRECT_POST_PREFIX):
                        directs += 1
                    dropped[0] += stop - start - directs
                    dropped[1] += directs
                    dropped[2] += size
                if stop < settled:  # a line that names the team (or has an escape): read it
                    self._post_line(lines[stop])
                    next_read += 1
                start = stop + 1
            if settled < end:
                self._post_line(lines[settled])
            index = settled + 1
        self._end_batch()

    def _batch(self, lines: list[bytes | LineTooLong]) -> None:
        """Decide about each line, the common cases inline (see `_post_line`). With only
        ``--team`` narrowing places, runs of lines that are posts for sure (`SETTLED_POSTS`, in
        C) are left out without a parse when the team's name is nowhere in them."""
        self._dropped = [0, 0, 0]  # posts, direct posts, bytes
        tokens = self._team_tokens
        if tokens is None or SETTLED_POSTS is None:
            for raw in lines:
                self._post_line(raw)
        else:
            dropped = self._dropped
            index, end = 0, len(lines)
            while index < end:
                settled = SETTLED_POSTS(lines, index)
                for raw in cast("list[bytes]", lines[index:settled]):
                    # A post (or a line Go cannot decode) with no escape: its team is
                    # written plainly, so it is one of ours only if the name is in it.
                    if raw.startswith(DIRECT_POST_PREFIX):
                        dropped[1] += 1
                        dropped[2] += len(raw) + 1
                    elif b"\\u" not in raw and not any(t in raw for t in tokens):
                        dropped[0] += 1
                        dropped[2] += len(raw) + 1
                    else:
                        self._post_line(raw)
                if settled < end:
                    self._post_line(lines[settled])
                index = settled + 1
        self._end_batch()

    def _end_batch(self) -> None:
        self._spool_kept()
        posts, directs, size = self._dropped
        if posts:
            self.stats.dropped["post"] += posts
        if directs:
            self.stats.dropped["direct_post"] += directs
        self.stats.jsonl_bytes_dropped += size

    def _post_line(self, raw: bytes | LineTooLong) -> None:
        """One line. A post or direct post is decided here when the scanner accepts it (then
        orjson reads it exactly as the server) or its place and time read plainly
        (`plain_post`); names as written: the server looks a post's team, channel, author and
        members up exactly. Anything else goes to `_line`."""
        if type(raw) is not bytes:
            self.stats.too_long += 1
            self._dropped[2] += raw.length + 1  # type: ignore[union-attr]
            return
        selection, dropped = self.selection, self._dropped
        direct = raw.startswith(DIRECT_POST_PREFIX)
        if direct and selection.no_direct_posts:
            dropped[1] += 1
            dropped[2] += len(raw) + 1
            return
        if not (direct or (raw.startswith(POST_PREFIX) and not selection.by_author)):
            self._line(raw)
            return
        kind = POST_LINE_TYPES[direct]
        canonical = self.decoder.accepts(raw)
        post = orjson.loads(raw)[kind] if canonical else plain_post(raw, kind)
        keep = None if post is None else self._post_selected(kind, post)
        if keep is False:
            dropped[1 if direct else 0] += 1
            dropped[2] += len(raw) + 1
        elif keep and canonical:
            self._kept_scanned(raw, kind, post)  # type: ignore[arg-type]
        else:
            self._line(raw)  # kept, or undecided: read it in full

    def _post_selected(self, kind: str, post: dict[str, Any]) -> bool | None:
        """Whether the selectors keep a post (None: its place cannot be read plainly)."""
        selection = self.selection
        if kind == "post":
            team, channel = post.get("team"), post.get("channel")
            if type(team) is not str or type(channel) is not str:
                return None
            selected = selection.post_selected((team, channel), "")
        else:
            names = post.get("channel_members")
            if type(names) is not list or not all(type(n) is str for n in names):
                return None
            members = frozenset(names)
            self.defined.dms.add(members)
            selected = selection.direct_selected(members)
        return (
            selected and selection.selects_type(kind) and selection.in_period(post.get("create_at"))
        )

    def _skim_block(self, found: PostBlock) -> bool:
        """A batch of only post and direct-post lines, all kept as they are, in one go: only
        the lines that may name files are decoded. False: the batch needs line by line."""
        selects = self.selection.selects_type
        if (found.posts and not selects("post")) or (
            found.direct_posts and not selects("direct_post")
        ):
            return False
        naming = found.naming_files()
        lines = found.lines() if naming else []
        for index in naming:
            envelope = self.decoder.decode(lines[index])
            line_type, payload = payload_of(envelope) if envelope is not None else ("", None)
            if payload is not None and line_type in POST_LINE_TYPES:
                self._need_files(post_facts(line_type, payload).paths)
        stats = self.stats
        stats.kept["post"] += found.posts
        stats.kept["direct_post"] += found.direct_posts
        stats.jsonl_bytes_kept += len(found.text) + 1
        if self.writer is not None:
            self.writer.jsonl.keep_block(found.text, found.count)
        return True

    def _version(self, raw: bytes) -> bool:
        """Write the version line first: line 1 when it is one, else a canonical one."""
        envelope = decode_line(raw)[0] if raw else None
        if envelope is not None and envelope.get("type") == "version":
            self._emit_now(raw, "version")
            return True
        self.stats.version_added = True
        self._count_kept(VERSION_LINE, "version", True)
        if self.writer is not None:
            self.writer.jsonl.write(VERSION_LINE)
        return False

    def _line(self, raw: bytes) -> None:
        envelope = self.decoder.decode(raw)
        if envelope is None:
            self._unjudged(raw)
            return
        line_type, payload = payload_of(envelope)
        if payload is None:
            self._unjudged(raw)
        elif line_type in POST_LINE_TYPES:
            self._content_line(raw, envelope, line_type, payload)
        elif line_type in DEFINITION_TYPES:
            self._definition_line(raw, line_type, payload)
        else:
            self._unjudged(raw)

    def _unjudged(self, raw: bytes) -> None:
        """A line that cannot be judged (undecodable, unknown type, no payload, a second
        version line): kept as it is, so the output carries the input's error."""
        self.stats.unjudged += 1
        self._emit(raw, "?")

    # --- content lines ---------------------------------------------------------------------
    def _content_line(
        self, raw: bytes, envelope: dict[str, Any], kind: str, payload: dict[str, Any]
    ) -> None:
        """A post line from the exact decoder (anything the scanner declined)."""
        selection = self.selection
        if kind == "post":
            place = (str_or_empty(payload.get("team")), str_or_empty(payload.get("channel")))
            keep = selection.post_selected(place, str_or_empty(payload.get("user")))
        else:
            members = frozenset(str_or_empty(m) for m in payload.get("channel_members") or ())
            self.defined.dms.add(members)
            keep = selection.direct_selected(members)
        create_at = payload.get("create_at")
        if not (keep and selection.selects_type(kind) and selection.in_period(create_at)):
            self._drop(raw, kind)
            return
        self._kept_content(raw, envelope, kind, payload)

    def _kept_scanned(self, raw: bytes, kind: str, post: dict[str, Any]) -> None:
        """A kept line the scanner accepted: it names no file, so only its names are needed
        (already in their stored, lowercase form)."""
        needs = self.needs
        if kind == "post":
            team = post["team"]
            needs.teams.add(team)
            needs.channels.add((team, post["channel"]))
        canonical_refs(kind, post, needs.users, needs.emoji)
        self._emit(raw, kind)

    def _kept_content(
        self, raw: bytes, envelope: dict[str, Any], kind: str, payload: dict[str, Any]
    ) -> None:
        facts = post_facts(kind, payload)
        self._need_post(facts)
        if not self.selection.attachments:
            rewritten = without_attachments(envelope)
            if rewritten is not None:
                self._emit(encode(rewritten), kind, keep=False)
                return
        else:
            self._need_files(facts.paths)
        self._emit(raw, kind)

    def _need_post(self, facts: PostFacts) -> None:
        needs = self.needs
        if facts.kind == "post" and facts.team:
            team = go_lower(facts.team)
            needs.teams.add(team)
            if facts.channel:
                needs.channels.add((team, go_lower(facts.channel)))
        needs.users.update(go_lower(u) for u in facts.users)
        needs.emoji.update(facts.emoji)

    def _need_files(self, paths: list[str]) -> None:
        for path in paths:
            self._need_file(path)

    def _need_file(self, path: str) -> None:
        if not self._files_checked:
            return
        found = find_file(self.archive, path)
        if found < 0:
            self.stats.files_missing += 1
        else:
            self.referenced.add(found)

    # --- definition lines ------------------------------------------------------------------
    def _definition_line(self, raw: bytes, line_type: str, payload: dict[str, Any]) -> None:
        self._define(line_type, payload)
        if not self.wait:
            if self.selection.selects_type(line_type):
                self._need_definition_files(line_type, payload)
                self._emit(raw, line_type)
            else:
                self._drop(raw, line_type)
            return
        assert self._definitions is not None
        self._definitions.add(raw, _TYPE_TAG[line_type])
        self._waiting = True
        if self._content is not None:
            self._spool_kept()
            self._content.add(b"", _DEFINITION)

    def _define(self, line_type: str, payload: dict[str, Any]) -> None:
        defined = self.defined
        if line_type == "team":
            defined.teams.add(go_lower(str_or_empty(payload.get("name"))))
        elif line_type == "channel":
            defined.channels.add(_place(payload))
        elif line_type in ("user", "bot"):
            defined.users.add(go_lower(str_or_empty(payload.get("username"))))
        elif line_type == "direct_channel":
            defined.dms.add(members_key(n for n in _direct_members(payload) if n))

    def _need_definition_files(self, line_type: str, payload: dict[str, Any]) -> None:
        if line_type in ("user", "bot"):
            path = payload.get("profile_image")
        elif line_type == "emoji":
            path = payload.get("image")
        else:
            return
        if isinstance(path, str) and path:
            self._need_file(path)

    # --- output plumbing -------------------------------------------------------------------
    def _emit(self, line: bytes, line_type: str, *, keep: bool = True) -> None:
        """A kept line, in input order: written now, or spooled behind waiting definitions
        (unchanged lines in runs, one spool record per run)."""
        if self._waiting and self._content is not None:
            self._count_kept(line, line_type, keep)
            if keep:
                self._kept_run.append(line)
            else:
                self._spool_kept()
                self._content.add(line, _NEW)
            return
        self._emit_now(line, line_type, keep=keep)

    def _spool_kept(self) -> None:
        if self._kept_run and self._content is not None:
            self._content.add(b"\n".join(self._kept_run), _KEEP)
            self._kept_run = []

    def _emit_now(self, line: bytes, line_type: str, *, keep: bool = True) -> None:
        self._count_kept(line, line_type, keep)
        if self.writer is not None:
            if keep:
                self.writer.jsonl.keep(line)
            else:
                self.writer.jsonl.write(line)

    def _count_kept(self, line: bytes, line_type: str, keep: bool) -> None:
        if line_type != "?":
            self.stats.kept[line_type] += 1
        if not keep:
            self.stats.rewritten[line_type] += 1
        self.stats.jsonl_bytes_kept += len(line) + 1

    def _drop(self, raw: bytes, line_type: str) -> None:
        self.stats.dropped[line_type] += 1
        self.stats.jsonl_bytes_dropped += len(raw) + 1

    # --- selector names --------------------------------------------------------------------
    def _check_names(self) -> None:
        """Every name a selector uses must be in the archive (exit 2 with the closest ones)."""
        defined = self.defined
        known = {
            "team": defined.teams,
            "channel": {f"{t}/{c}" for t, c in defined.channels},
            "user": defined.users,
            "dm": {members_text(m) for m in defined.dms},
        }
        problems = []
        for kind, names in self.selection.named().items():
            for name in sorted(names - known[kind]):
                near = closest(name, known[kind])
                hint = f"; closest: {', '.join(near)}" if near else f"; the archive has no {kind}s"
                problems.append(f"no {kind} {name!r} in the archive{hint}")
        if problems:
            raise UsageError("; ".join(problems))

    # --- resolving waiting definitions -----------------------------------------------------
    def _replay_definitions(self) -> Iterator[_Waiting]:
        assert self._definitions is not None
        for tag, raw in self._definitions.replay():
            envelope = decode_line(raw)[0]
            payload = payload_of(envelope)[1] if envelope is not None else None
            yield _Waiting(EXPORT_ORDER[tag], raw, envelope, payload)

    def _resolve(self) -> _Resolved:
        selection, needs = self.selection, self.needs
        resolved = _Resolved()
        team_schemes: dict[str, str] = {}
        channel_schemes: dict[Place, str] = {}
        channels: set[Place] = set()
        bot_owners: dict[str, str] = {}
        # 1. What definitions say about each other; DM channels decide on their own.
        for waiting in self._replay_definitions():
            line_type, payload = waiting.line_type, waiting.payload
            if payload is None:
                continue
            if line_type == "team":
                scheme = payload.get("scheme")
                if isinstance(scheme, str) and scheme:
                    team_schemes[go_lower(str_or_empty(payload.get("name")))] = scheme
            elif line_type == "channel":
                place = _place(payload)
                channels.add(place)
                scheme = payload.get("scheme")
                if isinstance(scheme, str) and scheme:
                    channel_schemes[place] = scheme
            elif line_type == "bot":
                owner = payload.get("owner")
                if isinstance(owner, str) and owner:
                    bot_owners[go_lower(str_or_empty(payload.get("username")))] = go_lower(owner)
            elif line_type == "direct_channel" and self._direct_kept(payload):
                needs.users.update(go_lower(m) for m in _direct_members(payload))
        # 2. Places: selected ones and those kept posts are in, with their teams.
        if selection.selects_type("channel"):
            resolved.channels = {p for p in channels if selection.channel_selected(p)}
        resolved.channels |= needs.channels
        if selection.selects_type("team"):
            resolved.teams = {t for t in self.defined.teams if selection.team_selected(t)}
        resolved.teams |= needs.teams | {team for team, _ in resolved.channels}
        # 3. Bots, then their owners; then users (named, needed, or members of kept places).
        for bot, owner in bot_owners.items():
            if bot in needs.users or (
                selection.selects_type("bot") and selection.user_selected(bot)
            ):
                needs.users.add(owner)
        for waiting in self._replay_definitions():
            if waiting.payload is not None and waiting.line_type in ("user", "bot"):
                self._resolve_user(waiting.line_type, waiting.payload, resolved)
        # 4. Schemes of kept places, roles kept users name, emoji kept reactions use.
        resolved.schemes = {s for t, s in team_schemes.items() if t in resolved.teams}
        resolved.schemes |= {s for p, s in channel_schemes.items() if p in resolved.channels}
        resolved.roles = needs.roles
        resolved.emoji = needs.emoji
        if not selection.positive:
            self._everything = {k for k in ("scheme", "role", "emoji") if selection.selects_type(k)}
        return resolved

    def _direct_kept(self, payload: dict[str, Any]) -> bool:
        return self.selection.selects_type("direct_channel") and self.selection.direct_selected(
            members_key(n for n in _direct_members(payload) if n)
        )

    def _resolve_user(self, line_type: str, payload: dict[str, Any], resolved: _Resolved) -> None:
        name = go_lower(str_or_empty(payload.get("username")))
        if self.selection.selects_type(line_type) and self._user_in_scope(
            line_type, name, payload, resolved
        ):
            resolved.selected_users.add(name)
        elif name not in self.needs.users:
            return
        resolved.users.add(name)
        if line_type == "user":
            self._need_roles(payload, resolved)

    def _user_in_scope(
        self, line_type: str, name: str, payload: dict[str, Any], resolved: _Resolved
    ) -> bool:
        """A user or bot is selected for itself: named, or (users) a member of a selected
        team or a kept channel; with no place selector, also a user of no team, and bots."""
        selection = self.selection
        if selection.user_excluded(name):
            return False
        if selection.user_named(name):
            return True
        teams = [t for t in payload.get("teams") or () if isinstance(t, dict)]
        if line_type == "bot" or not teams:
            return not selection.positive
        for membership in teams:
            team = go_lower(str_or_empty(membership.get("name")))
            if selection.team_in_scope(team):
                return True
            for channel in membership.get("channels") or ():
                if isinstance(channel, dict):
                    place = (team, go_lower(str_or_empty(channel.get("name"))))
                    if place in resolved.channels:
                        return True
        return False

    def _need_roles(self, payload: dict[str, Any], resolved: _Resolved) -> None:
        roles = self.needs.roles
        roles.update(go_fields(str_or_empty(payload.get("roles"))))
        for membership in payload.get("teams") or ():
            if not isinstance(membership, dict):
                continue
            team = go_lower(str_or_empty(membership.get("name")))
            if team not in resolved.teams:
                continue
            roles.update(go_fields(str_or_empty(membership.get("roles"))))
            for channel in membership.get("channels") or ():
                if isinstance(channel, dict):
                    roles.update(go_fields(str_or_empty(channel.get("roles"))))

    def _resolve_and_flush(self) -> None:
        resolved = self._resolve()
        definitions = self._replay_definitions()
        if self._content is None:  # dry run: only count
            for waiting in definitions:
                self._decide_definition(waiting, resolved, write=False)
            return
        for tag, line in self._content.replay():
            if tag == _DEFINITION:
                self._decide_definition(next(definitions), resolved, write=True)
            elif tag == _KEEP:
                if self.writer is not None:
                    self.writer.jsonl.keep_block(line, line.count(b"\n") + 1)
            else:
                self._write(line, keep=False)

    def _write(self, line: bytes, *, keep: bool) -> None:
        if self.writer is not None:
            if keep:
                self.writer.jsonl.keep(line)
            else:
                self.writer.jsonl.write(line)

    def _decide_definition(self, waiting: _Waiting, resolved: _Resolved, *, write: bool) -> None:
        line_type, raw, payload = waiting.line_type, waiting.raw, waiting.payload
        keep, needed = self._definition_kept(line_type, payload, resolved)
        if not keep or payload is None:
            self._drop(raw, line_type)
            return
        if needed:
            self.stats.needed[line_type] += 1
        self._need_definition_files(line_type, payload)
        line, unchanged = raw, True
        if line_type == "user" and waiting.envelope is not None:
            pruned = _pruned_memberships(payload, resolved)
            if pruned is not None:
                payload["teams"] = pruned
                line, unchanged = encode(waiting.envelope), False
        self._count_kept(line, line_type, unchanged)
        if write:
            self._write(line, keep=unchanged)

    def _definition_kept(
        self, line_type: str, payload: dict[str, Any] | None, resolved: _Resolved
    ) -> tuple[bool, bool]:
        """(kept, kept only because a kept line needs it)."""
        if payload is None:
            return False, False
        selection = self.selection
        selected = selection.selects_type(line_type)
        if line_type == "team":
            name = go_lower(str_or_empty(payload.get("name")))
            return name in resolved.teams, not (selected and selection.team_selected(name))
        if line_type == "channel":
            place = _place(payload)
            return place in resolved.channels, not (selected and selection.channel_selected(place))
        if line_type in ("user", "bot"):
            name = go_lower(str_or_empty(payload.get("username")))
            return name in resolved.users, name not in resolved.selected_users
        if line_type == "direct_channel":
            return self._direct_kept(payload), False
        name = str_or_empty(payload.get("name"))
        kept_names = {"scheme": resolved.schemes, "role": resolved.roles, "emoji": resolved.emoji}
        if line_type in self._everything:
            return True, False
        return name in kept_names[line_type], True

    # --- files -----------------------------------------------------------------------------
    def _copy_files(self) -> None:
        stats = self.stats
        stats.files_kept, stats.file_bytes_kept = copy_files(
            self.archive, self.referenced, self.writer
        )
        stats.files_dropped, stats.file_bytes_dropped = files_left_out(
            self.archive, self.referenced
        )


def _place(payload: dict[str, Any]) -> Place:
    return go_lower(str_or_empty(payload.get("team"))), go_lower(str_or_empty(payload.get("name")))


def _direct_members(payload: dict[str, Any]) -> list[str]:
    participants = payload.get("participants")
    if participants is not None:
        return [
            str_or_empty((p or {}).get("username")) for p in participants if isinstance(p, dict)
        ]
    return [str_or_empty(m) for m in payload.get("members") or ()]


def _pruned_memberships(
    payload: dict[str, Any], resolved: _Resolved
) -> list[dict[str, Any]] | None:
    """The user's team memberships limited to kept teams and channels (channels every team
    has, town-square and off-topic, stay with their team), or None when nothing changes."""
    teams = payload.get("teams")
    if not teams:
        return None
    kept: list[dict[str, Any]] = []
    changed = False
    for membership in teams:
        team = go_lower(str_or_empty(membership.get("name")))
        if team not in resolved.teams:
            changed = True
            continue
        channels = membership.get("channels")
        if channels:
            staying = [
                c
                for c in channels
                if (name := go_lower(str_or_empty(c.get("name")))) in DEFAULT_CHANNELS
                or (team, name) in resolved.channels
            ]
            if len(staying) != len(channels):
                membership = {**membership, "channels": staying}
                changed = True
        kept.append(membership)
    return kept if changed else None


def filter_into(
    archive: Archive,
    selection: Selection,
    writer: ArchiveWriter | None,
    *,
    spool_folder: str | os.PathLike[str] | None = None,
) -> FilterStats:
    """Filter ``archive`` into ``writer`` (None: count only). Raises `UsageError` for
    selector names the archive does not have (before anything is complete)."""
    return FilterRun(archive, selection, writer, spool_folder=spool_folder).run()


__all__ = ["FilterRun", "FilterStats", "WrittenArchive", "filter_into"]
