"""`redact`: the same archive with every personal string and file replaced.

One streaming pass over the JSONL, then one over the files, through the writer core
(`write.core`): each line is rewritten in place — one line in, one line out, so every issue
keeps its line number — and each file becomes a same-size placeholder (`write.placeholders`)
under its mapped name, or is left out (``attachments="drop"`` / ``"drop-references"``).

A line is read with ``orjson`` and walked with a spec of the import format (below): each
string is replaced according to what it is (a username, a team name, an email, a message, a
path...; `write.pseudonyms` keeps what the server's rules look at), keys, numbers, booleans,
nulls and the fields listed in `KEPT_VERBATIM` stay as they are (their scalars: an object or a
list in one of them is free text), and any string the spec does not know is treated as free
text — so a field a converter invented does not leak either. The keys of objects are matched
the way Go's ``encoding/json`` matches them (case-insensitively).
A line the walk cannot carry through unchanged — one ``orjson`` cannot read (broken JSON,
invalid UTF-8, a number out of range), one holding a float or an integer past 64 bits, one
nested deeper than ``orjson`` writes (`_MAX_DEPTH`), one repeating a key in an object (Go
merges or overwrites, ``orjson`` keeps the last: both occurrences must stay) — is rewritten
token by token instead, without recursion (`RedactRun._tokens`): its structure, keys (but
those of props) and white space stay byte for byte, numbers too on a line that is JSON (on
one that is not, only those of `_NUMBER_KEYS`: the others, and words outside strings, are
text), and each string is mapped as the spec says for where it stands. A line over the
scanner's limit, of which only the length is known, becomes a line of ``x`` of the same
length.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from archivekit.check.files import MMCTL_WARNINGS
from archivekit.check.rules.names import (
    CHANNEL_MARK_UNREAD_LEVELS,
    CHANNEL_NOTIFY_LEVELS,
    COMMENTS_NOTIFY_LEVELS,
    PUSH_STATUS_LEVELS,
    TRUE_FALSE,
    USER_NOTIFY_LEVELS,
)
from archivekit.check.rules.user import PREFERENCE_KEYS
from archivekit.errors import ArchiveError
from archivekit.gosem.archive import SERVER_METHODS
from archivekit.gosem.images import HEAD_BYTES, image_dimensions
from archivekit.gosem.paths import DATA_PREFIX, resolve
from archivekit.gosem.strings import fold_json_key
from archivekit.native import native_module
from archivekit.read import Archive, MemberInfo
from archivekit.read.framing import LineTooLong, iter_line_batches
from archivekit.read.inflate import DEFLATE64, STORED
from archivekit.read.zipdir import FLAG_ENCRYPTED
from archivekit.write.core import JSONL_NAME, ArchiveWriter
from archivekit.write.placeholders import placeholder
from archivekit.write.pseudonyms import NameKind, Pseudonyms
from archivekit.write.zipwriter import (
    BOUNDED_DEFLATE,
    ENCODED_METHODS,
    FAST_DEFLATE,
    PLAIN,
    MemberTraits,
)

Attachments = Literal["placeholders", "drop", "drop-references"]

# What a customer sends unchanged: said in the summary and the manifest.
KEPT_VERBATIM: Final = (
    "the structure: one line for each input line, in the same order; the keys of every object;"
    " the zip's member order and folders (but the keys of post props that no program reads by"
    " name: mapped)",
    "numbers, booleans and nulls: timestamps (create_at, edit_at, delete_at, deleted_at,"
    " last_viewed_at...), counters, flags",
    "enumerations: line types, team and channel types, post types, roles (user, team and"
    " channel memberships, role and scheme role names but the scheme's name in them,"
    " permissions), auth_service, locale,"
    " the known values of notify props, preferences and themes, custom-status durations and"
    " expiry times",
    "names the server treats specially: reserved usernames (all, channel, matterbot,"
    " system), the reserved prefix of a team name (admin, api, help...), town-square and"
    " off-topic, system emoji, the folder name data",
    "everything in text that is not a letter or a digit: spaces, punctuation, symbols, emoji,"
    " '@' and '.' of emails, '/' of paths; common file extensions (images, documents, media);"
    " top-level domains of emails",
    "sizes: every string but a file path has the same length in characters and in bytes (each"
    " element of a path becomes a 16-character token), every file the same size (images: a"
    " blank image of the same format and dimensions)",
)

# --- the spec of the import format ------------------------------------------------------------
# A leaf names how a string is replaced; a frozenset is an enumeration (a string that is one
# of its values is kept, any other is free text); a dict walks an object (keys folded as Go
# matches them; unknown keys are free text); a one-element tuple walks each element of a list.
Spec = str | frozenset[str] | dict[str, "Spec"] | tuple["Spec"]

KEEP: Final = "keep"
TEXT: Final = "text"
# Post props (Go: a map[string]any, keys matched exactly): strings are free text, and so are
# keys (`RedactRun._props_key`) but those in `PROPS_KEYS`, which the server, the webapp or
# integrations read by name. The keys of ``channel_mentions`` are channel names.
PROPS: Final = "props"
PROPS_CHANNELS: Final = "props_channels"
PROPS_USER: Final = "props_user"  # a username in a system post's props (see PROPS_USER_KEYS)
# The value of a channel mention ({"display_name": ..., "team_name": ...}): its team_name is
# the team's name (PROPS_TEAM), the rest props.
PROPS_MENTION: Final = "props_mention"
PROPS_TEAM: Final = "props_team"
# The value of one of `PROPS_FLAG_KEYS`: "true" (or "false") is kept, any other string text.
PROPS_FLAG: Final = "props_flag"
# A tuple: specs met in it may be dicts.
_PROPS_SPECS: Final = (PROPS, PROPS_CHANNELS, PROPS_MENTION, PROPS_FLAG)
CHANNEL_MENTIONS: Final = "channel_mentions"
# Kept as they are (and, but for PROPS_USER_KEYS and channel_mentions, by _redact.c's walk:
# NATIVE_PROPS_KEYS, given to it when it starts): the keys the server
# and webapp read, those of message attachments (Slack's format) and of their fields and
# actions, of a channel mention's value.
PROPS_KEYS: Final = frozenset(
    {
        *("attachments", "from_webhook", "from_bot", "from_plugin", "from_oauth_app", "card"),
        *("override_username", "override_icon_url", "override_icon_emoji", CHANNEL_MENTIONS),
        *("webhook_display_name", "disable_group_highlight", "mentionHighlightDisabled"),
        *("addedUserId", "addedUsername", "removedUserId", "removedUsername", "userId"),
        *("username", "old_header", "new_header", "old_purpose", "new_purpose"),
        *("old_displayname", "new_displayname", "deleteBy", "unsafe_links", "previewed_post"),
        *("requested_features", "broadcasted_thread_reply", "user_activity_posts"),
        *("id", "fallback", "color", "pretext", "author_name", "author_link", "author_icon"),
        *("title", "title_link", "text", "fields", "short", "value", "image_url", "thumb_url"),
        *("footer", "footer_icon", "ts", "actions", "name", "integration", "url", "context"),
        *("type", "data_source", "options", "default_option", "style", "cookie", "disabled"),
        *("display_name", "team_name"),
    }
)
# Keys of props whose value is a username (system posts: "alice added bob to the channel"):
# a known user's becomes that user's pseudonym, any other value free text. The C walk leaves
# lines holding them to the Python walk (they are not in NATIVE_PROPS_KEYS).
PROPS_USER_KEYS: Final = frozenset({"addedUsername", "removedUsername", "username"})
# The props keys _redact.c keeps as they are: a line whose props hold any other key goes to the
# Python walk (a username's value, channel_mentions' channel-name keys).
NATIVE_PROPS_KEYS: Final = PROPS_KEYS - PROPS_USER_KEYS - {CHANNEL_MENTIONS}
# Keys of props the server and integrations set to the string "true": their values "true" and
# "false" are kept (the server knows them), any other is free text (write/_redact.c's
# FLAG_KEYS: keep the two in step).
PROPS_FLAG_KEYS: Final = frozenset({"from_webhook", "from_bot", "from_plugin", "from_oauth_app"})
_FLAG_VALUES: Final = frozenset({"true", "false"})
_REACTION: Final[Spec] = {"user": "user", "emoji_name": "emoji", "create_at": KEEP}
_ATTACHMENTS: Final[Spec] = "attachments"
_REPLY: Final[dict[str, Spec]] = {
    "user": "user",
    "type": KEEP,
    "message": "message",
    "props": PROPS,
    "flagged_by": ("user",),
    "reactions": (_REACTION,),
    "attachments": _ATTACHMENTS,
}
_POST: Final[dict[str, Spec]] = {
    **_REPLY,
    "team": "team",
    "channel": "channel",
    "replies": (_REPLY,),
    "thread_followers": ({"user": "user"},),
}
# Notify props and custom status: the values the server (or its webapp) knows are kept, any
# other string (an auto-responder message, a status note, a misspelt level) is free text.
_THREADS: Final = frozenset({"all", "mention", "default"})
_SOUNDS: Final = frozenset(
    {"Bing", "Crackle", "Down", "Hello", "Ripple", "Upstairs", "Dynamic", "Calm", "Urgent"}
    | {"Cheerful", "none", "true", "false"}
)
_USER_NOTIFY: Final[dict[str, Spec]] = {
    **dict.fromkeys(("desktop", "mobile", "push"), USER_NOTIFY_LEVELS),
    **dict.fromkeys(("desktop_sound", "email", "channel", "first_name"), TRUE_FALSE),
    **dict.fromkeys(("auto_responder_active", "calls_desktop_sound"), TRUE_FALSE),
    **dict.fromkeys(("mobile_push_status", "push_status"), PUSH_STATUS_LEVELS),
    **dict.fromkeys(("desktop_threads", "email_threads", "push_threads"), _THREADS),
    **dict.fromkeys(("desktop_notification_sound", "calls_notification_sound"), _SOUNDS),
    "comments": COMMENTS_NOTIFY_LEVELS,
}
_CHANNEL_NOTIFY: Final[dict[str, Spec]] = {
    **dict.fromkeys(("desktop", "mobile", "push"), CHANNEL_NOTIFY_LEVELS),
    "mark_unread": CHANNEL_MARK_UNREAD_LEVELS,
    "email": frozenset({"default", "true", "false"}),
    "ignore_channel_mentions": frozenset({"default", "on", "off"}),
    "channel_auto_follow_threads": frozenset({"on", "off"}),
    **dict.fromkeys(("desktop_threads", "push_threads"), _THREADS),
    **dict.fromkeys(("desktop_sound", "desktop_notification_sound"), _SOUNDS),
}
_DURATIONS: Final = frozenset(
    {"", "thirty_minutes", "one_hour", "four_hours", "today", "this_week", "date_and_time"}
)
_CHANNEL_MEMBER: Final[dict[str, Spec]] = {
    "name": "channel",
    "roles": KEEP,
    "notify_props": _CHANNEL_NOTIFY,
}
# Permissions: a list of names the server knows, each kept.
_PERMISSIONS: Final[Spec] = (KEEP,)
_ROLE_OBJECT: Final[dict[str, Spec]] = {"name": "scheme_role", "permissions": _PERMISSIONS}
_USER_KEPT: Final = ("auth_service", "roles", "locale", "email_interval", *PREFERENCE_KEYS)
_AVATAR: Final[dict[str, Spec]] = {"username": "user", "profile_image": "image"}
PAYLOADS: Final[dict[str, Spec]] = {
    "version": KEEP,
    "team": {"name": "team", "type": KEEP, "scheme": "scheme"},
    "channel": {
        "team": "team",
        "name": "channel",
        "type": KEEP,
        "scheme": "scheme",
        "header": "message",
        "purpose": "message",
    },
    "user": {
        **_AVATAR,
        **dict.fromkeys(_USER_KEPT, KEEP),
        "email": "email",
        "auth_data": "auth",
        "notify_props": _USER_NOTIFY,
        "custom_status": {"emoji": "emoji", "duration": _DURATIONS, "expires_at": KEEP},
        "teams": ({"name": "team", "roles": KEEP, "theme": KEEP, "channels": (_CHANNEL_MEMBER,)},),
    },
    "bot": {**_AVATAR, "owner": "user"},
    "emoji": {"name": "emoji", "image": "image"},
    "scheme": {
        "name": "scheme",
        "scope": KEEP,
        **{
            f"default_{level}_{role}_role": _ROLE_OBJECT
            for level in ("team", "channel")
            for role in ("admin", "user", "guest")
        },
    },
    "role": {"name": KEEP, "permissions": _PERMISSIONS, "scheme_managed": KEEP},
    "post": _POST,
    "direct_channel": {
        "header": "message",
        "members": ("user",),
        "participants": ({"username": "user", "notify_props": _CHANNEL_NOTIFY},),
        "favorited_by": ("user",),
        "shown_by": ("user",),
    },
    "direct_post": {**_POST, "channel_members": ("user",)},
}
# The version line's "info" (generator, its version, when it was written, but converters put
# workspace names and exporters' emails there too): its strings are free text.
ENVELOPE: Final[dict[str, Spec]] = {"type": KEEP, "info": TEXT, **PAYLOADS}
_KEY_KINDS: Final[tuple[NameKind, ...]] = ("user", "channel", "team")
_KEY_ATTEMPTS: Final = 64  # keyed variants of a props key tried before a clash is accepted
_NAME_LEAVES: Final = frozenset({"user", "team", "channel", "emoji", "scheme", "email", "auth"})
_DROP: Final = object()

# Tokens of a line the walk cannot take: strings (terminated or cut at the end; a key when a
# colon follows), numbers, bare words (any byte outside ASCII is part of one: a line that is
# not JSON can hold text outside strings), runs of anything else (brackets, commas, spaces).
_TOKEN_RE: Final = re.compile(
    rb'"((?:[^"\\]|\\.)*)("|$)(\s*:)?|-?[0-9][0-9.eE+-]*|[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*'
    rb'|[^"A-Za-z0-9_\x80-\xff-]+|.',
    re.DOTALL,
)
# On a line that is not JSON, which numbers are timestamps cannot be known: a number is kept
# only as the value of one of the format's integer fields (archivekit.model's Int64 fields and
# the version), any other one is text (its digits mapped, its length kept).
_NUMBER_KEYS: Final = frozenset(
    {
        *("create_at", "delete_at", "deleted_at", "edit_at", "expires_at", "last_viewed"),
        *("last_viewed_at", "mention_count", "mention_count_root", "msg_count", "version"),
        *("msg_count_root", "unread_mentions", "urgend_mention_count", "urgent_mention_count"),
    }
)
_KEY_RE: Final = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:')
_ESCAPE_RE: Final = re.compile(r"(\\u[0-9a-fA-F]{4}|\\.?)")
_LONG_NUMBER_RE: Final = re.compile(rb"[0-9]{19}")
# Deeper than this, a line is not walked (recursively) but rewritten token by token: orjson
# writes at most 255 levels, Python recurses about 1,000 frames deep.
_MAX_DEPTH: Final = 200
# Invalid UTF-8 travels through orjson as private-use characters of plane 16 (one per bad
# byte, never letters, so kept where they are) and is put back as the same bytes.
_BAD_BYTES: Final = {0xDC80 + b: 0x10FF80 + b for b in range(128)}
_BAD_BYTES_BACK: Final = {v: k for k, v in _BAD_BYTES.items()}
_LITERALS: Final = frozenset({b"true", b"false", b"null"})
# Why a line was rewritten token by token (`RedactStats.token_reasons`), in the summary's order.
INVALID_JSON: Final = "invalid JSON"
REPEATED_KEYS: Final = "a key repeated in an object"
DEPTH: Final = f"nested deeper than {_MAX_DEPTH} levels"
BIG_INTEGER: Final = "an integer past 64 bits"
TOKEN_REASONS: Final = (INVALID_JSON, REPEATED_KEYS, DEPTH, BIG_INTEGER)
# Damage of a file's data that its placeholder reproduces (found by reading the file in full, as
# `validate --verify-files` does): a CRC-32 mismatch (the placeholder's recorded CRC is wrong),
# a compression ratio over the zip-bomb limit (its zeros deflated past 1,000:1).
REPRODUCED_DAMAGE: Final = frozenset({"member-crc-mismatch", "member-ratio"})
# A symlink's placeholder keeps this unix mode (lrwxrwxrwx: what links are zipped with).
_SYMLINK_MODE: Final = 0o120777
# Member names the server or validate look for by name, which name no one: kept as they are.
KEPT_MEMBER_NAMES: Final = frozenset({JSONL_NAME, MMCTL_WARNINGS})


@dataclass(slots=True)
class RedactStats:
    """What `redact` did: lines by type, how they were rewritten, files by placeholder."""

    lines: Counter[str] = field(default_factory=Counter)
    token_rewritten: int = 0  # lines the walk could not take, rewritten token by token
    token_reasons: Counter[str] = field(default_factory=Counter)  # TOKEN_REASONS → count
    too_long: int = 0
    blank: int = 0
    files: Counter[str] = field(default_factory=Counter)  # placeholder kind → count
    file_bytes: int = 0
    larger: int = 0  # image placeholders larger than their original
    unreadable: int = 0  # files that could not be read: zeros
    other_jsonl: int = 0  # JSONL members besides the chosen one (redacted alike)
    files_dropped: int = 0
    file_bytes_dropped: int = 0
    references_dropped: int = 0
    references_kept: int = 0  # on lines rewritten token by token, their files kept too
    names: dict[str, int] = field(default_factory=dict)  # distinct names per kind
    # Zip-level problems of the input a placeholder does not carry: issue code → members, so
    # support knows validate will not see them.
    not_reproduced: Counter[str] = field(default_factory=Counter)
    # Damaged data a placeholder carries over (`REPRODUCED_DAMAGE`): code → members.
    reproduced: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": dict(sorted(self.lines.items())),
            "lines_rewritten_token_by_token": self.token_rewritten,
            "lines_rewritten_token_by_token_why": {
                reason: self.token_reasons[reason]
                for reason in TOKEN_REASONS
                if self.token_reasons[reason]
            },
            "lines_too_long": self.too_long,
            "blank_lines": self.blank,
            "files": {
                "placeholders": dict(sorted(self.files.items())),
                "bytes": self.file_bytes,
                "larger_than_original": self.larger,
                "unreadable": self.unreadable,
                "other_jsonl": self.other_jsonl,
                "dropped": self.files_dropped,
                "bytes_dropped": self.file_bytes_dropped,
                "references_dropped": self.references_dropped,
                "references_kept_on_token_lines": self.references_kept,
            },
            "distinct_names": self.names,
            "problems_not_reproduced": dict(sorted(self.not_reproduced.items())),
            "damaged_data_reproduced": dict(sorted(self.reproduced.items())),
        }


class RedactRun:
    """One redaction of ``archive`` into ``writer`` (see the module docstring)."""

    def __init__(
        self,
        archive: Archive,
        pseudonyms: Pseudonyms,
        attachments: Attachments = "placeholders",
        *,
        files: bool = False,
    ) -> None:
        self.archive = archive
        self.names = pseudonyms
        self.attachments = attachments
        self.stats = RedactStats()
        # Mapped member names of the files kept (as placeholders) when attachments are not:
        # profile and emoji images, and files referenced on lines rewritten token by token
        # while references are dropped (see `_token_string`).
        self._kept_files: set[str] = set()
        # Mapped member name → original (for the reverse mapping), when ``files`` is asked.
        self.files: dict[str, str] = {}
        self._record_files = files
        self._float = False  # the line being walked holds a float (see `line`)
        # Post lines already in orjson's form are rewritten in C, to the same bytes (see
        # _redact.c); every other line, and every line without the extension, is walked here.
        native = native_module("archivekit.write._redact")
        self._native = (
            native.Mapper(
                pseudonyms.word,
                pseudonyms.name,
                pseudonyms.path,
                pseudonyms.spellings(),
                attachments == "drop-references",
                NATIVE_PROPS_KEYS,
            )
            if native is not None
            else None
        )

    def lead(self) -> list[tuple[str, Iterator[bytes]]]:
        """The other JSONL members that come before the chosen one, redacted: they must stay
        ahead of it (older servers import the first .jsonl: `jsonl-choice-differs`). For
        `ArchiveWriter`'s ``lead``; written before `run`."""
        archive = self.archive
        if archive.kind == "jsonl":
            return []
        index = archive.index
        return [
            (self.member_name(index[i]), self._other_jsonl(index[i]))
            for i in range(archive.jsonl.index)
            if _is_jsonl(index[i])
        ]

    def jsonl_traits(self) -> MemberTraits:
        """The JSONL member's traits (for `ArchiveWriter`): a deflate64 JSONL stays deflate64
        (stored blocks: validate reads its lines, the server cannot)."""
        if self.archive.kind != "jsonl" and self.archive.jsonl.method == DEFLATE64:
            return MemberTraits(method=DEFLATE64)
        return PLAIN

    def run(self, writer: ArchiveWriter) -> RedactStats:
        method = self.archive.jsonl.method
        if self.archive.kind != "jsonl" and method not in ENCODED_METHODS:
            # Written with deflate: the server could read this one.
            self.stats.not_reproduced["jsonl-unsupported-compression"] += 1
        jsonl = writer.jsonl
        native = self._native
        lines = self.stats.lines
        for batch in iter_line_batches(self.archive.iter_jsonl_blocks()):
            if native is None:
                for raw in batch:
                    jsonl.write(self.line(raw))
                continue
            # The lines C takes, a block at a time; each line it does not take, here, in its
            # place (names are met in the order of the lines).
            start, end = 0, len(batch)
            while start < end:
                block, start, posts, direct_posts = native.lines(batch, start)
                if block:
                    jsonl.write_lines(block, posts + direct_posts)
                    lines["post"] += posts
                    lines["direct_post"] += direct_posts
                if start < end:
                    jsonl.write(self._walk_line(batch[start]))
                    start += 1
        self._files(writer)
        self.stats.names = self.names.counts()
        return self.stats

    def member_name(self, member: MemberInfo) -> str:
        """The name of ``member`` in the output (recorded for the reverse mapping): its path
        mapped (`Pseudonyms.path`: root-ness, folders, ``..`` and extensions kept, so the
        server picks the same JSONL), but for the names in `KEPT_MEMBER_NAMES`."""
        original = member.name
        name = original if original in KEPT_MEMBER_NAMES else self.names.path(original)
        if self._record_files and name != original:
            self.files[name] = original
        return name

    def _other_jsonl(self, member: MemberInfo) -> Iterator[bytes]:
        """Another JSONL member, redacted line by line like the chosen one. One that cannot
        be read to its end is written as far as it can."""
        self.stats.other_jsonl += 1
        try:
            for batch in iter_line_batches(self.archive.iter_member_blocks(member)):
                yield b"".join([self.line(raw) + b"\n" for raw in batch])
        except ArchiveError:
            self.stats.unreadable += 1

    # --- lines ---
    def line(self, raw: bytes | LineTooLong) -> bytes:
        """The redacted form of one input line (without its ``\\n``)."""
        if self._native is not None and isinstance(raw, bytes):
            taken = self._native.line(raw)
            if taken is not None:
                self.stats.lines[taken[0]] += 1
                return taken[1]  # type: ignore[no-any-return]
        return self._walk_line(raw)

    def _walk_line(self, raw: bytes | LineTooLong) -> bytes:
        """`line` through the Python walk."""
        if isinstance(raw, LineTooLong):
            self.stats.too_long += 1
            return b"x" * raw.length
        stripped = raw.strip()
        if not stripped:
            self.stats.blank += 1
            return raw
        loaded = _loads(raw)
        if loaded is None:
            return self._token_line(raw, _unloadable_reason(raw))
        if _too_deep(raw, loaded[0]):
            return self._token_line(raw, DEPTH)
        if _repeats_a_key(raw):
            return self._token_line(raw, REPEATED_KEYS)
        doc, carried = loaded
        self._float = False
        dropped = self.stats.references_dropped
        walked = self._walk(doc, ENVELOPE)
        if self._float and _LONG_NUMBER_RE.search(raw):
            # orjson reads an integer past 64 bits as a float: its digits would change. Floats
            # are rare in exports, so only a line that holds one is searched for such numbers.
            self.stats.references_dropped = dropped  # counted again by the token path
            return self._token_line(raw, BIG_INTEGER)
        kind = _line_type(doc)
        self.stats.lines[kind] += 1
        body = orjson.dumps(walked)
        if carried:
            text = body.decode("utf-8").translate(_BAD_BYTES_BACK)
            body = text.encode("utf-8", "surrogateescape")
        # Keep the whitespace around the JSON (a CR of a CRLF file, indentation).
        start = raw.find(stripped[:1])
        return raw[:start] + body + raw[start + len(stripped) :]

    def _walk(self, value: Any, spec: Spec) -> Any:
        if isinstance(spec, str):
            if spec == KEEP:
                # A scalar as it is (validation reads it: an invalid locale stays invalid); an
                # object or a list where the format has a scalar is free text, like any value
                # of the wrong type (it can hold anything).
                if not isinstance(value, (dict, list)):
                    if type(value) is float:
                        self._float = True
                    return value
            elif isinstance(value, str):
                return self._leaf(value, spec)
            if spec == _ATTACHMENTS and isinstance(value, list):
                if self.attachments == "drop-references":
                    self.stats.references_dropped += len(value)
                    return _DROP
                return [self._walk(v, {"path": "path"}) for v in value]
            if spec in _PROPS_SPECS:
                if isinstance(value, dict):
                    return self._props(value, spec)
                if isinstance(value, list):
                    return [self._walk(v, PROPS) for v in value]
            spec = TEXT
        elif isinstance(spec, tuple):
            if isinstance(value, list):
                return [self._walk(v, spec[0]) for v in value]
            spec = TEXT
        elif isinstance(spec, frozenset):
            if isinstance(value, str):
                return value if value in spec else self.names.text(value)
            spec = TEXT
        else:
            if isinstance(value, dict):
                out = {}
                default = spec.get("", TEXT)
                for key, item in value.items():
                    folded = _FOLDED.get(key) or _fold(key)
                    child = spec.get(folded, default) if folded else TEXT
                    if type(item) is str and type(child) is str:  # the common case, inline
                        out[key] = item if child == KEEP else self._leaf(item, child)
                        continue
                    mapped = self._walk(item, child)
                    if mapped is not _DROP:
                        out[key] = mapped
                return out
            spec = TEXT
        # Free text anywhere in a value of another shape (props, unknown fields, wrong types).
        if isinstance(value, str):
            return self.names.text(value)
        if isinstance(value, list):
            return [self._walk(v, TEXT) for v in value]
        if isinstance(value, dict):
            return {k: self._walk(v, TEXT) for k, v in value.items()}
        if type(value) is float:
            self._float = True
        return value

    def _props(self, value: dict[str, Any], spec: str) -> dict[str, Any]:
        """An object of props: keys mapped by `_props_key` (those of ``channel_mentions`` as
        channel names), values walked as props. Two keys never become one: the keys kept or
        mapped as names are placed first, then those mapped as free text, each avoiding the
        keys placed (`_props_key`'s ``taken``)."""
        mapped: dict[str, str] = {}
        for key in value:
            if spec == PROPS_CHANNELS:
                mapped[key] = self.names.name("channel", key)
            elif key in PROPS_KEYS or self._known_kind(key) is not None:
                mapped[key] = self._props_key(key)
        taken = set(mapped.values())
        for key in value:
            if key not in mapped:
                mapped[key] = self._props_key(key, taken)
                taken.add(mapped[key])
        return {
            mapped[key]: self._walk(item, _props_child(spec, key)) for key, item in value.items()
        }

    def _known_kind(self, key: str) -> NameKind | None:
        names = self.names
        return next((kind for kind in _KEY_KINDS if names.known(kind, key)), None)

    def _props_key(self, key: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
        """A key of props: kept when the server reads it by name (`PROPS_KEYS`), the
        pseudonym of the user, channel or team it names when it is a known name (so references
        stay consistent), else free text (same length, bytes and classes: props sizes stay) —
        neither one of ``taken`` (the object's other keys) nor a key of `PROPS_KEYS` (which
        would change what the server reads), while another keyed variant is left."""
        if key in PROPS_KEYS:
            return key
        kind = self._known_kind(key)
        if kind is not None:
            return self.names.name(kind, key)
        mapped = self.names.text(key)
        attempt = 1
        while (mapped in taken or mapped in PROPS_KEYS) and attempt < _KEY_ATTEMPTS:
            mapped = self.names.text(key, attempt)
            attempt += 1
        return mapped

    def _leaf(self, value: str, spec: str) -> str:
        names = self.names
        if spec == TEXT:
            return names.text(value)
        if spec == "message":
            return names.message(value)
        if spec in _NAME_LEAVES:
            return names.name(spec, value)  # type: ignore[arg-type]
        if spec == "image":
            self._keep_file(value)
            return names.path(value)
        if spec == "path":
            return names.path(value)
        if spec == "scheme_role":
            return names.scheme_role(value)
        if spec == PROPS_USER and names.known("user", value):
            return names.name("user", value)
        if spec == PROPS_TEAM and names.known("team", value):
            return names.name("team", value)
        if spec == PROPS_FLAG and value in _FLAG_VALUES:
            return value
        return names.text(value)

    def _token_line(self, raw: bytes, reason: str) -> bytes:
        """A line the walk cannot take, counted with ``reason``, rewritten by `_tokens`."""
        self.stats.token_rewritten += 1
        self.stats.token_reasons[reason] += 1
        self.stats.lines["?"] += 1
        return self._tokens(raw, is_json=reason != INVALID_JSON)

    def _tokens(self, raw: bytes, *, is_json: bool = False) -> bytes:
        """A line the walk cannot take (see the module docstring), token by token: what is not
        a string or a bare word as it is; each string mapped as the spec says for where it
        stands (a stack of the specs of the open objects and lists, so no recursion), bare
        words as free text. On a line that is JSON (``is_json``), attachment lists to drop are
        taken out with their key and one comma (`_Skip`)."""
        out: list[bytes] = []
        stack: list[Spec] = []  # each open object's spec, each open list's element spec
        objects: list[bool] = []  # whether each open container is an object
        taken: list[set[str]] = []  # each open container's keys written so far (props: mapped)
        pending: Spec = ENVELOPE  # the spec of the next value
        drop = is_json and self.attachments == "drop-references"
        skip: _Skip | None = None
        number_key = False  # the last token was the key of one of `_NUMBER_KEYS`
        for match in _TOKEN_RE.finditer(raw):
            token = match.group()
            content = match.group(1)
            first = token[:1]
            if skip is not None:
                if content is not None:
                    token = b"" if match.group(3) else skip.value()
                elif first.isalnum() or first in (b"_", b"-", b"."):
                    token = skip.value()
                else:
                    token = skip.brackets(token)
                if not skip.done:
                    continue
                self.stats.references_dropped += skip.elements
                token = _cut_comma(out, skip.start, token)
                skip = None
                pending = stack[-1] if stack and not objects[-1] else TEXT
                first = token[:1]
                if not token:
                    continue
            elif content is not None and match.group(3):  # a key
                parent = stack[-1] if stack and objects[-1] else TEXT
                pending = _child_spec(parent, content)
                if drop and pending == _ATTACHMENTS and raw[match.end() :].lstrip()[:1] == b"[":
                    skip = _Skip(len(out))
                    continue
                if parent in _PROPS_SPECS:
                    mapped = self._token_props_key(content, parent, taken[-1])
                    token = mapped + token[len(content) + 2 :]
                number_key = fold_json_key(_key_text(content)) in _NUMBER_KEYS
                out.append(token)
                continue
            if content is not None:
                out.append(self._token_string(content, pending, match.group(2)))
            elif first.isalpha() or first == b"_" or first >= b"\x80":
                keep = token in _LITERALS or pending == KEEP
                out.append(token if keep else self._token_text(token))
            elif first.isdigit() or first == b"-" or first == b".":
                keep = is_json or number_key or pending == KEEP
                out.append(token if keep else self._token_number(token))
            else:
                out.append(token)
                number_key = number_key and not token.strip()
                for byte in token:
                    if byte == 0x7B:  # {
                        keeps = isinstance(pending, dict) or pending in _PROPS_SPECS
                        stack.append(pending if keeps else TEXT)
                        objects.append(True)
                        taken.append(set())
                    elif byte == 0x5B:  # [
                        stack.append(_element_spec(pending))
                        objects.append(False)
                        taken.append(set())
                    elif byte in (0x5D, 0x7D) and stack:  # ] }
                        stack.pop()
                        objects.pop()
                        taken.pop()
                    else:
                        continue
                    pending = stack[-1] if stack and not objects[-1] else TEXT
                continue
            # After a value: the next is a list's element, or an object's key.
            pending = stack[-1] if stack and not objects[-1] else TEXT
            number_key = False
        return b"".join(out)

    def _token_string(self, content: bytes, spec: Spec, close: bytes) -> bytes:
        """One string of `_tokens` (``content`` between its quotes; ``close``: its closing
        quote, empty when the line ends inside it)."""
        if spec == KEEP:
            return b'"' + content + close
        leaf = spec if isinstance(spec, str) and spec != _ATTACHMENTS else TEXT
        try:
            text: str | None = orjson.loads(b'"' + content + b'"')
        except orjson.JSONDecodeError:
            text = None
        if isinstance(spec, frozenset) and text in spec:
            return b'"' + content + close
        if leaf == "path" and self.attachments == "drop-references":
            # A reference `_tokens` did not take out (on a line that is not JSON, taking a
            # value out could change what the server reads of the rest, and validate counts
            # the file as unreferenced): the file stays, as a placeholder, so validate finds
            # what it found on the input.
            self.stats.references_kept += 1
            if text is not None:
                self._keep_file(text)
        if text is not None:  # written back plainly: the same characters, escaped only where
            body = orjson.dumps(self._leaf(text, leaf))  # JSON must
            return body if close else body[:-1]
        # Escapes Go would refuse (or invalid UTF-8) stay as they are, but a \uXXXX escape of
        # a letter or digit is read as one, with its word (or "password" spelled in escapes
        # would survive).
        parts = _ESCAPE_RE.split(content.decode("utf-8", "surrogateescape"))
        out: list[str] = []
        run: list[str] = []
        for i, part in enumerate(parts):
            if i % 2:
                if part.startswith("\\u") and len(part) == 6:
                    char = chr(int(part[2:], 16))
                    if char.isalnum():
                        run.append(char)
                        continue
                out.append(self.names.text("".join(run)))
                out.append(part)
                run = []
            else:
                run.append(part)
        out.append(self.names.text("".join(run)))
        return b'"' + "".join(out).encode("utf-8", "surrogateescape") + close

    def _token_text(self, token: bytes) -> bytes:
        """A bare word or number of a line that is not JSON, as free text."""
        text = self.names.text(token.decode("utf-8", "surrogateescape"))
        return text.encode("utf-8", "surrogateescape")

    def _token_number(self, token: bytes) -> bytes:
        """A number of a line that is not JSON, as free text — but its first digit stays a zero
        or a digit other than zero, so what a JSON reader says of it stays the same (a leading
        zero is an error)."""
        mapped = bytearray(self._token_text(token))
        first = 1 if token[:1] == b"-" else 0
        if first < len(token) and token[first : first + 1].isdigit():
            if token[first] == 0x30:
                mapped[first] = 0x30
            elif mapped[first] == 0x30:
                mapped[first] = 0x31
        return bytes(mapped)

    def _token_props_key(self, content: bytes, spec: Spec, taken: set[str]) -> bytes:
        """A key of props on a line rewritten token by token (its quotes included), mapped as
        `_props` maps it, avoiding the keys of its object mapped before it (``taken``)."""
        try:
            key = orjson.loads(b'"' + content + b'"')
        except orjson.JSONDecodeError:
            return self._token_string(content, TEXT, b'"')
        if spec == PROPS_CHANNELS:
            mapped = self.names.name("channel", key)
        else:
            mapped = self._props_key(key, taken)
        taken.add(mapped)
        return orjson.dumps(mapped)

    def _keep_file(self, value: str) -> None:
        """Keep the file the JSONL path ``value`` names (as the server resolves it)."""
        key = resolve(value)
        if key is not None:
            self._kept_files.add(self.names.path(DATA_PREFIX + key.removeprefix(DATA_PREFIX)))

    # --- files ---
    def _files(self, writer: ArchiveWriter) -> None:
        archive = self.archive
        if archive.kind == "jsonl":
            return
        chosen = archive.jsonl.index
        for i in range(len(archive.index)):
            member = archive.index[i]
            if i == chosen or (i < chosen and _is_jsonl(member)):
                continue  # the chosen JSONL, or one of `lead`: written already
            if _is_jsonl(member):
                writer.add_member(
                    self.member_name(member), self._other_jsonl(member), method="deflate"
                )
            else:
                self._file(writer, member)

    def _file(self, writer: ArchiveWriter, member: MemberInfo) -> None:
        stats = self.stats
        name = self.member_name(member)
        stats.not_reproduced.update(_lost_problems(member))
        if member.is_dir:
            writer.add_member(name, ())
            return
        if self.attachments != "placeholders" and name not in self._kept_files:
            stats.files_dropped += 1
            stats.file_bytes_dropped += member.size
            return
        image, damage = self._read_file(member)
        made = placeholder(member.size, image)
        traits = MemberTraits(
            flags=member.flags & FLAG_ENCRYPTED,
            unix_mode=_SYMLINK_MODE if member.is_symlink else 0,
            method=None if member.method in SERVER_METHODS else member.method,
            wrong_crc=damage == "member-crc-mismatch",
        )
        if member.encrypted or member.method not in ENCODED_METHODS:
            # Bytes no reader decodes (as the original's): their sizes go ahead of them, so a
            # reader of a stream (validate -) still finds where the member ends.
            writer.add_sized_member(
                name, lambda: placeholder(member.size, image).blocks, member.method, traits
            )
        else:
            writer.add_member(
                name,
                made.blocks,
                method=_method(member),
                # A placeholder expands past the zip-bomb ratio exactly when its original did.
                deflate=FAST_DEFLATE if damage == "member-ratio" else BOUNDED_DEFLATE,
                traits=traits,
            )
        stats.files[made.kind] += 1
        stats.file_bytes += made.size
        stats.larger += made.size > member.size
        if damage is not None:
            stats.reproduced[damage] += 1

    def _read_file(self, member: MemberInfo) -> tuple[tuple[str, int, int] | None, str | None]:
        """The image dimensions of ``member``'s head and the damage of its data that its
        placeholder reproduces (`REPRODUCED_DAMAGE`: what ``validate --verify-files`` reads
        in full finds), or None. A member the server reads is read in full, as validate's
        `--verify-files` reads it; any other only for its head."""
        archive = self.archive
        if member.encrypted:
            return None, None
        head = b""
        damage = None
        parts: list[bytes] = []
        try:
            if member.method in SERVER_METHODS:
                got = 0
                for block in archive.iter_member_blocks(member):
                    if got < HEAD_BYTES:
                        parts.append(block[: HEAD_BYTES - got])
                        got += len(parts[-1])
                head = b"".join(parts)
            else:
                head = archive.read_member_head(member, HEAD_BYTES)
        except ArchiveError as exc:
            if exc.issue.code in REPRODUCED_DAMAGE:
                damage = exc.issue.code
                head = b"".join(parts)
            else:
                self.stats.unreadable += 1
                return None, None
        return image_dimensions(head), damage


class _Skip:
    """An attachment list `RedactRun._tokens` takes out of a line that is JSON: the tokens
    from its opening bracket to its closing one, counting its elements."""

    def __init__(self, start: int) -> None:
        self.start = start  # where its key would have gone in the output
        self.depth = 0
        self.elements = 0
        self.done = False

    def value(self) -> bytes:
        """Skip a string, number or bare word."""
        self.elements += self.depth == 1
        return b""

    def brackets(self, token: bytes) -> bytes:
        """Skip a run of brackets, commas and white space up to the list's closing bracket:
        what follows it in the run is given back, the list done."""
        for i, byte in enumerate(token):
            if byte in (0x5B, 0x7B):  # [ {
                self.depth += 1
                self.elements += self.depth == 2
            elif byte in (0x5D, 0x7D):  # ] }
                self.depth -= 1
                if self.depth == 0:
                    self.done = True
                    return token[i + 1 :]
        return b""


def _cut_comma(out: list[bytes], start: int, rest: bytes) -> bytes:
    """Take out one comma around a member taken out of an object: the one after it (at the
    start of ``rest``, what follows it), else the one before it (ending ``out[start - 1]``, the
    run before its key). ``rest`` without the comma."""
    stripped = rest.lstrip()
    if stripped[:1] == b",":
        return rest[: len(rest) - len(stripped)] + stripped[1:]
    if start > 0:
        before = out[start - 1]
        comma = before.rfind(b",")
        if comma >= 0 and not before[comma + 1 :].strip():
            out[start - 1] = before[:comma] + before[comma + 1 :]
    return rest


def _lost_problems(member: MemberInfo) -> list[str]:
    """The codes of the zip-level problems of ``member`` its output member does not have: a
    placeholder keeps the encryption bit, a symlink's mode, the method id and damaged data
    (`RedactRun._file`), but names are written as NFC tokens."""
    if not member.name.isascii() and not unicodedata.is_normalized("NFC", member.name):
        return ["member-nfd-name"]
    return []


def _is_jsonl(member: MemberInfo) -> bool:
    # Any case, where the server's choice is case-sensitive: a "users.JSONL" beside the
    # import file is text the customer wrote, so it is redacted as lines, never kept.
    return not member.is_dir and member.name.lower().endswith(".jsonl")


def _method(member: MemberInfo) -> str:
    return "stored" if member.method == STORED else "deflate"


def _line_type(doc: Any) -> str:
    if isinstance(doc, dict):
        for key, value in doc.items():
            if fold_json_key(key) == "type" and isinstance(value, str):
                return value if value in PAYLOADS else "?"
    return "?"


def _loads(raw: bytes) -> tuple[Any, bool] | None:
    """The JSON of a line and whether it carries invalid UTF-8 (see `_BAD_BYTES`), or None
    when it is not JSON orjson can carry through unchanged (or an integer past 64 bits)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    else:
        return doc, False
    text = raw.decode("utf-8", "surrogateescape")
    if text.isascii() or not any(0xDC80 <= ord(c) <= 0xDCFF for c in text):
        return None
    if any(ord(c) >= 0x10FF80 for c in text):
        return None  # the carrier characters are in the line itself
    try:
        return orjson.loads(text.translate(_BAD_BYTES)), True
    except orjson.JSONDecodeError:
        return None


def _unloadable_reason(raw: bytes) -> str:
    """Why orjson could not read a line (rare: only such lines are parsed again): JSON that
    Python's reader takes is too deep for orjson or holds an integer past 64 bits."""
    try:
        json.loads(raw.decode("utf-8", "surrogateescape"))
    except RecursionError:
        return DEPTH
    except ValueError:
        return INVALID_JSON
    return BIG_INTEGER if _LONG_NUMBER_RE.search(raw) else DEPTH


def _key_text(key: bytes) -> str:
    """A key as Go reads it (raw bytes between its quotes, escapes decoded)."""
    try:
        name = orjson.loads(b'"' + key + b'"')
    except orjson.JSONDecodeError:
        return key.decode("utf-8", "replace")
    return name if isinstance(name, str) else ""


def _child_spec(spec: Spec, key: bytes) -> Spec:
    """The spec of the value of ``key`` (raw bytes between its quotes) in an object of
    ``spec``, as `RedactRun._walk` finds it."""
    if spec in _PROPS_SPECS:
        return _props_child(spec, _key_text(key))
    if not isinstance(spec, dict):
        return TEXT
    folded = fold_json_key(_key_text(key))
    return spec.get(folded, spec.get("", TEXT)) if folded else TEXT


def _props_child(spec: str, key: str) -> str:
    """The spec of the value of ``key`` in an object of props."""
    if spec == PROPS_FLAG:
        spec = PROPS  # an object as a flag's value: props like any other
    if spec == PROPS_CHANNELS:
        return PROPS_MENTION
    if spec == PROPS_MENTION and key == "team_name":
        return PROPS_TEAM
    if spec == PROPS and key in PROPS_USER_KEYS:
        return PROPS_USER
    if spec == PROPS and key in PROPS_FLAG_KEYS:
        return PROPS_FLAG
    return PROPS_CHANNELS if spec == PROPS and key == CHANNEL_MENTIONS else PROPS


def _element_spec(spec: Spec) -> Spec:
    """The spec of each element of a list of ``spec``, as `RedactRun._walk` finds it."""
    if isinstance(spec, tuple):
        return spec[0]
    if spec == _ATTACHMENTS:
        return {"path": "path"}
    if spec in _PROPS_SPECS:
        return PROPS
    return TEXT


def _too_deep(raw: bytes, doc: Any) -> bool:
    """Whether ``doc`` nests deeper than `_MAX_DEPTH` (counted without recursion, and only
    when the line holds enough brackets to)."""
    if raw.count(b"{") + raw.count(b"[") <= _MAX_DEPTH:
        return False
    level: list[tuple[Any, int]] = [(doc, 1)]
    while level:
        value, depth = level.pop()
        if depth > _MAX_DEPTH:
            return True
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        level.extend((v, depth + 1) for v in value if isinstance(v, dict | list))
    return False


class _RepeatedKey(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> None:
    keys = {fold_json_key(k) or k for k, _ in pairs}
    if len(keys) != len(pairs):
        raise _RepeatedKey


def _repeats_a_key(raw: bytes) -> bool:
    """Whether an object of the line holds a key twice (as Go matches keys): Go merges or
    overwrites, orjson keeps the last. Only a line in which a key is written twice anywhere
    is parsed again to see whether both are in the same object."""
    keys = _KEY_RE.findall(raw)
    if len(set(keys)) == len(keys) and len(set(map(_folded_key, keys))) == len(keys):
        return False
    try:
        json.loads(raw.decode("utf-8", "surrogateescape"), object_pairs_hook=_unique_pairs)
    except _RepeatedKey:
        return True
    except (ValueError, RecursionError):
        return True  # not the JSON orjson read: the token path, to be safe
    return False


def _folded_key(key: bytes) -> str:
    """A raw key as `_unique_pairs` compares it: `fold_json_key` of its text (a plain ASCII
    key without escapes, the common case, is its own text)."""
    text = key.decode("ascii") if key.isascii() and b"\\" not in key else _key_text(key)
    return _fold(text) or text


_FOLDED: dict[str, str] = {}  # key → fold_json_key(key) ("" when nothing can match it)


def _fold(key: str) -> str:
    """`fold_json_key`, remembered: exports repeat a few dozen keys millions of times (the
    table is emptied past 4,096 keys, so a hostile line cannot grow it)."""
    folded = fold_json_key(key) or ""
    if len(_FOLDED) >= 4096:
        _FOLDED.clear()
    _FOLDED[key] = folded
    return folded
