"""`redact`: the same archive with every personal string and file replaced.

One streaming pass over the JSONL, then one over the files, through the writer core
(`write.core`): each line is rewritten in place — one line in, one line out, so every issue
keeps its line number — and each file becomes a same-size placeholder (`write.placeholders`)
under its mapped name, or is left out (``attachments="drop"`` / ``"drop-references"``).

A line is read with ``orjson`` and walked with a spec of the import format (below): each
string is replaced according to what it is (a username, a team name, an email, a message, a
path...; `write.pseudonyms` keeps what the server's rules look at), keys, numbers, booleans,
nulls and the fields listed in `KEPT_VERBATIM` stay as they are, and any string the spec does
not know is treated as free text — so a field a converter invented does not leak either. The
keys of objects are matched the way Go's ``encoding/json`` matches them (case-insensitively).
A line ``orjson`` cannot read (broken JSON, invalid UTF-8, a number out of range) is rewritten
token by token instead: its structure, keys, numbers and escapes stay byte for byte, the
letters and digits inside its strings and bare words are mapped. A line over the scanner's
limit, of which only the length is known, becomes a line of ``x`` of the same length.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from archivekit.check.rules.user import PREFERENCE_KEYS
from archivekit.errors import ArchiveError
from archivekit.gosem.images import HEAD_BYTES, image_dimensions
from archivekit.gosem.paths import resolve
from archivekit.gosem.strings import fold_json_key
from archivekit.native import native_module
from archivekit.read import Archive, MemberInfo
from archivekit.read.framing import LineTooLong, iter_line_batches
from archivekit.write.core import ArchiveWriter
from archivekit.write.placeholders import placeholder
from archivekit.write.pseudonyms import Pseudonyms
from archivekit.write.zipwriter import STORED

Attachments = Literal["placeholders", "drop", "drop-references"]

# What a customer sends unchanged: said in the summary and the manifest.
KEPT_VERBATIM: Final = (
    "the structure: one line for each input line, in the same order; the keys of every object;"
    " the zip's member order and folders",
    "numbers, booleans and nulls: timestamps (create_at, edit_at, delete_at, deleted_at,"
    " last_viewed_at...), counters, flags",
    "enumerations: line types, team and channel types, post types, roles (user, team and"
    " channel memberships, role and scheme role names, permissions), auth_service, locale,"
    " notify props, preferences and themes, custom-status durations",
    "names the server treats specially: reserved usernames (all, channel, matterbot,"
    " system), the reserved prefix of a team name (admin, api, help...), town-square and"
    " off-topic, system emoji, the folder name data",
    "everything in text that is not a letter or a digit: spaces, punctuation, symbols, emoji,"
    " '@' and '.' of emails, '/' of paths; file extensions; top-level domains of emails",
    "sizes: every string but a file path has the same length in characters and in bytes (each"
    " element of a path becomes a 16-character token), every file the same size (images: a"
    " blank image of the same format and dimensions)",
)

# --- the spec of the import format ------------------------------------------------------------
# A leaf names how a string is replaced; a dict walks an object (keys folded as Go matches
# them; unknown keys are free text); a one-element tuple walks each element of a list.
Spec = str | dict[str, "Spec"] | tuple["Spec"]

KEEP: Final = "keep"
TEXT: Final = "text"
_REACTION: Final[Spec] = {"user": "user", "emoji_name": "emoji", "create_at": KEEP}
_ATTACHMENTS: Final[Spec] = "attachments"
_REPLY: Final[dict[str, Spec]] = {
    "user": "user",
    "type": KEEP,
    "message": "message",
    "props": TEXT,
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
_CHANNEL_MEMBER: Final[dict[str, Spec]] = {"name": "channel", "roles": KEEP, "notify_props": KEEP}
_ROLE_OBJECT: Final[dict[str, Spec]] = {"name": KEEP, "permissions": KEEP}
_USER_KEPT: Final = ("auth_service", "roles", "locale", "email_interval", *PREFERENCE_KEYS)
_AVATAR: Final[dict[str, Spec]] = {"username": "user", "profile_image": "image"}
PAYLOADS: Final[dict[str, Spec]] = {
    "version": KEEP,
    "team": {"name": "team", "type": KEEP, "scheme": "scheme"},
    "channel": {"team": "team", "name": "channel", "type": KEEP, "scheme": "scheme"},
    "user": {
        **_AVATAR,
        **dict.fromkeys(_USER_KEPT, KEEP),
        "email": "email",
        "auth_data": "auth",
        "notify_props": {"mention_keys": TEXT, "": KEEP},
        "custom_status": {"emoji": "emoji", "text": TEXT, "": KEEP},
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
    "role": {"name": KEEP, "permissions": KEEP, "scheme_managed": KEEP},
    "post": _POST,
    "direct_channel": {
        "members": ("user",),
        "participants": ({"username": "user", "notify_props": KEEP},),
        "favorited_by": ("user",),
        "shown_by": ("user",),
    },
    "direct_post": {**_POST, "channel_members": ("user",)},
}
# The version line's "info" (generator, its version, when it was written) is not personal.
ENVELOPE: Final[dict[str, Spec]] = {"type": KEEP, "info": KEEP, **PAYLOADS}
_NAME_LEAVES: Final = frozenset({"user", "team", "channel", "emoji", "scheme", "email", "auth"})
_DROP: Final = object()

# Tokens of a line orjson cannot read: strings (terminated or cut at the end), numbers, bare
# words, anything else.
_TOKEN_RE: Final = re.compile(
    rb'"((?:[^"\\]|\\.)*)("|$)(\s*:)?|-?[0-9][0-9.eE+-]*|[A-Za-z_][A-Za-z0-9_]*|[^"A-Za-z0-9_-]+|.',
    re.DOTALL,
)
_ESCAPE_OR_WORD_RE: Final = re.compile(r"\\u[0-9a-fA-F]{4}|\\.|[^\W_]+")
_LONG_NUMBER_RE: Final = re.compile(rb"[0-9]{19}")
_RAW_TYPE_RE: Final = re.compile(rb'"type"\s*:\s*"([a-z_]+)"')
_NAME_BY_TYPE: Final = {
    b"team": "team",
    b"channel": "channel",
    b"user": "team",  # the names of a user line are mostly its teams'
    b"emoji": "emoji",
    b"scheme": "scheme",
}
_NAME_KEYS: Final = {
    **dict.fromkeys(
        ("user", "username", "owner", "members", "channel_members", "flagged_by"), "user"
    ),
    **dict.fromkeys(("favorited_by", "shown_by"), "user"),
    "team": "team",
    "channel": "channel",
    "email": "email",
    "message": "message",
    "emoji_name": "emoji",
    "path": "path",
    "profile_image": "image",
    "image": "image",
}
# Invalid UTF-8 travels through orjson as private-use characters of plane 16 (one per bad
# byte, never letters, so kept where they are) and is put back as the same bytes.
_BAD_BYTES: Final = {0xDC80 + b: 0x10FF80 + b for b in range(128)}
_BAD_BYTES_BACK: Final = {v: k for k, v in _BAD_BYTES.items()}
_LITERALS: Final = frozenset({b"true", b"false", b"null"})
_KEPT_VALUE_KEYS: Final = frozenset({"type", "scope", "roles", "auth_service", "locale"})


@dataclass(slots=True)
class RedactStats:
    """What `redact` did: lines by type, how they were rewritten, files by placeholder."""

    lines: Counter[str] = field(default_factory=Counter)
    token_rewritten: int = 0  # lines orjson could not read, rewritten token by token
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
    names: dict[str, int] = field(default_factory=dict)  # distinct names per kind

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": dict(sorted(self.lines.items())),
            "lines_rewritten_token_by_token": self.token_rewritten,
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
            },
            "distinct_names": self.names,
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
        self._images: set[str] = set()  # mapped member names of profile and emoji images
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
            (index[i].name, self._other_jsonl(index[i]))
            for i in range(archive.jsonl.index)
            if _is_jsonl(index[i])
        ]

    def run(self, writer: ArchiveWriter) -> RedactStats:
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
        self.stats.names = {k: len(v) for k, v in self.names.reverse().items()}
        return self.stats

    def _other_jsonl(self, member: MemberInfo) -> Iterator[bytes]:
        """Another JSONL member, redacted line by line like the chosen one (its name is
        structure: kept). One that cannot be read to its end is written as far as it can."""
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
            self.stats.token_rewritten += 1
            self.stats.lines["?"] += 1
            return self._tokens(raw)
        doc, carried = loaded
        self._float = False
        walked = self._walk(doc, ENVELOPE)
        if self._float and _LONG_NUMBER_RE.search(raw):
            # orjson reads an integer past 64 bits as a float: its digits would change. Floats
            # are rare in exports, so only a line that holds one is searched for such numbers.
            self.stats.token_rewritten += 1
            self.stats.lines["?"] += 1
            return self._tokens(raw)
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
                if not isinstance(value, str) and _has_float(value):
                    self._float = True
                return value
            if isinstance(value, str):
                return self._leaf(value, spec)
            if spec == _ATTACHMENTS and isinstance(value, list):
                if self.attachments == "drop-references":
                    self.stats.references_dropped += len(value)
                    return _DROP
                return [self._walk(v, {"path": "path"}) for v in value]
            spec = TEXT
        elif isinstance(spec, tuple):
            if isinstance(value, list):
                return [self._walk(v, spec[0]) for v in value]
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

    def _leaf(self, value: str, spec: str) -> str:
        names = self.names
        if spec == TEXT:
            return names.text(value)
        if spec == "message":
            return names.message(value)
        if spec in _NAME_LEAVES:
            return names.name(spec, value)  # type: ignore[arg-type]
        if spec == "image":
            key = resolve(value)
            if key is not None:
                self._images.add(names.path("data/" + key.removeprefix("data/")))
            return names.path(value)
        if spec == "path":
            return names.path(value)
        return names.text(value)

    def _tokens(self, raw: bytes) -> bytes:
        """A line orjson cannot read: strings and bare words mapped, the rest as it is. A
        string after a key that names a user, team, channel or email is mapped as that name
        (``name`` by the line's type), so the references Go can still read stay consistent."""
        out = []
        key: str | None = None
        line_type = _RAW_TYPE_RE.search(raw)
        name_kind = _NAME_BY_TYPE.get(line_type.group(1) if line_type else b"", TEXT)
        for match in _TOKEN_RE.finditer(raw):
            token = match.group()
            content = match.group(1)
            if content is not None:
                if match.group(3):  # a key
                    key = fold_json_key(content.decode("utf-8", "replace"))
                    out.append(token)
                    continue
                if key in _KEPT_VALUE_KEYS:
                    out.append(token)
                    continue
                leaf = name_kind if key == "name" else _NAME_KEYS.get(key or "", TEXT)
                text = content.decode("utf-8", "surrogateescape")
                if leaf != TEXT and "\\" not in text:
                    mapped = self._leaf(text, leaf)
                else:
                    mapped = _ESCAPE_OR_WORD_RE.sub(self._word_outside_escape, text)
                out.append(b'"' + mapped.encode("utf-8", "surrogateescape") + match.group(2))
            elif token[:1].isalpha() or token[:1] == b"_":
                bare = token if token in _LITERALS else self.names.text(token.decode()).encode()
                out.append(bare)
            else:
                out.append(token)
        return b"".join(out)

    def _word_outside_escape(self, match: re.Match[str]) -> str:
        token = match.group()
        return token if token.startswith("\\") else self.names.word(token)

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
                writer.add_member(member.name, self._other_jsonl(member), method="deflate")
            else:
                self._file(writer, member)

    def _file(self, writer: ArchiveWriter, member: MemberInfo) -> None:
        stats = self.stats
        name = self.names.path(member.name)
        if self._record_files:
            self.files[name] = member.name
        if member.is_dir:
            writer.add_member(name, ())
            return
        if self.attachments != "placeholders" and name not in self._images:
            stats.files_dropped += 1
            stats.file_bytes_dropped += member.size
            return
        image = None
        try:
            if not member.encrypted:
                image = image_dimensions(self.archive.read_member_head(member, HEAD_BYTES))
        except ArchiveError:
            stats.unreadable += 1
        made = placeholder(member.size, image)
        writer.add_member(name, made.blocks, method=_method(member))
        stats.files[made.kind] += 1
        stats.file_bytes += made.size
        stats.larger += made.size > member.size


def _is_jsonl(member: MemberInfo) -> bool:
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


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


_FOLDED: dict[str, str] = {}  # key → fold_json_key(key) ("" when nothing can match it)


def _fold(key: str) -> str:
    """`fold_json_key`, remembered: exports repeat a few dozen keys millions of times (the
    table is emptied past 4,096 keys, so a hostile line cannot grow it)."""
    folded = fold_json_key(key) or ""
    if len(_FOLDED) >= 4096:
        _FOLDED.clear()
    _FOLDED[key] = folded
    return folded
