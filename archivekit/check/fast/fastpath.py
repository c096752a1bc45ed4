"""An accept-only fast path for post and direct_post lines — most lines of any export.

The general path (Go-exact decoding, the server's validator and apply rules, the reference
checks) walks a post line five times in small steps. Here one pass over the parsed line
checks, at once, everything that could make the general path report something: JSON types
and int64 ranges, unknown or non-canonical keys, repeated keys, NUL characters, every
validator and apply rule of posts, replies, reactions and thread followers, and that every
user, team and channel reference resolves exactly. It only ever *accepts*: on anything
unusual (non-empty props, a reply older than its post, any doubt) it declines and the
general path handles the line from scratch, so the issues reported are always the general
path's. A property test holds the two paths to the same verdicts.

Attachments (``files``: the archive's member index, MaxFileSize, the image extensions and
the lookup of non-ASCII keys) are resolved here too, exactly as the server resolves them, but
only in the plain case: at most ten per list, each ``{"path": p}`` with a `p` that Go's path
cleaning leaves as it is, naming ``data/`` + `p` (NFC-normalised when not ASCII) — an entry the
server finds, can read (stored or deflated, not encrypted) and no larger than MaxFileSize.
Images (by extension; one with a non-ASCII extension declines) are accepted and listed, in
the general path's order, for the caller to read their headers (the server measures their
pixels): that is I/O, not a verdict on the line. Any other attachment (missing, escaping
data/, ``data/`` prefixed, a directory...) declines the line, so the server's quirks with
failed files (reply attachments dropped once one file fails) stay the general path's
business.

`scan` is the entry point: the C version (archivekit/check/fast/_scan.c, built at install) when
it is there, else `scan_python`, both with one contract — None to decline, or what the engine
counts for an accepted line: ``(identity, message runes, replies, reactions, files)``, the
identity being `archivekit.check.duplicates.post_identity` of the post and `files` what
`LineFiles.result` gives. The C
version walks the raw bytes once and builds no document (~5x faster); `scan_python` parses with
orjson and checks the result with `check_post` / `check_direct_post`, which return the number
of object keys seen (for the repeated-key test against the raw line), or -1 to decline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard

import orjson

from archivekit.check.duplicates import post_identity
from archivekit.check.rules.names import EMOJI_NAME_MAX_BYTES
from archivekit.check.rules.post import (
    MAX_FILES_PER_POST,
    is_valid_reaction_emoji_name,
)
from archivekit.check.rules.post_types import is_allowed_post_type
from archivekit.gosem.archive import server_reads
from archivekit.gosem.decode import POST_LINE_TYPES, SPACED_COLON
from archivekit.gosem.images import IMAGE_EXTENSIONS, is_image_name
from archivekit.gosem.paths import DATA_PREFIX, member_key
from archivekit.gosem.spec import INT64_MAX, INT64_MIN
from archivekit.gosem.strings import go_lower
from archivekit.native import native_module

# How exports begin post and direct post lines. The type's key and value alone
# (`POST_TYPE_PREFIX`): a line that may be a post, once `type_is_settled` has made sure no later
# key changes its type; with the payload's key and opening brace (`POST_PREFIX`): the lines the
# fast path and the writers take as posts without decoding their envelope.
POST_TYPE_PREFIX = b'{"type":"post"'
DIRECT_POST_TYPE_PREFIX = b'{"type":"direct_post"'
POST_PREFIX = POST_TYPE_PREFIX + b',"post":{'
DIRECT_POST_PREFIX = DIRECT_POST_TYPE_PREFIX + b',"direct_post":{'
DECLINE = -1
# The tallies the checks return pack two counts in one int: object keys, plus string values
# times STRING (for the repeated-key test against the raw line; see `no_repeated_keys`).
STRING = 1 << 32
KEYS_MASK = STRING - 1

POST_KEYS = frozenset(
    {
        "team",
        "channel",
        "user",
        "type",
        "message",
        "props",
        "create_at",
        "edit_at",
        "flagged_by",
        "reactions",
        "replies",
        "attachments",
        "is_pinned",
        "thread_followers",
    }
)
DIRECT_POST_KEYS = (POST_KEYS - {"team", "channel"}) | {"channel_members"}
REPLY_KEYS = frozenset(
    {
        "user",
        "type",
        "message",
        "props",
        "create_at",
        "edit_at",
        "flagged_by",
        "reactions",
        "attachments",
        "is_pinned",
    }
)
REACTION_KEYS = frozenset({"user", "emoji_name", "create_at"})
FOLLOWER_KEYS = frozenset({"user", "last_viewed", "unread_mentions"})

Users = dict[str, Any]
# (entries, bytes, largest (size, reply, position), most (count, reply), images)
LineFilesResult = tuple[
    tuple[int, ...], int, tuple[int, int, int], tuple[int, int], tuple[tuple[int, int, int], ...]
]
# One line resolves at most MAX_FILES_PER_LINE files here, paths of at most MAX_PATH_BYTES;
# a list of more than MAX_FILES_PER_POST goes to the general path (_scan.c has the same
# numbers: tests/test_native_scan.py holds them to these).
MAX_FILES_PER_LINE = 64
MAX_PATH_BYTES = 4096
# What _scan.c compares extensions with.
IMAGE_EXTENSION_BYTES = tuple(sorted(ext.encode() for ext in IMAGE_EXTENSIONS))
# The entry the server finds for ``data/`` + a non-ASCII path (see `key_finder`), or -1.
KeyFinder = Callable[[str], int]
# (member index or its C table's capsule, MaxFileSize, image extensions, KeyFinder or None)
FilesArg = tuple[Any, int, tuple[bytes, ...], KeyFinder | None]
# The C batch scanner's defer mode, for a stream whose members are not known yet: plain
# attachment lists are checked for their shape only, and the accepted lines that have files
# come back, their attachments and the lines themselves, to have them resolved at the end
# (`NATIVE_RESOLVE`; see scan_batch and resolve_waiting in _scan.c).
DEFER_FILES: FilesArg = (None, 0, (), None)
# An image attachment of an accepted line: (reply, position, entry); reply -1 is the post's.
LineImage = tuple[int, int, int]


def key_finder(index: Any) -> KeyFinder:
    """The lookup of a non-ASCII key in a member index (`MemberIndex`) as the server does it:
    NFC first (the C scanner hands over just the key: no line, no document)."""
    find: KeyFinder = index.find

    def find_key(key: str) -> int:
        return find(member_key(key))

    return find_key


def non_ascii_extension(key: str) -> bool:
    """Whether a key's extension (after its last dot, in its last segment) is not ASCII: Go's
    lowercasing could make it an image's (``.GİF`` is ``.gif``), so the line goes general."""
    dot = key.rfind(".")
    return dot > key.rfind("/") and not key[dot:].isascii()


class LineFiles:
    """The files of one line as the fast path resolves them (see the module docstring)."""

    __slots__ = (
        "bytes",
        "find_key",
        "images",
        "index",
        "largest",
        "max_size",
        "members",
        "most",
        "reply",
    )

    def __init__(self, files: FilesArg) -> None:
        self.index, self.max_size, _, self.find_key = files
        self.members: list[int] = []
        self.images: list[LineImage] = []
        self.bytes = 0
        # (size, reply, position) of the largest file, (count, reply) of the longest list:
        # the first in the general path's order (the post's own list, then each reply's).
        self.largest = (0, 0, 0)
        self.most = (0, 0)
        self.reply = -1

    def attachments(self, attachments: Any) -> int:
        """The tally of an acceptable attachment list (keys and strings), or -1."""
        if attachments is None:
            return 0
        if type(attachments) is not list or len(attachments) > MAX_FILES_PER_POST:
            return DECLINE
        for position, attachment in enumerate(attachments):
            if type(attachment) is not dict or attachment.keys() != {"path"}:
                return DECLINE
            size = self._resolve(attachment["path"], position)
            if size < 0:
                return DECLINE
            if _takes_over((size, self.reply, position), self.largest):
                self.largest = (size, self.reply, position)
        if _takes_over((len(attachments), self.reply, 0), (*self.most, 0)):
            self.most = (len(attachments), self.reply)
        return len(attachments) * (1 + STRING)

    def _resolve(self, path: Any, position: int) -> int:
        """The size of the member a plain path names, or -1."""
        if (
            type(path) is not str
            or not path
            or len(path) > MAX_PATH_BYTES
            or any(part in ("", ".", "..") for part in path.split("/"))
            or len(self.members) == MAX_FILES_PER_LINE
        ):
            return DECLINE
        key = DATA_PREFIX + path
        if key.isascii():
            found = self.index.find(key)
        elif self.find_key is None or non_ascii_extension(key):
            return DECLINE
        else:
            found = self.find_key(key)
        if found < 0:
            return DECLINE
        member = self.index[found]
        if (
            member.is_dir
            or not server_reads(member.method, member.encrypted)
            or member.size > self.max_size
        ):
            return DECLINE
        if is_image_name(key):
            self.images.append((self.reply, position, found))
        self.members.append(found)
        self.bytes += member.size
        size: int = member.size
        return size

    def result(self) -> LineFilesResult:
        """What scan returns for the line's files (as _scan.c's line_files)."""
        images = tuple(sorted(self.images))  # the post's own list first, then each reply's
        return tuple(self.members), self.bytes, self.largest, self.most, images


def _takes_over(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    """Whether (value, reply, position) `a` replaces `b` as the first maximum."""
    if a[0] == 0:
        return False
    if a[0] != b[0]:
        return a[0] > b[0]
    return a[1:] < b[1:]


# Fields of posts and replies that most lines do not have.
_RARE_FIELDS = frozenset({"type", "attachments", "edit_at", "is_pinned", "flagged_by", "props"})
# Values of props the fast path accepts (orjson never yields NaN or infinities).
_SCALARS = frozenset({str, int, float, bool, type(None)})
# Lines shorter than this cannot hold props over the 800,000-rune limit (see `_props`).
FLAT_PROPS_MAX_LINE = 133_333


def _int(value: Any) -> TypeGuard[int]:
    return type(value) is int and INT64_MIN <= value <= INT64_MAX


def _optional_int(value: Any) -> bool:
    return value is None or (type(value) is int and INT64_MIN <= value <= INT64_MAX)


def _flaggers(names: Any, users: Users) -> int:
    """String values of an acceptable list of usernames (all known exactly), or -1."""
    if names is None:
        return 0
    if type(names) is not list:
        return DECLINE
    if all(type(name) is str and name in users for name in names):
        return len(names) * STRING
    return DECLINE


def _reactions(reactions: Any, parent_create_at: int, users: Users) -> int:
    if reactions is None:
        return 0
    if type(reactions) is not list:
        return DECLINE
    keys = 0
    for reaction in reactions:
        if type(reaction) is not dict or not reaction.keys() <= REACTION_KEYS:
            return DECLINE
        user = reaction.get("user")
        emoji_name = reaction.get("emoji_name")
        create_at = reaction.get("create_at")
        if (
            type(user) is not str
            or (user not in users and go_lower(user) not in users)
            or type(emoji_name) is not str
            or len(emoji_name) > EMOJI_NAME_MAX_BYTES
            or not is_valid_reaction_emoji_name(emoji_name)
            or type(create_at) is not int
            or not 0 < create_at <= INT64_MAX
            or create_at < parent_create_at
        ):
            return DECLINE
        keys += len(reaction) + 2 * STRING  # user and emoji_name
    return keys


def _followers(followers: Any, users: Users) -> int:
    if followers is None:
        return 0
    if type(followers) is not list:
        return DECLINE
    keys = 0
    for follower in followers:
        if type(follower) is not dict or not follower.keys() <= FOLLOWER_KEYS:
            return DECLINE
        user = follower.get("user")
        if (
            type(user) is not str
            or not user
            or (user not in users and go_lower(user) not in users)
            or not _optional_int(follower.get("last_viewed"))
            or not _optional_int(follower.get("unread_mentions"))
        ):
            return DECLINE
        keys += len(follower) + STRING  # user
    return keys


def _props(props: Any, flat_props: bool) -> int:
    """Keys of acceptable props: absent, empty, or (`flat_props`) an object of scalars.

    `flat_props` is only set for lines short enough that no props in them can reach the
    800,000-rune limit: Go's encoding is at most 6 bytes per byte of the line (``<`` becomes
    ``\u003c``), so a line under 133,333 bytes cannot hold props that large.
    """
    if props is None:
        return 0
    if type(props) is not dict:
        return DECLINE
    if not props:
        return 0
    if not flat_props:
        return DECLINE
    strings = 0
    for value in props.values():
        kind = type(value)
        if kind is str:
            strings += 1
        elif kind not in _SCALARS:
            return DECLINE
    return len(props) + strings * STRING


def _common(
    data: dict[str, Any],
    users: Users,
    max_post_size: int,
    flat_props: bool,
    files: LineFiles | None = None,
) -> int:
    """Fields posts, direct posts and replies share: the tally of the message, type, flaggers
    and props (their own keys are counted by the caller), or -1."""
    message = data.get("message")
    if type(message) is not str or len(message) > max_post_size:
        return DECLINE
    if data.keys().isdisjoint(_RARE_FIELDS):  # the common case: nothing else to check
        return STRING  # the message
    post_type = data.get("type")
    attachments = data.get("attachments")
    if (
        not (post_type is None or (type(post_type) is str and is_allowed_post_type(post_type)))
        # Files need the archive (`files`): without it only none will do.
        or not (attachments is None or attachments == [] or files is not None)
        or not _optional_int(data.get("edit_at"))
        or not (data.get("is_pinned") is None or type(data.get("is_pinned")) is bool)
    ):
        return DECLINE
    flaggers = _flaggers(data.get("flagged_by"), users)
    props = _props(data.get("props"), flat_props)
    found = 0 if files is None else files.attachments(attachments)
    if flaggers == DECLINE or props == DECLINE or found == DECLINE:
        return DECLINE
    return STRING * (1 + (post_type is not None)) + flaggers + props + found


def _replies(
    replies: Any,
    parent_create_at: int,
    users: Users,
    max_post_size: int,
    flat_props: bool,
    files: LineFiles | None = None,
) -> int:
    if replies is None:
        return 0
    if type(replies) is not list:
        return DECLINE
    keys = 0
    for r_index, reply in enumerate(replies):
        if type(reply) is not dict or not reply.keys() <= REPLY_KEYS:
            return DECLINE
        user = reply.get("user")
        create_at = reply.get("create_at")
        if (
            type(user) is not str
            or user not in users
            or not _int(create_at)
            or create_at == 0
            # Older than its post: the general path warns.
            or create_at < parent_create_at
        ):
            return DECLINE
        if files is not None:
            files.reply = r_index
        props = _common(reply, users, max_post_size, flat_props, files)
        if props == DECLINE:
            return DECLINE
        r_reactions = reply.get("reactions")
        if r_reactions is not None:
            found = _reactions(r_reactions, create_at, users)
            if found == DECLINE:
                return DECLINE
            props += found
        keys += len(reply) + props + STRING  # + the reply's user
    return keys


def _shared(
    data: dict[str, Any],
    users: Users,
    max_post_size: int,
    flat_props: bool,
    files: LineFiles | None = None,
) -> int:
    """Author, message fields, reactions, replies and followers of a post-like payload."""
    author = data.get("user")
    create_at = data.get("create_at")
    if type(author) is not str or author not in users or not _int(create_at) or create_at == 0:
        return DECLINE
    keys = _common(data, users, max_post_size, flat_props, files)
    if keys == DECLINE:
        return DECLINE
    # Most posts have no reactions, replies or followers: skip those calls.
    reactions = data.get("reactions")
    if reactions is not None:
        found = _reactions(reactions, create_at, users)
        if found == DECLINE:
            return DECLINE
        keys += found
    followers = data.get("thread_followers")
    if followers is not None:
        found = _followers(followers, users)
        if found == DECLINE:
            return DECLINE
        keys += found
    replies = data.get("replies")
    if replies is not None:
        found = _replies(replies, create_at, users, max_post_size, flat_props, files)
        if found == DECLINE:
            return DECLINE
        keys += found
    return len(data) + keys + STRING  # + the author


def check_post(
    post: Any,
    users: Users,
    teams: dict[str, Any],
    channels: dict[tuple[str, str], Any],
    max_post_size: int,
    flat_props: bool = False,
    files: LineFiles | None = None,
) -> int:
    """The tally (keys, and string values times STRING) of an acceptable post payload, or -1."""
    if type(post) is not dict or not post.keys() <= POST_KEYS:
        return DECLINE
    team = post.get("team")
    channel = post.get("channel")
    if (
        type(team) is not str
        or type(channel) is not str
        or team not in teams
        or (team, channel) not in channels
    ):
        return DECLINE
    tally = _shared(post, users, max_post_size, flat_props, files)
    return DECLINE if tally == DECLINE else tally + 2 * STRING  # + team and channel


def check_direct_post(
    post: Any,
    users: Users,
    max_post_size: int,
    flat_props: bool = False,
    files: LineFiles | None = None,
) -> int:
    """The tally of an acceptable direct_post payload, or -1."""
    if type(post) is not dict or not post.keys() <= DIRECT_POST_KEYS:
        return DECLINE
    members = post.get("channel_members")
    if type(members) is not list or not 2 <= len(members) <= 8:
        return DECLINE
    for member in members:
        if type(member) is not str or member not in users:
            return DECLINE
    if len(members) > 2 and len(set(members)) < len(members):
        return DECLINE  # a group listing a user twice: the server refuses it (bad_user)
    flagged = post.get("flagged_by")
    if flagged is not None:
        if type(flagged) is not list:
            return DECLINE
        for name in flagged:
            if name not in members:  # the validator's unknown_flagger
                return DECLINE
    tally = _shared(post, users, max_post_size, flat_props, files)
    return DECLINE if tally == DECLINE else tally + len(members) * STRING


def no_repeated_keys(raw: bytes, tally: int) -> bool:
    """Whether the line holds no key twice (orjson keeps the last; Go merges or type-checks
    both) and no escaped NUL, given the `tally` of the parsed line.

    Without any backslash every ``"`` delimits a string, so the line holds exactly
    ``2 * (keys + string values)`` of them unless a key (with its value) is repeated — two
    cheap byte counts. With backslashes: every `":` must be one of the keys seen, no key may
    hide from that count behind white space before its colon, and no NUL may be escaped.
    """
    keys = tally & KEYS_MASK
    if b"\\" not in raw:
        return raw.count(b'"') == 2 * (keys + (tally >> 32))
    return raw.count(b'":') == keys and b"\\u0000" not in raw and SPACED_COLON.search(raw) is None


# (identity, message runes, replies, reactions, files) of an accepted line.
Accepted = tuple[int, int, int, int, LineFilesResult]
Scanner = Callable[
    [
        bytes,
        bool,
        Users,
        dict[str, Any],
        dict[tuple[str, str], Any],
        Callable[[str], bool],
        int,
        FilesArg | None,
    ],
    Accepted | None,
]


def scan_python(
    raw: bytes,
    direct: bool,
    users: Users,
    teams: dict[str, Any],
    channels: dict[tuple[str, str], Any],
    type_ok: Callable[[str], bool],
    max_post_size: int,
    files: FilesArg | None = None,
) -> Accepted | None:
    """The fast path in Python: parse with orjson, check the document, count the raw quotes.

    `type_ok` is accepted for the shared signature; `check_post` asks the post-type rule itself.
    `files` holds the member index itself here (a `MemberIndex`), the C table in C.
    """
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    line_type = POST_LINE_TYPES[direct]
    if type(doc) is not dict or len(doc) != 2 or doc.get("type") != line_type:
        return None
    post: Any = doc.get(line_type)
    flat = len(raw) < FLAT_PROPS_MAX_LINE
    line_files = None if files is None else LineFiles(files)
    if direct:
        tally = check_direct_post(post, users, max_post_size, flat, line_files)
    else:
        tally = check_post(post, users, teams, channels, max_post_size, flat, line_files)
    if tally < 0 or not no_repeated_keys(raw, tally + 2 + STRING):
        return None
    message: str = post["message"]
    parts: tuple[str | int, ...]
    if direct:
        parts = ("direct", *sorted(post["channel_members"]), post["create_at"], message)
    else:
        parts = ("post", post["team"], post["channel"], post["create_at"], message)
    replies = post.get("replies") or ()
    reactions = len(post.get("reactions") or ())
    for reply in replies:
        reactions += len(reply.get("reactions") or ())
    found = ((), 0, (0, 0, 0), (0, 0), ()) if line_files is None else line_files.result()
    return post_identity(*parts), len(message), len(replies), reactions, found


# (stop, posts, direct_posts, replies, reactions, longest_runes, longest_line,
#  longest_is_direct, identities, lines, files): see scan_batch in archivekit/check/fast/_scan.c.
BatchScan = tuple[int, int, int, int, int, int, int, bool, bytes, bytes, Any]
BatchScanner = Callable[
    [
        list[Any],
        int,
        int | bytes,  # the first line's number, or every line's (packed int64)
        Users,
        dict[str, Any],
        dict[tuple[str, str], Any],
        Callable[[str], bool],
        int,
        FilesArg | None,
    ],
    BatchScan,
]


# The C scanner (all None when it was not built, or ARCHIVEKIT_PURE_PYTHON is set): `NATIVE`
# for one line, `NATIVE_BATCH` to run through a batch until a line it does not accept,
# `NATIVE_SKIM` for inspect's counting, `NATIVE_SETTLED` for the runs of post lines parallel
# workers pass over (archivekit.check.parallel), `NATIVE_RESOLVE` for a stream's lines whose
# files waited for its members (`DEFER_FILES`), `NATIVE_TEXT` for a writer's runs of lines the
# scanner accepts in a block of text (fix: where a run ends, how many posts and direct posts).
_SCAN = native_module("archivekit.check.fast._scan")
NATIVE: Scanner | None = None if _SCAN is None else _SCAN.scan
NATIVE_BATCH: BatchScanner | None = None if _SCAN is None else _SCAN.scan_batch
NATIVE_SKIM: Callable[..., Any] | None = None if _SCAN is None else _SCAN.skim_batch
NATIVE_SETTLED: Callable[[list[Any], int], int] | None = (
    None if _SCAN is None else _SCAN.settled_posts
)
NATIVE_RESOLVE: Callable[[bytes, int, FilesArg], tuple[int, Any]] | None = (
    None if _SCAN is None else _SCAN.resolve_waiting
)
TextScanner = Callable[
    [bytes, int, int, Users, dict[str, Any], dict[tuple[str, str], Any], Callable[[str], bool],
     int, FilesArg | None],
    tuple[int, int, int, int],
]  # fmt: skip
NATIVE_TEXT: TextScanner | None = None if _SCAN is None else _SCAN.scan_text
scan: Scanner = NATIVE or scan_python
