"""Synthetic Mattermost import archives: a test factory and a streaming realistic generator.

Owns three things used by tests, ``sample_exports/``, the benchmark and fuzzing:

* ``write_zip``: archives laid out like Mattermost's exporter (Go ``archive/zip``: streaming
  entries with a data descriptor, no modified time, zip64 only when needed), through
  `archivekit.write.zipwriter`, plus Deflate64 (method 9) members, which ``zipfile`` cannot
  write;
* ``make_archive`` plus record builders (``team``, ``channel``, ``user``, ``post``...) so a
  test reads like the archive it builds;
* ``generate_export``: a deterministic, realistic export of any size, streamed to the zip
  member with bounded memory, whose every record is valid per the reference spec.

Tiny image builders (``png_bytes`` and friends) give attachments chosen dimensions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import orjson

from archivekit.check.rules.context import (
    DEFAULT_CHANNELS,
    DEFAULT_MAX_POST_SIZE,
    TOWN_SQUARE,
)
from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.gosem.paths import DATA_PREFIX
from archivekit.read.zipdir import U32_MAX
from archivekit.write.core import FLUSH_BYTES, JSONL_NAME
from archivekit.write.placeholders import blank_image
from archivekit.write.zipwriter import (
    GO_DEFLATE,
    Z_FINISH,
    Compressor,
    MemberWriter,
    ZipWriter,
    codec,
)

Method = Literal["stored", "deflate", "deflate64"]

__all__ = [
    "OMIT",
    "GenerateStats",
    "Line",
    "Method",
    "ZipMember",
    "bot",
    "channel",
    "converter_export",
    "direct_channel",
    "direct_post",
    "emoji",
    "generate_export",
    "gif_bytes",
    "iter_lines",
    "jpeg_header_bytes",
    "make_archive",
    "png_bytes",
    "post",
    "reaction",
    "reply",
    "role",
    "scheme",
    "team",
    "user",
    "version",
    "webp_bytes",
    "write_zip",
]

# ---------------------------------------------------------------------------------------------
# Zip writing: archivekit.write.zipwriter, plus Deflate64 (method 9), which only tests write
# ---------------------------------------------------------------------------------------------

_DEFLATE64_VERSION_NEEDED: Final = 21


class _Deflate64:
    """Deflate64 compressor for `ZipWriter.open_with`. Imported lazily: inflate64 is a
    dev-only dependency (method 9 members are only ever *written* by tests, samples and the
    benchmark)."""

    def __init__(self) -> None:
        import inflate64

        self._d64 = inflate64.Deflater()

    def compress(self, data: bytes | bytearray | memoryview, /) -> bytes:
        return bytes(self._d64.deflate(bytes(data)))

    def flush(self, mode: int = Z_FINISH, /) -> bytes:
        if mode != Z_FINISH:
            raise ValueError("the deflate64 writer can only finish its stream")
        return bytes(self._d64.flush())


def _open_member(writer: ZipWriter, name: str, method: Method) -> MemberWriter:
    """A member streamed like Go's writer; deflate at Go's default level (zlib 6)."""
    if method == "deflate64":
        return writer.open_with(name, 9, _Deflate64(), _DEFLATE64_VERSION_NEEDED)
    return writer.open(name, method, deflate=GO_DEFLATE)


def _write_member(writer: ZipWriter, name: str, data: bytes, method: Method) -> None:
    with _open_member(writer, name, method) as member:
        member.write(data)


def _write_sized(writer: ZipWriter, name: str, data: bytes, method: Method) -> None:
    """A member with its sizes and CRC-32 in the local header and no data descriptor, as
    Python's zipfile and Info-ZIP write (a stream then needs no scan to find its end)."""
    compressor: Compressor
    if method == "deflate64":
        method_id, compressor = 9, _Deflate64()
    else:
        method_id, compressor = codec(method, GO_DEFLATE)
    packed = compressor.compress(data) + compressor.flush()
    writer.write_compressed(name, method_id, 0, zlib.crc32(data), len(packed), len(data), [packed])


@dataclass(frozen=True, slots=True)
class ZipMember:
    """One member for ``write_zip``: name exactly as stored, content, compression method;
    ``sized``: its sizes in the local header instead of a data descriptor after its data."""

    name: str
    data: bytes
    method: Method = "stored"
    sized: bool = False


def write_zip(
    path: str | Path, members: Iterable[ZipMember], *, zip64_limit: int = U32_MAX
) -> Path:
    """Write ``members`` in order, names verbatim (duplicates, backslashes, ``./`` allowed).
    ``zip64_limit`` lowers the size at which zip64 records are used (tests)."""
    path = Path(path)
    with path.open("wb") as fp:
        writer = ZipWriter(fp, zip64_limit=zip64_limit)
        for member in members:
            write = _write_sized if member.sized else _write_member
            write(writer, member.name, member.data, member.method)
        writer.close()
    return path


# ---------------------------------------------------------------------------------------------
# Record builders
# ---------------------------------------------------------------------------------------------


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT: Final = _Omit()
"""Pass as a keyword value to a builder to drop that key (e.g. ``team("x", type=OMIT)``)."""

Record = dict[str, Any]


def _payload(defaults: Record, overrides: Mapping[str, Any]) -> Record:
    merged = {**defaults, **overrides}
    return {k: v for k, v in merged.items() if v is not OMIT}


def _envelope(line_type: str, payload: Record) -> Record:
    return {"type": line_type, line_type: payload}


def version(**info: Any) -> Record:
    """The version line; keyword arguments become its optional ``info`` object."""
    line: Record = {"type": "version", "version": 1}
    if info:
        line["info"] = info
    return line


def team(name: str, **kw: Any) -> Record:
    return _envelope(
        "team",
        _payload(
            {
                "name": name,
                "display_name": name.replace("-", " ").title()[:64] or name,
                "type": "O",
                "description": "",
                "allow_open_invite": False,
            },
            kw,
        ),
    )


def channel(team: str, name: str, **kw: Any) -> Record:
    return _envelope(
        "channel",
        _payload(
            {
                "team": team,
                "name": name,
                "display_name": name.replace("-", " ").title()[:64] or name,
                "type": "O",
                "header": "",
                "purpose": "",
            },
            kw,
        ),
    )


def _channel_membership(name: str, roles: str) -> Record:
    return {
        "name": name,
        "roles": roles,
        "notify_props": {"desktop": "default", "mobile": "default", "mark_unread": "all"},
        "favorite": False,
    }


def user(
    username: str,
    teams: Iterable[str | Mapping[str, Any]] | Mapping[str, Sequence[str]] = (),
    **kw: Any,
) -> Record:
    """A user line. ``teams`` is team names, ``{team: [channels]}``, or ready team entries.

    Non-guest members are put in ``town-square`` explicitly (the server auto-adds them anyway,
    and the channel must exist). With ``roles="system_guest"`` the team/channel roles are the
    guest ones and no town-square is added (guests are not auto-added).
    """
    guest = "system_guest" in str(kw.get("roles", ""))
    team_role, channel_role = (
        ("team_guest", "channel_guest") if guest else ("team_user", "channel_user")
    )
    if isinstance(teams, Mapping):
        teams = [{"name": name, "channels": list(chans)} for name, chans in teams.items()]
    entries: list[Record] = []
    for item in teams:
        if isinstance(item, str):
            item = {"name": item, "channels": []}
        elif "roles" in item:  # a ready team entry: written verbatim
            entries.append(dict(item))
            continue
        names = list(item["channels"]) if guest else [TOWN_SQUARE, *item["channels"]]
        entries.append(
            {
                "name": item["name"],
                "roles": team_role,
                "channels": [_channel_membership(c, channel_role) for c in dict.fromkeys(names)],
            }
        )
    return _envelope(
        "user",
        _payload(
            {
                "username": username,
                "email": f"{username.lower()}@example.com",
                "auth_service": None,
                "nickname": "",
                "first_name": username.split(".")[0].title(),
                "last_name": "",
                "position": "",
                "roles": "system_user",
                "locale": "en",
                "delete_at": 0,
                "teams": entries,
            },
            kw,
        ),
    )


def bot(username: str, owner: str, **kw: Any) -> Record:
    return _envelope(
        "bot",
        _payload(
            {
                "username": username,
                "display_name": username.replace("-", " ").title()[:64],
                "owner": owner,
                "description": "",
            },
            kw,
        ),
    )


def _attachments(value: Any) -> Any:
    """Builders accept plain path strings for attachments (``["a/b.png"]``)."""
    if isinstance(value, list | tuple):
        return [{"path": v} if isinstance(v, str) else v for v in value]
    return value


def reaction(user: str, emoji_name: str, create_at: int) -> Record:
    return {"user": user, "emoji_name": emoji_name, "create_at": create_at}


def reply(user: str, message: str, create_at: int, **kw: Any) -> Record:
    if "attachments" in kw:
        kw["attachments"] = _attachments(kw["attachments"])
    return _payload({"user": user, "message": message, "create_at": create_at}, kw)


def post(team: str, channel: str, user: str, message: str, create_at: int, **kw: Any) -> Record:
    if "attachments" in kw:
        kw["attachments"] = _attachments(kw["attachments"])
    return _envelope(
        "post",
        _payload(
            {
                "team": team,
                "channel": channel,
                "user": user,
                "message": message,
                "create_at": create_at,
            },
            kw,
        ),
    )


def direct_channel(members: Sequence[str], *, participants: bool = False, **kw: Any) -> Record:
    """A DM/GM line; ``participants=True`` writes v10.1+ ``participants`` instead of ``members``."""
    if participants:
        defaults: Record = {"participants": [_participant(m) for m in members], "header": ""}
    else:
        defaults = {"members": list(members), "header": ""}
    return _envelope("direct_channel", _payload(defaults, kw))


def _participant(username: str, last_viewed_at: int = 0, msg_count: int = 0) -> Record:
    return {
        "username": username,
        "scheme_user": True,
        "scheme_admin": False,
        "scheme_guest": False,
        "notify_props": {
            "desktop": "default",
            "mobile": "default",
            "mark_unread": "all",
            "email": "default",
            "ignore_channel_mentions": "default",
            "channel_auto_follow_threads": "off",
        },
        "msg_count": msg_count,
        "msg_count_root": msg_count,
        "mention_count": 0,
        "mention_count_root": 0,
        "urgend_mention_count": 0,  # sic: the server's JSON key
        "last_viewed_at": last_viewed_at,
    }


def direct_post(
    members: Sequence[str], user: str, message: str, create_at: int, **kw: Any
) -> Record:
    if "attachments" in kw:
        kw["attachments"] = _attachments(kw["attachments"])
    return _envelope(
        "direct_post",
        _payload(
            {
                "channel_members": list(members),
                "user": user,
                "message": message,
                "create_at": create_at,
            },
            kw,
        ),
    )


def emoji(name: str, image: str) -> Record:
    return _envelope("emoji", {"name": name, "image": image})


# Ids present in every server's permission list since v5 (model/permission.go), so role lines
# built with them are valid on any target.
_BASIC_PERMISSIONS: Final = (
    "create_post",
    "read_channel",
    "add_reaction",
    "remove_reaction",
    "upload_file",
    "edit_post",
    "delete_post",
)


def _role_object(name: str, display_name: str, permissions: Sequence[str]) -> Record:
    return {
        "name": name,
        "display_name": display_name,
        "description": "",
        "permissions": list(permissions),
        "scheme_managed": True,
    }


def role(name: str, permissions: Sequence[str] = _BASIC_PERMISSIONS, **kw: Any) -> Record:
    defaults = _role_object(name, name.replace("_", " ").title(), permissions)
    defaults["scheme_managed"] = False
    return _envelope("role", _payload(defaults, kw))


def scheme(name: str, scope: Literal["team", "channel"] = "team", **kw: Any) -> Record:
    """A scheme with valid role objects for ``scope`` (team scope also gets team roles)."""
    kinds = ["channel_admin", "channel_user", "channel_guest"]
    if scope == "team":
        kinds = ["team_admin", "team_user", "team_guest", *kinds]
    defaults: Record = {
        "name": name,
        "display_name": name.replace("_", " ").title(),
        "description": "",
        "scope": scope,
    }
    for kind in kinds:
        defaults[f"default_{kind}_role"] = _role_object(
            f"{name}_{kind}",
            f"{kind.replace('_', ' ').title()} Role for Scheme",
            _BASIC_PERMISSIONS,
        )
    return _envelope("scheme", _payload(defaults, kw))


# ---------------------------------------------------------------------------------------------
# make_archive: the test factory
# ---------------------------------------------------------------------------------------------

Line = Mapping[str, Any] | bytes | str


def _line_bytes(line: Line) -> bytes:
    if isinstance(line, bytes):
        return line
    if isinstance(line, str):
        return line.encode("utf-8")
    return orjson.dumps(line)


def _is_version_line(line: Line) -> bool:
    if isinstance(line, bytes | str):
        try:
            line = orjson.loads(line)
        except orjson.JSONDecodeError:
            return False
    return isinstance(line, Mapping) and line.get("type") == "version"


def make_archive(
    path: str | Path,
    lines: Sequence[Line],
    files: Mapping[str, bytes] = {},
    *,
    jsonl_name: str = JSONL_NAME,
    method: Method = "deflate",
    attachment_method: Method = "stored",
    file_methods: Mapping[str, Method] = {},
    version_line: bool = True,
) -> Path:
    """Write an import archive: the JSONL first, then ``files`` (zip names, verbatim) in order,
    each in ``attachment_method`` unless ``file_methods`` names another for it.

    Dicts are serialised compactly; bytes/str lines are written verbatim (for broken lines).
    Every line ends with ``\\n``. ``version_line`` prepends the version line unless the first
    line already is one.
    """
    body = [_line_bytes(line) for line in lines]
    if version_line and not (lines and _is_version_line(lines[0])):
        body.insert(0, orjson.dumps(version()))
    jsonl = b"".join(b + b"\n" for b in body)
    members = [ZipMember(jsonl_name, jsonl, method)]
    members += [
        ZipMember(name, data, file_methods.get(name, attachment_method))
        for name, data in files.items()
    ]
    return write_zip(path, members)


# ---------------------------------------------------------------------------------------------
# Image builders (dimension tests)
# ---------------------------------------------------------------------------------------------


def png_bytes(width: int, height: int) -> bytes:
    """A complete, decodable black 1-bit grayscale PNG: redact's blank PNG at its smallest
    (`archivekit.write.placeholders`). Rows are compressed a block at a time, so even
    8000x5000 px costs ~5 KB of memory and output."""
    if width < 1 or height < 1:
        raise ValueError("PNG dimensions must be positive")
    return blank_image("png", width, height)


def jpeg_header_bytes(width: int, height: int) -> bytes:
    """SOI, a baseline SOF0 frame header with the given size, EOI: enough for a header-only
    decoder (Go ``image.DecodeConfig``), not for decoding pixels (redact's header-only JPEG)."""
    if not (0 < width <= 0xFFFF and 0 < height <= 0xFFFF):
        raise ValueError("JPEG dimensions must be 1..65535")
    return blank_image("jpeg", width, height, header_only=True)


def gif_bytes(width: int, height: int) -> bytes:
    """A valid GIF89a with a ``width`` x ``height`` logical screen and one 1x1 frame (redact's
    blank GIF)."""
    if not (0 < width <= 0xFFFF and 0 < height <= 0xFFFF):
        raise ValueError("GIF dimensions must be 1..65535")
    return blank_image("gif", width, height)


def webp_bytes(width: int, height: int) -> bytes:
    """RIFF/WEBP with a VP8X header carrying the canvas size (header-only: no image data;
    redact's header-only WebP)."""
    if not (0 < width <= 1 << 24 and 0 < height <= 1 << 24):
        raise ValueError("WebP dimensions must be 1..16777216")
    return blank_image("webp", width, height, header_only=True)


# ---------------------------------------------------------------------------------------------
# generate_export: deterministic, realistic, streaming
# ---------------------------------------------------------------------------------------------

_WORD_TEXT = """
the release build deploy server client query index cache latency review merge branch ticket
customer meeting agenda roadmap sprint backlog design mockup feedback launch metrics dashboard
alert incident postmortem rollback migration schema database backup restore archive export
import channel team thread reply update status blocked done today tomorrow yesterday please
thanks great idea question answer docs wiki test flaky pipeline runner config secret token
login password reset invite onboarding budget quarter forecast plan goal risk owner deadline
estimate scope priority bug fix patch version upgrade downgrade network storage bucket region
cluster node pod container image registry package dependency library framework api endpoint
payload response request timeout retry error warning log trace span monitor coffee lunch
"""
_WORDS: Final = tuple(_WORD_TEXT.split())
_UNICODE_BITS: Final = (
    "café",
    "naïve",
    "Zürich",
    "São Paulo",
    "日本語のテスト",
    "привет",
    "🎉",
    "👍",
    "🚀",
    "ñandú",
    "Ωmega",
    "中文",
)
_NAME_TEXT = """
alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil
trent victor walter yara zoe
|smith jones brown garcia miller davis lopez wilson moore clark"""
_FIRST_NAMES: Final = tuple(_NAME_TEXT.split("|")[0].split())
_LAST_NAMES: Final = tuple(_NAME_TEXT.split("|")[1].split())
_DISPLAY_FIRST: Final = {"zoe": "Zoë", "yara": "Yára", "niaj": "Niaj"}
_TEAM_NAMES: Final = (
    "engineering",
    "marketing",
    "sales",
    "design",
    "support",
    "research",
    "operations",
    "finance",
)
_CHANNEL_NAMES: Final = (
    *DEFAULT_CHANNELS,
    "announcements",
    "random",
    "release-planning",
    "design-review",
    "incident-response",
    "frontend",
    "backend",
    "qa",
    "customer-feedback",
    "watercooler",
)
_BOT_NAMES: Final = ("build-bot", "standup-bot", "alerts", "survey-bot", "github", "jira")
_EMOJI_NAMES: Final = ("thumbsup", "+1", "smile", "tada", "heart", "eyes", "white_check_mark")
_ID_ALPHABET: Final = "abcdefghijkmnopqrstuwxyz13456789"  # Mattermost NewId's base32 alphabet
_EPOCH_MS: Final = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_MAX_TEAM_MEMBERS: Final = 50  # TeamSettings.MaxUsersPerTeam default


@dataclass(frozen=True, slots=True)
class GenerateStats:
    """What ``generate_export`` wrote."""

    lines: Mapping[str, int]
    replies: int
    reactions: int
    attachments: int
    reply_attachments: int
    jsonl_bytes: int
    archive_bytes: int

    @property
    def total_lines(self) -> int:
        return sum(self.lines.values())


@dataclass(slots=True)
class _Channel:
    team: str
    name: str
    id: str
    private: bool
    members: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Team:
    name: str
    id: str
    channels: list[_Channel] = field(default_factory=list)


@dataclass(slots=True)
class _User:
    username: str
    id: str
    first: str
    last: str
    guest: bool = False
    deactivated: bool = False
    teams: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Direct:
    members: list[str]
    id: str


@dataclass(frozen=True, slots=True)
class _PlannedFile:
    member: str
    kind: str
    index: int


@dataclass(slots=True)
class _Counts:
    lines: Counter[str] = field(default_factory=Counter)
    replies: int = 0
    reactions: int = 0
    reply_attachments: int = 0
    jsonl_bytes: int = 0


class _LineSink:
    """Buffers JSONL lines and hands them to the zip member in ~256 KiB chunks."""

    def __init__(self, member: MemberWriter, counts: _Counts) -> None:
        self._member = member
        self._counts = counts
        self._buffer = bytearray()

    def write(self, record: Record) -> None:
        self._buffer += orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
        self._counts.lines[record["type"]] += 1
        if len(self._buffer) >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._counts.jsonl_bytes += len(self._buffer)
            self._member.write(self._buffer)
            self._buffer.clear()


class _Generator:
    """One run of ``generate_export``: the world (teams, users, DMs) and the line writers."""

    def __init__(self, rng: random.Random, attachment_bytes: int) -> None:
        self.rng = rng
        self.attachment_bytes = attachment_bytes
        self.teams: list[_Team] = []
        self.users: list[_User] = []
        self.bots: list[str] = []
        self.directs: list[_Direct] = []
        self.custom_emojis: list[str] = []
        self.files: list[_PlannedFile] = []
        self.counts = _Counts()
        self.clock = _EPOCH_MS

    # -- ids, words, messages -----------------------------------------------------------------

    def new_id(self) -> str:
        return "".join(self.rng.choices(_ID_ALPHABET, k=26))

    def sentence(self, n: int) -> str:
        words = self.rng.choices(_WORDS, k=n)
        words[0] = words[0].capitalize()
        return " ".join(words) + self.rng.choice(".!?.")

    def message(self, people: Sequence[str]) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.70:
            text = self.sentence(rng.randint(3, 20))
        elif r < 0.92:
            text = " ".join(self.sentence(rng.randint(5, 15)) for _ in range(rng.randint(2, 6)))
        elif r < 0.99:
            text = "\n\n".join(
                " ".join(self.sentence(rng.randint(6, 18)) for _ in range(4))
                for _ in range(rng.randint(2, 5))
            )
        else:
            text = self.markdown_document()
        decoration = rng.random()
        if decoration < 0.05:
            text = f"**{text}**"
        elif decoration < 0.09:
            text += f" `{rng.choice(_WORDS)}_{rng.choice(_WORDS)}()`"
        elif decoration < 0.12:
            text += f"\n- {self.sentence(4)}\n- {self.sentence(5)}\n- {self.sentence(3)}"
        elif decoration < 0.14:
            text += f"\n```python\nprint({rng.choice(_WORDS)!r})\n```"
        elif decoration < 0.16:
            text += f" See [the docs](https://example.com/{rng.choice(_WORDS)})."
        if rng.random() < 0.10:
            text += " " + rng.choice(_UNICODE_BITS)
        if people and rng.random() < 0.10:
            text = f"@{rng.choice(people)} {text}"
        if rng.random() < 0.03:
            text += f" #{rng.choice(_WORDS)}"
        return text[:DEFAULT_MAX_POST_SIZE]

    def markdown_document(self) -> str:
        rng = self.rng
        sections = []
        for _ in range(rng.randint(3, 8)):
            body = " ".join(self.sentence(rng.randint(8, 20)) for _ in range(rng.randint(3, 8)))
            sections.append(f"## {self.sentence(3)[:-1]}\n\n{body}")
        return "\n\n".join(sections)

    def tick(self, low: int = 1, high: int = 90_000) -> int:
        self.clock += self.rng.randint(low, high)
        return self.clock

    # -- the world ----------------------------------------------------------------------------

    def build_world(
        self, teams: int, channels_per_team: int, users: int, bots: int, emojis: int
    ) -> None:
        rng = self.rng
        for t in range(teams):
            base = _TEAM_NAMES[t % len(_TEAM_NAMES)]
            name = base if t < len(_TEAM_NAMES) else f"{base}-{t}"
            tm = _Team(name=name, id=self.new_id())
            for c in range(channels_per_team):
                cbase = _CHANNEL_NAMES[c % len(_CHANNEL_NAMES)]
                cname = cbase if c < len(_CHANNEL_NAMES) else f"{cbase}-{c}"
                private = c >= 2 and rng.random() < 0.25
                tm.channels.append(_Channel(name, cname, self.new_id(), private))
            self.teams.append(tm)
        seen: set[str] = set()
        for i in range(users):
            first = _FIRST_NAMES[i % len(_FIRST_NAMES)]
            last = _LAST_NAMES[(i // len(_FIRST_NAMES) + i) % len(_LAST_NAMES)]
            username = f"{first}.{last}"
            if username in seen:
                username = f"{username}{i}"
            seen.add(username)
            u = _User(username, self.new_id(), first, last)
            # A guest and a deactivated user once there are enough people to spare them.
            u.guest = users >= 8 and i == 5
            u.deactivated = users >= 8 and i == 6
            self.users.append(u)
        self.assign_memberships()
        self.bots = [
            _BOT_NAMES[i] if i < len(_BOT_NAMES) else f"{_BOT_NAMES[i % len(_BOT_NAMES)]}{i}"
            for i in range(bots)
        ]
        self.custom_emojis = [f"custom-{_WORDS[(i * 11) % len(_WORDS)]}{i}" for i in range(emojis)]

    def assign_memberships(self) -> None:
        if not self.teams:
            return
        rng = self.rng
        size = {t.name: 0 for t in self.teams}
        for i, u in enumerate(self.users):
            home = self.teams[i % len(self.teams)]
            picks = [home]
            if len(self.teams) > 1 and not u.guest and rng.random() < 0.3:
                picks.append(self.teams[(i + 1) % len(self.teams)])
            for tm in picks:
                # Stay within MaxUsersPerTeam: extra users simply get no membership there.
                if size[tm.name] >= _MAX_TEAM_MEMBERS:
                    continue
                size[tm.name] += 1
                u.teams.append(tm.name)
                for idx, ch in enumerate(tm.channels):
                    if u.guest:
                        # Guests are never auto-added to town-square: one explicit channel.
                        if idx == min(2, len(tm.channels) - 1):
                            ch.members.append(u.username)
                    elif idx == 0 or rng.random() < (0.8 if idx == 1 else 0.5):
                        ch.members.append(u.username)

    def plan_directs(self, dm_channels: int, gm_channels: int) -> None:
        """Distinct member sets: DMs of 2 users, GMs of 3-5 (the server allows 3-8)."""
        rng = self.rng
        names = [u.username for u in self.users]
        sizes = [2] * dm_channels if len(names) >= 2 else []
        if len(names) >= 3:
            sizes += [rng.randint(3, min(5, len(names))) for _ in range(gm_channels)]
        seen: set[tuple[str, ...]] = set()
        for size in sizes:
            for _ in range(50):  # a tiny user list may run out of distinct sets: stop trying
                members = tuple(sorted(rng.sample(names, size)))
                if members not in seen:
                    seen.add(members)
                    self.directs.append(_Direct(list(members), self.new_id()))
                    break

    # -- lines --------------------------------------------------------------------------------

    def user_line(self, u: _User, profile_images: bool) -> Record:
        rng = self.rng
        by_team = {t.name: t for t in self.teams}
        team_entries = []
        for team_name in u.teams:
            channel_entries = []
            for ch in by_team[team_name].channels:
                if u.username not in ch.members:
                    continue
                if u.guest:
                    channel_roles = "channel_guest"
                elif rng.random() < 0.1:
                    channel_roles = "channel_admin channel_user"
                else:
                    channel_roles = "channel_user"
                entry = _channel_membership(ch.name, channel_roles)
                entry["favorite"] = rng.random() < 0.2
                entry["last_viewed_at"] = _EPOCH_MS + rng.randint(0, 10**9)
                channel_entries.append(entry)
            team_roles = "team_guest" if u.guest else "team_user"
            if u is self.users[0]:
                team_roles = "team_admin team_user"
            team_entries.append(
                {
                    "name": team_name,
                    "roles": team_roles,
                    "theme": "",
                    "channels": channel_entries,
                }
            )
        roles = "system_user"
        if u.guest:
            roles = "system_guest"
        elif u is self.users[0]:
            roles = "system_admin system_user"
        line = user(
            u.username,
            team_entries,
            email=f"{u.username}@example.com",
            nickname=u.first if rng.random() < 0.3 else "",
            first_name=_DISPLAY_FIRST.get(u.first, u.first.title()),
            last_name=u.last.title(),
            position=rng.choice(["", "", "Engineer", "Designer", "Product Manager", "Support"]),
            roles=roles,
            locale=rng.choice(["en", "en", "en", "de", "fr", "es"]),
            delete_at=_EPOCH_MS + 86_400_000 if u.deactivated else 0,
            notify_props={
                "desktop": rng.choice(["all", "mention", "none"]),
                "desktop_sound": "true",
                "email": rng.choice(["true", "false"]),
                "mobile": "mention",
                "mobile_push_status": "away",
                "channel": "true",
                "comments": rng.choice(["any", "root", "never"]),
                "mention_keys": "",
            },
            military_time=rng.choice(["true", "false"]),
            link_previews="true",
            message_display=rng.choice(["clean", "compact"]),
            collapse_consecutive_messages="false",
            colorize_usernames="true",
            channel_display_mode="full",
            tutorial_step="999",
            formatting="true",
            show_unread_section="true",
            email_interval=rng.choice(["immediately", "fifteen", "hour"]),
        )
        if profile_images:
            line["user"]["profile_image"] = f"users/{u.id}/profile.png"
        if rng.random() < 0.05:
            line["user"]["custom_status"] = {
                "emoji": "palm_tree",
                "text": "On vacation",
                "duration": "date_and_time",
                "expires_at": "2030-01-01T00:00:00Z",
            }
        return line

    def reactions(self, people: Sequence[str], after: int) -> list[Record]:
        rng = self.rng
        names = _EMOJI_NAMES + tuple(self.custom_emojis)
        out = []
        for who in rng.sample(list(people), min(len(people), rng.randint(1, 3))):
            out.append(reaction(who, rng.choice(names), after + rng.randint(0, 3_600_000)))
        self.counts.reactions += len(out)
        return out

    def attachment(self, team_id: str, channel_id: str, author: _User | None, at: int) -> Record:
        index = len(self.files)
        kind = ("png", "txt", "csv", "bin", "png")[index % 5]
        names = {
            "png": f"screenshot-{index}.png",
            "txt": "notes.txt" if index % 3 else "résumé.txt",
            "csv": f"report-{index}.csv",
            "bin": f"dump-{index}.bin",
        }
        day = dt.datetime.fromtimestamp(at / 1000, dt.UTC).strftime("%Y%m%d")
        user_id = author.id if author else self.new_id()
        path = (
            f"{day}/teams/{team_id}/channels/{channel_id}/users/{user_id}/"
            f"{self.new_id()}/{names[kind]}"
        )
        self.files.append(_PlannedFile(DATA_PREFIX + path, kind, index))
        return {"path": path}

    def file_content(self, planned: _PlannedFile) -> bytes:
        if planned.kind == "png":
            return png_bytes(32 + planned.index % 7 * 16, 24 + planned.index % 5 * 8)
        if planned.kind == "bin":
            return random.Random(planned.index).randbytes(self.attachment_bytes)
        line = f"{planned.index},line,{' '.join(_WORDS[:8])}\n".encode()
        return (line * (self.attachment_bytes // len(line) + 1))[: self.attachment_bytes]

    def thread(
        self,
        people: Sequence[str],
        parent_at: int,
        reply_ratio: float,
        reaction_ratio: float,
        attach: tuple[str, str] | None,
        by_name: Mapping[str, _User],
        force: bool = False,
    ) -> tuple[list[Record], bool]:
        """Replies for one root post; returns (replies, whether ``attach`` was used)."""
        rng = self.rng
        if not people or (rng.random() >= reply_ratio and not force):
            return [], False
        replies = []
        at = parent_at
        used = False
        for _ in range(rng.randint(1, 4)):
            at += rng.randint(1_000, 3_600_000)
            who = rng.choice(people)
            r = reply(who, self.message(people), at)
            if rng.random() < reaction_ratio:
                r["reactions"] = self.reactions(people, at)
            if attach is not None and not used:
                r["attachments"] = [self.attachment(*attach, by_name.get(who), at)]
                self.counts.reply_attachments += 1
                used = True
            replies.append(r)
        self.counts.replies += len(replies)
        return replies, used


def _take(remaining_items: int, remaining_slots: int, rng: random.Random) -> bool:
    """Selection sampling: choose exactly ``remaining_items`` of the next ``remaining_slots``."""
    return remaining_items > 0 and rng.random() * remaining_slots < remaining_items


def generate_export(
    path: str | Path,
    *,
    seed: int = 0,
    teams: int = 2,
    channels_per_team: int = 5,
    users: int = 20,
    posts: int = 1000,
    dm_channels: int = 10,
    gm_channels: int = 3,
    direct_posts: int = 200,
    attachments: int = 10,
    reply_ratio: float = 0.3,
    reaction_ratio: float = 0.2,
    emojis: int = 0,
    bots: int = 0,
    roles_and_schemes: bool = False,
    jsonl_method: Method = "deflate",
    attachment_bytes: int = 2048,
    profile_images: bool = False,
) -> GenerateStats:
    """Write a realistic, valid export archive to ``path``, deterministically from ``seed``.

    Lines follow the exporter's order (version, schemes, roles, team, channel, user, bot, post,
    emoji, direct_channel, direct_post) and are streamed into the zip member, so memory stays
    flat however many posts are asked for. ``reply_ratio`` is the share of root posts that get
    a thread of 1-4 replies; ``reaction_ratio`` the share of posts/replies with reactions.
    ``attachments`` files are spread over posts and direct posts (at most one per post).
    """
    if not 1 <= channels_per_team <= 2000:  # MaxChannelsPerTeam default, incl. town-square
        raise ValueError("channels_per_team must be 1..2000")
    rng = random.Random(seed)
    gen = _Generator(rng, attachment_bytes)
    gen.build_world(teams, channels_per_team, users, bots, emojis)
    gen.plan_directs(dm_channels, gm_channels)
    path = Path(path)
    with path.open("wb") as fp:
        writer = ZipWriter(fp)
        member = _open_member(writer, JSONL_NAME, jsonl_method)
        sink = _LineSink(member, gen.counts)
        _write_lines(
            gen, sink, posts, direct_posts, attachments, reply_ratio, reaction_ratio,
            roles_and_schemes, profile_images,
        )  # fmt: skip
        sink.flush()
        member.close()
        for planned in gen.files:
            _write_member(writer, planned.member, gen.file_content(planned), "stored")
        for i, name in enumerate(gen.custom_emojis):
            _write_member(
                writer,
                f"{DATA_PREFIX}emoji/{_stable_id(name)}/image",
                png_bytes(32 + i, 32),
                "stored",
            )
        if profile_images:
            ids = [u.id for u in gen.users] + [_stable_id(b) for b in gen.bots]
            for user_id in ids:
                _write_member(
                    writer, f"{DATA_PREFIX}users/{user_id}/profile.png", png_bytes(64, 64), "stored"
                )
        writer.close()
    counts = gen.counts
    return GenerateStats(
        lines=dict(counts.lines),
        replies=counts.replies,
        reactions=counts.reactions,
        attachments=len(gen.files),
        reply_attachments=counts.reply_attachments,
        jsonl_bytes=counts.jsonl_bytes,
        archive_bytes=path.stat().st_size,
    )


def _stable_id(name: str) -> str:
    """An id-shaped string derived from ``name`` alone (not the RNG), so a line and the file
    it points to always agree."""
    digest = hashlib.sha256(name.encode()).digest()
    return "".join(_ID_ALPHABET[b % 32] for b in digest[:26])


def _write_lines(
    gen: _Generator,
    sink: _LineSink,
    posts: int,
    direct_posts: int,
    attachments: int,
    reply_ratio: float,
    reaction_ratio: float,
    roles_and_schemes: bool,
    profile_images: bool,
) -> None:
    rng = gen.rng
    sink.write(
        version(
            # The name it had when the samples were first written: kept, so they stay the same.
            generator="archivekit.synth",
            version="1.0.0",
            created="2024-01-01T00:00:00.000000000Z",
        )
    )
    team_scheme = channel_scheme = None
    if roles_and_schemes:
        team_scheme, channel_scheme = "synthetic_team_scheme", "synthetic_channel_scheme"
        sink.write(scheme(team_scheme, "team", description="Generated team scheme"))
        sink.write(scheme(channel_scheme, "channel"))
        for name in ("system_user", "team_user", "channel_user"):
            sink.write(role(name))
    for i, tm in enumerate(gen.teams):
        kw: Record = {"description": gen.sentence(6), "allow_open_invite": i % 2 == 0}
        if team_scheme and i == 0:
            kw["scheme"] = team_scheme
        sink.write(team(tm.name, **kw))
    for tm in gen.teams:
        for j, ch in enumerate(tm.channels):
            kw = {
                "type": "P" if ch.private else "O",
                "header": gen.sentence(5) if rng.random() < 0.5 else "",
                "purpose": gen.sentence(4) if rng.random() < 0.5 else "",
                "deleted_at": 0,
            }
            if ch.name.startswith("random") and rng.random() < 0.5:
                kw["display_name"] = "Café ☕ Random"
            if channel_scheme and j == 2:
                kw["scheme"] = channel_scheme
            sink.write(channel(tm.name, ch.name, **kw))
    for u in gen.users:
        sink.write(gen.user_line(u, profile_images))
    owner = gen.users[0].username if gen.users else "plugin-owner"
    for name in gen.bots:
        line = bot(name, owner, description=f"Posts {name.split('-')[0]} notifications")
        if profile_images:
            line["bot"]["profile_image"] = f"users/{_stable_id(name)}/profile.png"
        sink.write(line)

    total_posts = posts + (direct_posts if gen.directs else 0)
    post_files = round(attachments * posts / total_posts) if total_posts else 0
    direct_files = attachments - post_files if gen.directs and direct_posts else 0
    _write_posts(gen, sink, posts, post_files, reply_ratio, reaction_ratio)

    for name in gen.custom_emojis:
        sink.write(emoji(name, f"emoji/{_stable_id(name)}/image"))
    for d in gen.directs:
        line = direct_channel(d.members, participants=True, header="")
        line["direct_channel"]["participants"] = [
            _participant(m, _EPOCH_MS + rng.randint(0, 10**9), rng.randint(0, 50))
            for m in d.members
        ]
        favs = [m for m in d.members if rng.random() < 0.2]
        if favs:
            line["direct_channel"]["favorited_by"] = favs
        line["direct_channel"]["shown_by"] = list(d.members)
        sink.write(line)
    _write_direct_posts(gen, sink, direct_posts, direct_files, reply_ratio, reaction_ratio)


def _write_posts(
    gen: _Generator,
    sink: _LineSink,
    posts: int,
    files: int,
    reply_ratio: float,
    reaction_ratio: float,
) -> None:
    rng = gen.rng
    channels = [ch for tm in gen.teams for ch in tm.channels if ch.members]
    if not channels:
        return
    team_ids = {tm.name: tm.id for tm in gen.teams}
    by_name = {u.username: u for u in gen.users}
    for i in range(posts):
        ch = rng.choice(channels)
        people = ch.members
        author = rng.choice(people)
        if gen.bots and rng.random() < 0.02:
            author = rng.choice(gen.bots)
        at = gen.tick()
        p = post(ch.team, ch.name, author, gen.message(people), at)
        body = p["post"]
        if rng.random() < 0.01:
            body["type"] = "system_join_channel"
            body["message"] = f"{author} joined the channel."
        if rng.random() < 0.05:
            body["edit_at"] = at + rng.randint(1_000, 600_000)
        if author in gen.bots:
            body["props"] = {"from_bot": "true"}
        take = _take(files, posts - i, rng)
        attach = (team_ids[ch.team], ch.id)
        # The first attachment that can go on a reply does, so every export with threads and
        # files exercises reply attachments (resolved separately by the server).
        force = take and reply_ratio > 0 and gen.counts.reply_attachments == 0
        on_reply = attach if take and (force or rng.random() < 0.5) else None
        replies, used = gen.thread(
            people, at, reply_ratio, reaction_ratio, on_reply, by_name, force=force
        )
        if take:
            files -= 1
            if not used:
                body["attachments"] = [gen.attachment(*attach, by_name.get(author), at)]
        if replies:
            body["replies"] = replies
            if rng.random() < 0.5:
                followers = list(dict.fromkeys([r["user"] for r in replies]))
                body["thread_followers"] = [
                    {"user": f, "last_viewed": replies[-1]["create_at"], "unread_mentions": 0}
                    for f in followers
                ]
        if rng.random() < reaction_ratio:
            body["reactions"] = gen.reactions(people, at)
        if rng.random() < 0.03:
            body["flagged_by"] = [rng.choice(people)]
        if rng.random() < 0.02:
            body["is_pinned"] = True
        sink.write(p)


def _write_direct_posts(
    gen: _Generator,
    sink: _LineSink,
    direct_posts: int,
    files: int,
    reply_ratio: float,
    reaction_ratio: float,
) -> None:
    if not gen.directs:
        return
    rng = gen.rng
    by_name = {u.username: u for u in gen.users}
    for i in range(direct_posts):
        d = rng.choice(gen.directs)
        author = rng.choice(d.members)
        at = gen.tick()
        p = direct_post(d.members, author, gen.message(d.members), at)
        body = p["direct_post"]
        take = _take(files, direct_posts - i, rng)
        replies, _ = gen.thread(d.members, at, reply_ratio, reaction_ratio, None, by_name)
        if replies:
            body["replies"] = replies
        if take:
            files -= 1
            body["attachments"] = [gen.attachment("noteam", d.id, by_name.get(author), at)]
        if rng.random() < reaction_ratio:
            body["reactions"] = gen.reactions(d.members, at)
        if rng.random() < 0.05:
            body["flagged_by"] = [rng.choice(d.members)]
        sink.write(p)


def iter_lines(path: str | Path, jsonl_name: str = JSONL_NAME) -> Iterator[Record]:
    """Decode every JSONL line of an archive written here (tests and samples inspect them)."""
    import zipfile

    import zipfile_deflate64  # noqa: F401 - registers method 9 with zipfile

    with zipfile.ZipFile(path) as zf, zf.open(jsonl_name) as fh:
        for raw in fh:
            yield orjson.loads(raw)


# ---------------------------------------------------------------------------------------------
# converter_export: a generated export reshaped like a converter's (mmetl's) output
# ---------------------------------------------------------------------------------------------

# The length of the over-long message that made issue 16 (MaxPostSize is 16,383).
LONG_MESSAGE_RUNES: Final = 20_725


def _rename_strings(value: Any, names: Mapping[str, str]) -> Any:
    """`value` with every string equal to a key of `names` replaced (usernames anywhere)."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_rename_strings(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _rename_strings(v, names) for k, v in value.items()}
    return value


def _mixed_case(username: str) -> str:
    """'alice.smith' -> 'Alice.Smith' (as a converter keeping the source's case writes it)."""
    return ".".join(part.capitalize() for part in username.split("."))


def converter_export(
    path: str | Path,
    *,
    seed: int = 0,
    team: str = "myteam",
    users: int = 15,
    posts: int = 40,
    direct_posts: int = 10,
    attachments: int = 6,
    missing_emails: int = 0,
    long_messages: int = 0,
    group_of: int = 0,
    uppercase_users: int = 0,
    missing_files: int = 0,
    reply_attachments: int = 0,
    deleted_users: int = 0,
) -> Path:
    """An archive shaped like a converter's output, built from `generate_export`'s (one team).

    Like mmetl's Slack conversion: no team line (the team, renamed `team`, is made in
    Mattermost first), ``mmetl`` as the version's generator, attachments at
    ``bulk-export-attachments/<file id>_<name>``. Then the problems such archives have:

    * `missing_emails`: the first users have no ``email`` (Slack omits those of bots and
      deleted users);
    * `long_messages`: the first post lines get a message of `LONG_MESSAGE_RUNES` characters;
    * `group_of`: one more group conversation of that many users (Slack allows 9), with a post;
    * `uppercase_users`: the last users' names in mixed case everywhere (user line and every
      reference), as a converter that keeps the source's case writes them;
    * `missing_files`: the first attachments of post lines are left out of the zip;
    * `reply_attachments`: that many posts with a missing attachment get a reply with its own
      attachment (in the zip): the server drops it, having failed on the post's;
    * `deleted_users`: the user lines of that many users who write posts (the most active of
      those no other option changes) are left out, their posts kept — as an export that drops
      deleted users, or a partial one, writes them.

    Holds the whole archive in memory: for tests and small samples.
    """
    import tempfile
    import zipfile

    path = Path(path)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        source = Path(scratch) / "generated.zip"
        generate_export(
            source, seed=seed, teams=1, users=users, posts=posts, dm_channels=3,
            gm_channels=1, direct_posts=direct_posts, attachments=attachments,
        )  # fmt: skip
        with zipfile.ZipFile(source) as zf:
            contents = {i.filename: zf.read(i) for i in zf.infolist() if i.filename != JSONL_NAME}
        lines = list(iter_lines(source))
    usernames = [line["user"]["username"] for line in lines if line["type"] == "user"]
    renamed = {u: _mixed_case(u) for u in usernames[len(usernames) - uppercase_users :]}
    no_email = set(usernames[:missing_emails])
    authored = Counter(
        line[line["type"]]["user"] for line in lines if line["type"] in POST_LINE_TYPES
    )
    untouched = usernames[max(missing_emails, group_of) : len(usernames) - uppercase_users]
    left_out = set(sorted(untouched, key=lambda u: -authored[u])[:deleted_users])
    files: dict[str, bytes] = {}
    missing_left, long_left, replies_left = missing_files, long_messages, reply_attachments
    group = [renamed.get(u, u) for u in usernames[:group_of]]
    grouped = False
    out: list[Record] = []

    def move(attachment: Record) -> tuple[Record, bytes]:
        old = attachment["path"]
        folder, name = old.rsplit("/", 1)
        new = f"bulk-export-attachments/{folder.rsplit('/', 1)[-1]}_{name}"
        return {**attachment, "path": new}, contents.get(DATA_PREFIX + old, b"")

    for line in lines:
        kind = line["type"]
        if kind == "version":
            line = version(generator="mmetl", version="0.0.0", created="2024-01-01T00:00:00Z")
        elif kind == "team":
            continue
        elif kind == "channel":
            line["channel"]["team"] = team
        elif kind == "user":
            if line["user"]["username"] in left_out:
                continue
            for membership in line["user"].get("teams") or ():
                membership["name"] = team
            if line["user"]["username"] in no_email:
                del line["user"]["email"]
        elif kind in POST_LINE_TYPES:
            body = line[kind]
            if kind == "post":
                body["team"] = team
                if long_left:
                    long_left -= 1
                    body["message"] = (body["message"] + " ") * LONG_MESSAGE_RUNES
                    body["message"] = body["message"][:LONG_MESSAGE_RUNES]
            missing_here = False
            if body.get("attachments"):
                moved = [move(a) for a in body["attachments"]]
                body["attachments"] = [a for a, _ in moved]
                for attachment, data in moved:
                    if kind == "post" and missing_left:
                        missing_left -= 1
                        missing_here = True
                    else:
                        files[DATA_PREFIX + attachment["path"]] = data
            for r in body.get("replies") or ():
                if r.get("attachments"):
                    moved = [move(a) for a in r["attachments"]]
                    r["attachments"] = [a for a, _ in moved]
                    files.update((DATA_PREFIX + a["path"], data) for a, data in moved)
            if missing_here and replies_left:
                replies_left -= 1
                path_in_zip = f"bulk-export-attachments/reply{replies_left}_notes.txt"
                files[DATA_PREFIX + path_in_zip] = b"a file on a reply\n"
                body.setdefault("replies", []).append(
                    reply(body["user"], "see attached", body["create_at"] + 1,
                          attachments=[path_in_zip])
                )  # fmt: skip
        if kind == "direct_post" and group and not grouped:
            out.append(direct_channel(group))  # with the other direct_channel lines
            grouped = True
        out.append(_rename_strings(line, renamed) if renamed else line)
    if group:
        if not grouped:
            out.append(direct_channel(group))
        out.append(direct_post(group, group[0], "hello all", _EPOCH_MS + 10**10))
    for name, content in contents.items():
        if not name.startswith(DATA_PREFIX) or "/teams/" not in name:
            files.setdefault(name, content)  # emoji and profile images keep their place
    return make_archive(path, out, files, version_line=False)
