"""The line envelope (Go `LineImportData`): `type` plus one payload object per line type."""

from __future__ import annotations

from pydantic import Field

from archivekit.model.base import GoInt, ImportModel, ValueStr
from archivekit.model.bot import BotImport
from archivekit.model.channel import ChannelImport
from archivekit.model.direct import DirectChannelImport, DirectPostImport
from archivekit.model.emoji import EmojiImport
from archivekit.model.post import PostImport
from archivekit.model.role import RoleImport
from archivekit.model.scheme import SchemeImport
from archivekit.model.team import TeamImport
from archivekit.model.user import UserImport
from archivekit.model.version import VersionInfo

_NULL = "app.import.import_line.null_{}.error"


class Envelope(ImportModel):
    """One JSONL line. Go decodes every payload key present (type errors anywhere fail the
    line) but imports only the one named by `type`. Keys match case-insensitively."""

    go_name = "imports.LineImportData"

    type: ValueStr | None = Field(
        default=None,
        description="The line type, compared exactly; unknown → "
        '`app.import.import_line.unknown_line_type.error`. Decoded null/absent is `""`.',
    )
    role: RoleImport | None = Field(default=None, description=_NULL.format("role"))
    scheme: SchemeImport | None = Field(default=None, description=_NULL.format("scheme"))
    team: TeamImport | None = Field(default=None, description=_NULL.format("team"))
    channel: ChannelImport | None = Field(default=None, description=_NULL.format("channel"))
    user: UserImport | None = Field(default=None, description=_NULL.format("user"))
    bot: BotImport | None = Field(default=None, description=_NULL.format("bot"))
    post: PostImport | None = Field(default=None, description=_NULL.format("post"))
    direct_channel: DirectChannelImport | None = Field(
        default=None, description=_NULL.format("direct_channel")
    )
    direct_post: DirectPostImport | None = Field(
        default=None, description=_NULL.format("direct_post")
    )
    emoji: EmojiImport | None = Field(default=None, description=_NULL.format("emoji"))
    version: GoInt | None = Field(
        default=None,
        description="Line 1 only; must be 1 (`app.import.bulk_import.unsupported_version"
        ".error`); missing → `app.import.process_import_data_file_version_line."
        "invalid_version.error`.",
    )
    info: VersionInfo | None = Field(default=None, description="Export metadata (version line).")


# Line type → the model of its payload key (named like the type). The version line's payload
# is the integer `version`; its optional `info` rides along.
PAYLOAD_MODELS: dict[str, type[ImportModel]] = {
    "role": RoleImport,
    "scheme": SchemeImport,
    "team": TeamImport,
    "channel": ChannelImport,
    "user": UserImport,
    "bot": BotImport,
    "post": PostImport,
    "direct_channel": DirectChannelImport,
    "direct_post": DirectPostImport,
    "emoji": EmojiImport,
}
LINE_TYPES: tuple[str, ...] = ("version", *PAYLOAD_MODELS)


def parse_line(raw: bytes) -> Envelope | None:
    """The line as a typed `Envelope` model (None when Go cannot decode it). For library
    users; the validator itself works on `decode_line`'s dicts."""
    # Imported here: the decoder loads the decode spec generated from these models, which
    # must stay importable (by `make schemas`) while that generated module is rewritten.
    from archivekit.gosem.decode import decode_line

    doc, _ = decode_line(raw)
    if doc is None:
        return None
    return Envelope.model_validate(doc)
