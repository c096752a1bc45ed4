"""pydantic models of every JSONL line type and nested object, mirroring the server's Go structs.

They describe structure and JSON types only (the single source of truth for
`archivekit.decode`'s type checks and for the published JSON Schemas); the server's ordered
validation rules live in `archivekit.rules`.
"""

from __future__ import annotations

from archivekit.models.base import INT64_MAX, INT64_MIN, GoType, ImportModel
from archivekit.models.bot import BotImport
from archivekit.models.channel import ChannelImport
from archivekit.models.direct import DirectChannelImport, DirectChannelMember, DirectPostImport
from archivekit.models.emoji import EmojiImport
from archivekit.models.envelope import LINE_TYPES, PAYLOAD_MODELS, Envelope
from archivekit.models.post import (
    AttachmentImport,
    PostImport,
    ReactionImport,
    ReplyImport,
    ThreadFollowerImport,
)
from archivekit.models.role import RoleImport
from archivekit.models.scheme import SchemeImport
from archivekit.models.team import TeamImport
from archivekit.models.user import (
    Avatar,
    ChannelNotifyProps,
    CustomStatus,
    UserChannelMembership,
    UserImport,
    UserNotifyProps,
    UserTeamMembership,
)
from archivekit.models.version import VersionInfo

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
]
