"""One side of a reconciliation: a streaming pass over one archive (the imported SOURCE or the
TARGET exported afterwards) that keeps what can be compared in bounded memory.

Kept in memory, bounded by teams, channels, DMs/GMs and users: their definitions (line, the
fields reconcile compares). Spooled to disk (`archivekit.report.spool`, 24 bytes each, never
the message): one identity record per post, reply, reaction, attachment and membership —
with where it is and who wrote, reacted or is the member (a file: its size), from which the
counts per channel, team, DM/GM and user are made — keyed on what the importer itself uses
for identity (reference §6):

- post: (team, channel, ``create_at``, ``message``); direct post: (member set, ``create_at``,
  ``message``) — names lowercased as the server stores them;
- reply: (its post's identity, ``create_at``, ``message``), with ``create_at`` clamped to the
  post's as the importer clamps a reply older than its post (the export then holds the
  clamped value);
- reaction: (the post's or reply's identity, user, emoji name);
- attachment: (the post's or reply's identity, file name) plus a fingerprint of its size
  (paths change on export: the name is the last path element, which the server keeps).
  Both sides count attachments alike: in an archive that has files, one whose file is not
  there is left out and counted in ``files_absent`` (SOURCE: never imported, nothing to look
  for; TARGET: the file did not arrive, so SOURCE's attachment is missing — and not also
  extra); in an archive without files (an export made without ``--attachments``) every
  attachment is kept, its size unknown, and files are matched by name alone;
- team membership: (team, user); channel membership: (team, channel, user).

Runs of post and direct_post lines are read in C when it is built
(`archivekit/check/fast/_report.c`, `Records`): the same records in the same order, and the
places and users they name registered here in the order the Python code meets them
(`SideReader.take_native`); any line it does not take is read here.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from archivekit.check.duplicates import post_identity
from archivekit.check.fast import report_native
from archivekit.gosem.paths import resolve
from archivekit.gosem.strings import go_fields, go_lower, members_key, members_text
from archivekit.read import (
    BLOCK_SIZE,
    Archive,
    LineTooLong,
    ReadLimits,
    iter_line_batches,
    open_archive,
    rechunk,
)
from archivekit.read.records import decode_plain
from archivekit.report.spool import KIND_SHIFT, Discard, Sink, Spool

Role = Literal["source", "target"]
# Identity: parts -> 64-bit int; the same function for both sides of one run (they are hashed
# in this process or in forked children, see `archivekit.report.reconcile`).
Identity = Callable[..., int]

POST, DIRECT_POST, REPLY, REACTION, FILE, TEAM_MEMBER, CHANNEL_MEMBER = range(1, 8)
KIND_NAMES = {
    POST: "post",
    DIRECT_POST: "direct_post",
    REPLY: "reply",
    REACTION: "reaction",
    FILE: "attachment",
    TEAM_MEMBER: "team_membership",
    CHANNEL_MEMBER: "channel_membership",
}
UNKNOWN_SIZE = 0xFFFFFFFF  # an attachment of an archive without files
NO_USER = 0xFFFFFFFF  # a post or reply without a username


@dataclass(slots=True)
class UserInfo:
    line: int
    kind: str  # "user" or "bot"
    email: str | None
    roles: frozenset[str] | None
    deactivated: bool


@dataclass(slots=True)
class ChannelInfo:
    line: int
    archived: bool
    type: str | None


@dataclass(slots=True)
class Side:
    """What one pass over one archive keeps (see the module docstring)."""

    path: str
    role: Role
    lines: int = 0
    has_files: bool = False  # any member under data/ (an export made with attachments)
    # Attachments whose file is absent are left out (counted in files_absent): always on a
    # SOURCE zip (the server could not import them, whatever else the zip holds), on a TARGET
    # only when it has files (one exported without attachments has none, and keeps them).
    drops_absent: bool = False
    teams: dict[str, int] = field(default_factory=dict)  # name -> defining line
    channels: dict[tuple[str, str], ChannelInfo] = field(default_factory=dict)
    directs: dict[str, int] = field(default_factory=dict)  # members "a,b" -> first line
    users: dict[str, UserInfo] = field(default_factory=dict)
    # Ids used in spooled records: place id -> (team, channel) or ("", members) or
    # (team, "") for a team's memberships; user id -> name.
    places: list[tuple[str, str]] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    not_importable: int = 0  # post lines without the fields the importer needs
    files_absent: int = 0  # attachments left out: the archive has files, but not theirs
    # User id -> attachments of their posts and replies (a file's record holds its size, not
    # its author: counted here, one int per user).
    files_by_user: dict[int, int] = field(default_factory=dict)
    records: int = 0
    memory: Any = None  # the identity records when they never spilled to disk (numpy array)


# The C reader of post and direct_post lines, or None: then every line is read in Python.
NATIVE_RECORDS = report_native.RECORDS


class SideReader:
    """Turns the decoded lines of one archive into a `Side` and spooled identity records."""

    def __init__(
        self,
        side: Side,
        spool: Sink,
        size_of: Callable[[str], int | None],
        identity: Identity = post_identity,
    ) -> None:
        self.side = side
        self.spool = spool
        self.size_of = size_of
        self.identity = identity
        self._place_ids: dict[tuple[str, str], int] = {}
        self._user_ids: dict[str, int] = {}
        self._lowered: dict[str, str] = {}
        self._members: dict[tuple[Any, ...], str] = {}
        # Describing (a second pass over a few lines): identity -> what it is, in words.
        self.notes: dict[int, str] | None = None

    def place(self, key: tuple[str, str]) -> int:
        found = self._place_ids.get(key)
        if found is None:
            found = self._place_ids[key] = len(self.side.places)
            self.side.places.append(key)
        return found

    def user(self, name: str) -> int:
        found = self._user_ids.get(name)
        if found is None:
            found = self._user_ids[name] = len(self.side.people)
            self.side.people.append(name)
        return found

    def low(self, name: str) -> str:
        """`go_lower`, remembered (the same few names come back on every line)."""
        found = self._lowered.get(name)
        if found is None:
            found = self._lowered[name] = go_lower(name)
        return found

    def members(self, names: Any) -> str | None:
        """`direct_key`, remembered by the list as written."""
        # (Checked before the cache: a member that is a list or an object cannot be hashed.)
        if type(names) is not list or not all(type(n) is str for n in names):
            return None
        written = tuple(names)
        found = self._members.get(written)
        if found is None:
            found = direct_key(names)
            if found is not None:
                self._members[written] = found
        return found

    def author(self, name: Any) -> int:
        return self.user(self.low(name)) if type(name) is str else NO_USER

    def line(self, number: int, record: dict[str, Any]) -> None:
        kind = record.get("type")
        body = record.get(kind) if isinstance(kind, str) else None
        if type(body) is not dict:
            return
        if kind == "post":
            self._post(number, body)
        elif kind == "direct_post":
            self._direct_post(number, body)
        elif kind == "user" or kind == "bot":
            self._user(number, kind, body)
        elif kind == "channel":
            team, name = body.get("team"), body.get("name")
            if type(team) is str and type(name) is str:
                key = (go_lower(team), go_lower(name))
                deleted = body.get("deleted_at")
                kind_of = body.get("type")
                self.side.channels[key] = ChannelInfo(
                    number,
                    type(deleted) is int and deleted > 0,
                    kind_of if type(kind_of) is str else None,
                )
                self.place(key)
        elif kind == "team":
            name = body.get("name")
            if type(name) is str:
                self.side.teams[go_lower(name)] = number
        elif kind == "direct_channel":
            participants = body.get("participants")
            listed: Any
            if type(participants) is list:
                listed = [p.get("username") if type(p) is dict else None for p in participants]
            else:
                listed = body.get("members")
            members = direct_key(listed)
            if members is not None:
                self.side.directs.setdefault(members, number)
                self.place(("", members))

    def _post(self, number: int, post: dict[str, Any]) -> None:
        team, channel = post.get("team"), post.get("channel")
        at, message = post.get("create_at"), post.get("message")
        if not (type(team) is str and type(channel) is str and type(at) is int) or (
            type(message) is not str
        ):
            self.side.not_importable += 1
            return
        team, channel = self.low(team), self.low(channel)
        place = self.place((team, channel))
        digest = self.identity("post", team, channel, at, message)
        self.spool.add(digest, POST, number, place, self.author(post.get("user")))
        if self.notes is not None:
            self.notes[digest] = f"post in {team}/{channel} at {at}: {excerpt(message)}"
        self._children(number, post, digest, at, place)

    def _direct_post(self, number: int, post: dict[str, Any]) -> None:
        key = self.members(post.get("channel_members"))
        at, message = post.get("create_at"), post.get("message")
        if key is None or type(at) is not int or type(message) is not str:
            self.side.not_importable += 1
            return
        self.side.directs.setdefault(key, number)
        place = self.place(("", key))
        digest = self.identity("direct_post", key, at, message)
        self.spool.add(digest, DIRECT_POST, number, place, self.author(post.get("user")))
        if self.notes is not None:
            self.notes[digest] = f"direct post of {key} at {at}: {excerpt(message)}"
        self._children(number, post, digest, at, place)

    def _children(
        self, number: int, post: dict[str, Any], digest: int, at: int, place: int
    ) -> None:
        if "reactions" in post:
            self._reactions(number, post["reactions"], digest, place)
        if "attachments" in post:
            self._files(number, post["attachments"], digest, place, post.get("user"))
        replies = post.get("replies")
        if not replies or type(replies) is not list:
            return
        identity, add = self.identity, self.spool.add
        for reply in replies:
            if type(reply) is not dict:
                continue
            reply_at, message = reply.get("create_at"), reply.get("message")
            if type(reply_at) is not int or type(message) is not str:
                continue
            # The importer stores a reply older than its post at the post's time.
            reply_digest = identity("reply", digest, max(reply_at, at), message)
            add(reply_digest, REPLY, number, place, self.author(reply.get("user")))
            if self.notes is not None:
                self.notes[reply_digest] = f"reply at {reply_at}: {excerpt(message)}"
            if "reactions" in reply:
                self._reactions(number, reply["reactions"], reply_digest, place)
            if "attachments" in reply:
                self._files(number, reply["attachments"], reply_digest, place, reply.get("user"))

    def _reactions(self, number: int, reactions: Any, parent: int, place: int) -> None:
        if type(reactions) is not list:
            return
        for reaction in reactions:
            if type(reaction) is not dict:
                continue
            user, emoji = reaction.get("user"), reaction.get("emoji_name")
            if type(user) is str and type(emoji) is str:
                name = self.low(user)
                digest = self.identity("reaction", parent, name, emoji)
                self.spool.add(digest, REACTION, number, place, self.user(name))
                if self.notes is not None:
                    self.notes[digest] = f"reaction :{emoji}: by {name}"

    def _files(self, number: int, attachments: Any, parent: int, place: int, author: Any) -> None:
        if type(attachments) is not list:
            return
        by_user = self.side.files_by_user
        for attachment in attachments:
            path = attachment.get("path") if type(attachment) is dict else None
            if type(path) is not str or not path:
                continue
            key = resolve(path)
            size = self.size_of(key) if key is not None else None
            if size is None:
                if self.side.drops_absent:  # not counted, on either side (module docstring)
                    self.side.files_absent += 1
                    continue
                fingerprint = UNKNOWN_SIZE
            else:
                fingerprint = size & 0xFFFFFFFF
            name = unicodedata.normalize("NFC", path.rpartition("/")[2])
            digest = self.identity("attachment", parent, name)
            self.spool.add(digest, FILE, number, place, fingerprint)
            if type(author) is str:
                user = self.author(author)
                by_user[user] = by_user.get(user, 0) + 1
            if self.notes is not None:
                sized = "size unknown" if size is None else f"{size:,} bytes"
                self.notes[digest] = f"file {name!r} ({sized})"

    def take_native(self, native: Any) -> None:
        """Register the places and users the C reader (`NATIVE_RECORDS`) met first in the lines
        it read since the last call, in the order met (as `line` would have), and spool its
        records of those lines with their ids."""
        places, direct_lines, users = native.new_names()
        place_ids = []
        for key, direct_line in zip(places, direct_lines, strict=True):
            if direct_line is not None:  # a DM/GM, met first on that line
                self.side.directs.setdefault(key[1], direct_line)
            place_ids.append(self.place(key))
        user_ids = [self.user(name) for name in users]
        hashes, tags, place_column, extras, absent = native.take(place_ids, user_ids)
        self.spool.add_columns(hashes, tags, place_column, extras)
        self.side.files_absent += absent
        self._files_by_author(tags, extras)

    def _files_by_author(self, tags: Any, extras: Any) -> None:
        """Count the C reader's attachments by author, as `_files` does: records come in
        SideReader's order, each file after the post or reply that carries it (and that
        record's `extra` is its author)."""
        import numpy as np

        kinds = np.frombuffer(tags, dtype=np.uint64) >> np.uint64(KIND_SHIFT)
        files = kinds == FILE
        if not files.any():
            return
        users = np.frombuffer(extras, dtype=np.uint32)
        owner = (kinds == POST) | (kinds == DIRECT_POST) | (kinds == REPLY)
        # The last owner at or before each record.
        last = np.maximum.accumulate(np.where(owner, np.arange(len(kinds)), 0))
        authors = users[last[files]]
        found, counts = np.unique(authors[authors != NO_USER], return_counts=True)
        by_user = self.side.files_by_user
        for user, count in zip(found.tolist(), counts.tolist(), strict=True):
            by_user[user] = by_user.get(user, 0) + count

    def _user(self, number: int, kind: str, body: dict[str, Any]) -> None:
        username = body.get("username")
        if type(username) is not str:
            return
        name = go_lower(username)
        email, roles, delete_at = body.get("email"), body.get("roles"), body.get("delete_at")
        self.side.users[name] = UserInfo(
            number,
            kind,
            go_lower(email) if type(email) is str else None,
            frozenset(go_fields(roles)) if type(roles) is str else None,
            type(delete_at) is int and delete_at > 0,
        )
        self.user(name)
        for team in body.get("teams") or ():
            if type(team) is not dict or type(team.get("name")) is not str:
                continue
            team_name = go_lower(team["name"])
            digest = self.identity("team_member", team_name, name)
            user_id = self.user(name)
            self.spool.add(digest, TEAM_MEMBER, number, self.place((team_name, "")), user_id)
            if self.notes is not None:
                self.notes[digest] = f"{name} in team {team_name}"
            for entry in team.get("channels") or ():
                if type(entry) is dict and type(entry.get("name")) is str:
                    channel = go_lower(entry["name"])
                    digest = self.identity("channel_member", team_name, channel, name)
                    place = self.place((team_name, channel))
                    self.spool.add(digest, CHANNEL_MEMBER, number, place, user_id)
                    if self.notes is not None:
                        self.notes[digest] = f"{name} in channel {team_name}/{channel}"


def excerpt(message: str, width: int = 60) -> str:
    flat = " ".join(message.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")


def direct_key(names: Any) -> str | None:
    """A DM/GM's key (`members_key`) as text: its members sorted and joined by ","; None when
    `names` is not a non-empty list of strings."""
    if type(names) is not list or not names or not all(type(n) is str for n in names):
        return None
    return members_text(members_key(names))


class SidePass:
    """One archive's side read from batches of its raw lines, in order (`read_batch`), by
    whoever reads the JSONL: `read_side`'s own pass, or the report page's pass, which
    validates the same batches (`archivekit.triage`: the archive is read once). `finish` ends
    it. `archive` stays open until then (attachment sizes)."""

    def __init__(
        self, archive: Archive, role: Role, spool_dir: str, identity: Identity = post_identity
    ) -> None:
        side = self.side = Side(archive.path, role)
        self._spool = Spool(spool_dir)
        # From the member index: no object per member (an export may hold millions).
        side.has_files = archive.index.file_totals()[0] > 0
        side.drops_absent = side.has_files or (role == "source" and archive.kind != "jsonl")

        def size_of(key: str) -> int | None:
            member = archive.lookup(key)
            return None if member is None or member.is_dir else member.size

        self._reader = SideReader(side, self._spool, size_of, identity)
        # C reads runs of post lines when it is built and the identity is the standard one.
        self._native = None
        if NATIVE_RECORDS is not None and identity is post_identity:
            self._native = NATIVE_RECORDS(archive.index.table, side.drops_absent)

    def read_batch(self, first: int, batch: list[bytes | LineTooLong]) -> None:
        """Read `batch`, whose first line is line number `first` (batches come in order)."""
        native, reader = self._native, self._reader
        start, end = 0, len(batch)
        while start < end:
            if native is not None:
                stop = native.read(batch, start, first)
                if stop > start:
                    reader.take_native(native)
                start = stop
                if start == end:
                    break
            raw = batch[start]
            if not isinstance(raw, LineTooLong):
                record = decode_plain(raw)
                if type(record) is dict:
                    reader.line(first + start, record)
            start += 1

    def finish(self, lines: int) -> Side:
        """The side of a JSONL of `lines` lines, its records spooled (or in memory)."""
        side = self.side
        side.memory = self._spool.close()
        side.lines, side.records = lines, self._spool.records
        return side


def read_side(
    path: str,
    role: Role,
    spool_dir: str,
    *,
    block_size: int = BLOCK_SIZE,
    read_limits: ReadLimits | None = None,
    identity: Identity = post_identity,
) -> Side:
    """Stream one archive: its `Side`, and its identity records spooled under `spool_dir`."""
    with open_archive(path, limits=read_limits) as archive:
        reading = SidePass(archive, role, spool_dir, identity)
        number = 0  # lines before this batch
        blocks = rechunk(archive.iter_jsonl_blocks(block_size), block_size)
        for batch in iter_line_batches(blocks):
            reading.read_batch(number + 1, batch)
            number += len(batch)
    side = reading.finish(number)
    side.path = path
    return side


def spool_path(root: str, role: Role) -> str:
    return os.path.join(root, role)


def describe(
    path: str,
    lines: set[int],
    *,
    block_size: int = BLOCK_SIZE,
    read_limits: ReadLimits | None = None,
    identity: Identity = post_identity,
) -> dict[int, str]:
    """Identity -> words, for every item on the given lines of a source archive (a second
    pass that decodes only those lines: what reconcile lists as missing)."""
    with open_archive(path, limits=read_limits) as archive:

        def size_of(key: str) -> int | None:
            member = archive.lookup(key)
            return None if member is None or member.is_dir else member.size

        reader = SideReader(Side(path, "source"), Discard(), size_of, identity)
        notes: dict[int, str] = {}
        reader.notes = notes
        number = 0
        blocks = rechunk(archive.iter_jsonl_blocks(block_size), block_size)
        for batch in iter_line_batches(blocks):
            for raw in batch:
                number += 1
                if number in lines and not isinstance(raw, LineTooLong):
                    record = decode_plain(raw)
                    if type(record) is dict:
                        reader.line(number, record)
    return notes
