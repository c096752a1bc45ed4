"""pydantic models of every JSONL line type and nested object, mirroring the server's Go structs.

They describe structure and JSON types only (the single source of truth for
`archivekit.gosem.decode`'s type checks and for the published JSON Schemas); the server's ordered
validation rules live in `archivekit.check.rules`. Imports pydantic, gosem and the foundation,
nothing above (decoding itself never needs this package: `archivekit.gosem.decode_spec`).
"""

from __future__ import annotations

from archivekit.model.base import INT64_MAX, INT64_MIN, GoType, ImportModel
from archivekit.model.bot import BotImport
from archivekit.model.channel import ChannelImport
from archivekit.model.direct import DirectChannelImport, DirectChannelMember, DirectPostImport
from archivekit.model.emoji import EmojiImport
from archivekit.model.envelope import LINE_TYPES, PAYLOAD_MODELS, Envelope, parse_line
from archivekit.model.post import (
    AttachmentImport,
    PostImport,
    ReactionImport,
    ReplyImport,
    ThreadFollowerImport,
)
from archivekit.model.role import RoleImport
from archivekit.model.scheme import SchemeImport
from archivekit.model.team import TeamImport
from archivekit.model.user import (
    Avatar,
    ChannelNotifyProps,
    CustomStatus,
    UserChannelMembership,
    UserImport,
    UserNotifyProps,
    UserTeamMembership,
)
from archivekit.model.version import VersionInfo

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "LINE_TYPES",
    "PAYLOAD_MODELS",
    "AttachmentImport",
    "Avatar",
    "BotImport",
    "ChannelImport",
    "ChannelNotifyProps",
    "CustomStatus",
    "DirectChannelImport",
    "DirectChannelMember",
    "DirectPostImport",
    "EmojiImport",
    "Envelope",
    "GoType",
    "ImportModel",
    "PostImport",
    "ReactionImport",
    "ReplyImport",
    "RoleImport",
    "SchemeImport",
    "TeamImport",
    "ThreadFollowerImport",
    "UserChannelMembership",
    "UserImport",
    "UserNotifyProps",
    "UserTeamMembership",
    "VersionInfo",
    "parse_line",
]
