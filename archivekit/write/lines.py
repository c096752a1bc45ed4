"""Reading lines for the writers: decoded exactly as the server decodes them, fast for posts.

A writer decides about every line (keep it, drop it, rewrite it) from what the server would
see in it, so lines are decoded with Go's semantics (`archivekit.gosem.decode.decode_line`:
case-insensitive keys, repeated keys, strict types). That exact decoder costs ~6 µs a line;
post and direct-post lines — nearly all of an export — first go through the validator's C
scanner, which in ~1.5 µs accepts only lines written canonically (exact lowercase keys, no
repeats, right types, every reference known, no file): for those, plain ``orjson.loads`` gives
exactly the server's view. Everything else takes the exact decoder.

`PostFacts` is what the writers need from a post or direct-post line: its place, author, time,
every user and emoji name it refers to and its attachment paths.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Final, cast

import orjson

from archivekit.check.fast.fastpath import (
    DIRECT_POST_KEYS,
    DIRECT_POST_PREFIX,
    POST_KEYS,
    POST_PREFIX,
    scan,
)
from archivekit.check.rules.context import DEFAULT_CHANNELS
from archivekit.gosem.decode import POST_LINE_TYPES, decode_line, str_or_none
from archivekit.gosem.strings import go_lower
from archivekit.read import LineBlock

Envelope = dict[str, Any]
# The scanner also applies the server's message-length and post-type rules; a writer only
# needs the decoding, so those never make it decline (pass these two to `scan`).
NO_SIZE_LIMIT: Final = 1 << 62
# The version line a writer puts first in a new archive that needs one: the only version the
# server imports, written compactly as the exports write it.
VERSION_LINE: Final = b'{"type":"version","version":1}'


def accept_any_type(_: str) -> bool:
    return True


class LineDecoder:
    """Decodes lines; remembers the teams, channels and users defined so far (the scanner
    accepts a post only when its references resolve)."""

    def __init__(self, default_channels: tuple[str, ...] = DEFAULT_CHANNELS) -> None:
        self.users: dict[str, None] = {}
        self.teams: dict[str, None] = {}
        self.channels: dict[tuple[str, str], None] = {}
        self.schemes: dict[str, None] = {}
        self._default_channels = default_channels

    def accepts(self, raw: bytes) -> bool:
        """Whether the scanner accepts this post or direct-post line: written canonically, so
        that ``orjson.loads`` gives exactly the server's view of it (and it names no file)."""
        direct = raw.startswith(DIRECT_POST_PREFIX)
        if not (direct or raw.startswith(POST_PREFIX)):
            return False
        found = scan(
            raw,
            direct,
            self.users,
            self.teams,
            self.channels,
            accept_any_type,
            NO_SIZE_LIMIT,
            None,
        )
        return found is not None

    def canonical(self, raw: bytes) -> Envelope | None:
        """The envelope of a line the scanner accepts (see `accepts`), else None."""
        if not self.accepts(raw):
            return None
        doc: Envelope = orjson.loads(raw)
        return doc

    def decode(self, raw: bytes) -> Envelope | None:
        """The canonical envelope of a line (see `decode_line`), or None when Go cannot
        decode it."""
        doc = self.canonical(raw)
        if doc is not None:
            return doc
        envelope, _ = decode_line(raw)
        if envelope is not None:
            self.learn(envelope)
        return envelope

    def learn(self, envelope: Envelope) -> None:
        """Remember a definition (the keys the validator's references use)."""
        line_type = envelope.get("type")
        payload = envelope.get(line_type) if isinstance(line_type, str) else None
        if not isinstance(payload, dict):
            return
        if line_type == "team":
            team_name = payload.get("name")
            if isinstance(team_name, str) and team_name:
                team = go_lower(team_name)
                self.teams[team] = None
                for channel in self._default_channels:
                    self.channels[(team, channel)] = None
        elif line_type == "channel":
            in_team, channel_name = payload.get("team"), payload.get("name")
            if isinstance(in_team, str) and isinstance(channel_name, str) and in_team:
                self.channels[(go_lower(in_team), go_lower(channel_name))] = None
        elif line_type in ("user", "bot"):
            name = payload.get("username")
            if isinstance(name, str) and name:
                self.users[go_lower(name)] = None
        elif line_type == "scheme":
            name = payload.get("name")
            if isinstance(name, str) and name:
                self.schemes[name] = None


_KEYS: Final = {"post": POST_KEYS, "direct_post": DIRECT_POST_KEYS}
_NAMED: Final = {"post": b'"post"', "direct_post": b'"direct_post"'}


def plain_post(raw: bytes, kind: str) -> dict[str, Any] | None:
    """The payload of a ``kind`` line ("post" or "direct_post") parsed by orjson, when its
    place, author, time and members are surely what the server reads — else None (decode it).

    orjson and Go read those top-level scalars and string lists alike, repeated keys included
    (the last one wins in both), except when a key differs only in case (Go matches it; here
    any key outside the payload's own lowercase set refuses the line) or when the payload
    object itself is repeated (Go merges the two objects; orjson keeps the last). The string
    ``"post"`` (``"direct_post"``) then appears more than twice — the type and the key — or is
    hidden behind a ``\\u`` escape: both refuse the line. Whether Go can decode the rest of the
    line is not checked: this answers where a line belongs, not whether it imports.
    """
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict or len(doc) != 2 or doc.get("type") != kind:
        return None
    payload = doc.get(kind)
    if type(payload) is not dict or not payload.keys() <= _KEYS[kind]:
        return None
    if raw.count(_NAMED[kind]) != 2 or b"\\u" in raw:
        return None
    return payload


def payload_of(envelope: Envelope) -> tuple[str, dict[str, Any] | None]:
    """(type, payload object) of a decoded line; the payload is None when absent."""
    line_type = envelope.get("type") or ""
    payload = envelope.get(line_type) if line_type != "version" else None
    return line_type, payload if isinstance(payload, dict) else None


@dataclass(slots=True)
class PostFacts:
    """What a post or direct-post line refers to (names exactly as written)."""

    kind: str  # "post" or "direct_post"
    team: str | None = None
    channel: str | None = None
    members: list[str] = field(default_factory=list)  # direct_post.channel_members
    user: str | None = None  # the root post's author
    create_at: Any = None
    users: list[str] = field(default_factory=list)  # every username referred to
    emoji: list[str] = field(default_factory=list)  # reaction emoji names
    paths: list[str] = field(default_factory=list)  # attachment paths (non-empty)


def post_facts(kind: str, payload: dict[str, Any]) -> PostFacts:
    """`PostFacts` of a decoded post or direct_post payload (canonical keys)."""
    facts = PostFacts(kind)
    users = facts.users
    if kind == "post":
        facts.team = str_or_none(payload.get("team"))
        facts.channel = str_or_none(payload.get("channel"))
    else:
        members = payload.get("channel_members") or ()
        facts.members = [m for m in members if isinstance(m, str) and m]
        users.extend(facts.members)
    facts.user = str_or_none(payload.get("user"))
    facts.create_at = payload.get("create_at")
    _message_refs(payload, facts)
    for follower in payload.get("thread_followers") or ():
        name = follower.get("user") if isinstance(follower, dict) else None
        if isinstance(name, str) and name:
            users.append(name)
    for reply in payload.get("replies") or ():
        if isinstance(reply, dict):
            _message_refs(reply, facts)
    return facts


def canonical_refs(kind: str, payload: dict[str, Any], users: set[str], emoji: set[str]) -> None:
    """Add the (lowercased) usernames and the reaction emoji of a post payload the scanner
    accepted — `post_facts` for the lines that are nearly all of an export, without its
    checks: the scanner vouches for every type, an accepted line names no file, and every
    name it looks up exactly (authors, flaggers, DM members) is already in stored form;
    reaction users and followers, which the server looks up case-insensitively, are lowered.
    """
    add = users.add
    if kind == "direct_post":
        users.update(payload["channel_members"])
    for message in (payload, *(payload.get("replies") or ())):
        add(message["user"])
        flagged = message.get("flagged_by")
        if flagged:
            users.update(flagged)
        for reaction in message.get("reactions") or ():
            add(go_lower(reaction["user"]))
            emoji.add(reaction["emoji_name"])
    for follower in payload.get("thread_followers") or ():
        add(go_lower(follower["user"]))


def _message_refs(message: dict[str, Any], facts: PostFacts) -> None:
    """Author, flaggers, reactions and attachments of a post or a reply."""
    users = facts.users
    author = message.get("user")
    if isinstance(author, str) and author:
        users.append(author)
    for name in message.get("flagged_by") or ():
        if isinstance(name, str) and name:
            users.append(name)
    for reaction in message.get("reactions") or ():
        if isinstance(reaction, dict):
            name = reaction.get("user")
            if isinstance(name, str) and name:
                users.append(name)
            emoji = reaction.get("emoji_name")
            if isinstance(emoji, str) and emoji:
                facts.emoji.append(emoji)
    for attachment in message.get("attachments") or ():
        if isinstance(attachment, dict):
            path = attachment.get("path")
            if isinstance(path, str) and path:
                facts.paths.append(path)


def without_attachments(envelope: Envelope) -> Envelope | None:
    """The envelope with every attachment list removed (post and replies), or None when it
    has none (nothing to rewrite)."""
    line_type, payload = payload_of(envelope)
    if payload is None or line_type not in POST_LINE_TYPES:
        return None
    messages = [payload, *(r for r in payload.get("replies") or () if isinstance(r, dict))]
    facts = PostFacts(line_type)
    for message in messages:
        _message_refs(message, facts)
    if not facts.paths:
        return None  # no file referred to: the line stays as it is
    for message in messages:
        message.pop("attachments", None)
    return envelope


def user_file_paths(payload: dict[str, Any]) -> Iterator[str]:
    """The profile image path of a user or bot payload, if any."""
    path = payload.get("profile_image")
    if isinstance(path, str) and path:
        yield path


def encode(envelope: Envelope) -> bytes:
    """A rewritten line: compact JSON of the canonical envelope (keys in their order)."""
    return orjson.dumps(envelope)


def might_have_attachments(raw: bytes) -> bool:
    """False only when a line surely has no ``attachments`` key: neither the word (in any
    case) nor a ``\\u`` escape (a key may be written with escapes) appears in it."""
    return ESCAPE.search(raw) is not None or b"ttachment" in raw.lower()


# A key written with a \u escape could spell "attachments" (a regex finds this two-byte needle
# 3x faster than bytes.find does).
ESCAPE: Final = re.compile(rb"\\u")


class PostBlock:
    """A batch of post and direct-post lines as one text (joined by ``\\n``): written in one
    go, split into lines only when one of them has to be read."""

    __slots__ = ("_lines", "count", "direct_posts", "text")

    def __init__(self, lines: LineBlock, count: int, direct_posts: int) -> None:
        assert lines.text is not None
        self.text: bytes = lines.text
        self.count = count
        self.direct_posts = direct_posts
        self._lines = lines

    @property
    def posts(self) -> int:
        return self.count - self.direct_posts

    def lines(self) -> list[bytes]:
        return cast("list[bytes]", self._lines.lines())

    def naming_files(self) -> list[int]:
        """Indices of the lines that may name files (`might_have_attachments`), found with
        one search over the whole text."""
        text = self.text
        hits = find_all(text.lower(), b"ttachment")
        hits += [m.start() for m in ESCAPE.finditer(text)]
        if not hits:
            return []
        ends = list(accumulate(len(raw) + 1 for raw in self.lines()))
        return sorted({bisect_right(ends, at) for at in hits})


def post_block(lines: LineBlock) -> PostBlock | None:
    """The batch as a `PostBlock` when every line in it is a post or direct-post line (counted
    on the text: a line starts at the text's start or after a ``\\n``), else None."""
    text = lines.text
    if text is None:
        return None
    count = text.count(b"\n") + 1
    direct = text.count(b"\n" + DIRECT_POST_PREFIX) + text.startswith(DIRECT_POST_PREFIX)
    posts = text.count(b"\n" + POST_PREFIX) + text.startswith(POST_PREFIX)
    if posts + direct != count:
        return None
    return PostBlock(lines, count, direct)


def find_all(data: bytes, needle: bytes) -> list[int]:
    found = []
    at = data.find(needle)
    while at >= 0:
        found.append(at)
        at = data.find(needle, at + 1)
    return found
