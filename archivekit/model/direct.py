"""`direct_channel` and `direct_post` lines: DMs and group messages (Go
`DirectChannelImportData`, `DirectChannelMemberImportData`, `DirectPostImportData`)."""

from __future__ import annotations

from pydantic import Field

from archivekit.issues import validator_prefix
from archivekit.model.base import Bool, ImportModel, Int64, Props, Str
from archivekit.model.post import (
    AttachmentImport,
    ReactionImport,
    ReplyImport,
    ThreadFollowerImport,
)
from archivekit.model.user import ChannelNotifyProps

_CHANNEL = validator_prefix("direct_channel")
_POST = validator_prefix("direct_post")
_COUNT = "2 (DM) or 3-8 (GM) usernames"


class DirectChannelMember(ImportModel):
    """A DM/GM participant with membership settings (v10.1); values are not validated."""

    go_name = "imports.DirectChannelMemberImportData"

    username: Str | None = Field(
        default=None, description="Must be given in practice (the server dereferences it)."
    )
    notify_props: ChannelNotifyProps | None = Field(
        default=None, description="Applied as given, not validated."
    )
    scheme_user: Bool | None = Field(default=None, description="Member role flag.")
    scheme_admin: Bool | None = Field(default=None, description="Admin role flag.")
    scheme_guest: Bool | None = Field(default=None, description="Guest role flag.")
    mention_count: Int64 | None = Field(default=None, description="Not validated.")
    mention_count_root: Int64 | None = Field(default=None, description="Not validated.")
    urgend_mention_count: Int64 | None = Field(
        default=None, description="Misspelled on purpose: the server's key."
    )
    msg_count: Int64 | None = Field(default=None, description="Not validated.")
    msg_count_root: Int64 | None = Field(default=None, description="Not validated.")
    last_viewed_at: Int64 | None = Field(
        default=None, description="Older than the existing member's → values skipped."
    )


class DirectChannelImport(ImportModel):
    """A direct or group channel; created when missing."""

    go_name = "imports.DirectChannelImportData"

    members: list[Str] | None = Field(
        default=None,
        description=f"Usernames; members or participants required (`{_CHANNEL}members_required"
        f".error`); {_COUNT}, else `members_too_few.error` / `members_too_many.error` "
        "(line skipped).",
    )
    participants: list[DirectChannelMember | None] | None = Field(
        default=None,
        description=f"v10.1; wins over members; {_COUNT}. A null element crashes the server.",
    )
    favorited_by: list[Str] | None = Field(
        default=None,
        description=f"Each a member or participant → `{_CHANNEL}unknown_favoriter.error`.",
    )
    shown_by: list[Str] | None = Field(
        default=None, description="v10.1; not validated; must be members at apply."
    )
    header: Str | None = Field(
        default=None, description=f"≤ 1024 runes → `{_CHANNEL}header_length.error`."
    )


class DirectPostImport(ImportModel):
    """A post in a direct or group channel."""

    go_name = "imports.DirectPostImportData"

    channel_members: list[Str] | None = Field(
        default=None,
        description=f"Required (`{_POST}channel_members_required.error`); {_COUNT} → "
        "`channel_members_too_few.error` / `channel_members_too_many.error`.",
    )
    user: Str | None = Field(default=None, description=f"Required → `{_POST}user_missing.error`.")
    type: Str | None = Field(default=None, description="Not validated; apply allow-list.")
    message: Str | None = Field(
        default=None,
        description=f"Required (`{_POST}message_missing.error`); ≤ MaxPostSize runes "
        f"(`{_POST}message_length.error`).",
    )
    props: Props | None = Field(
        default=None, description="JSON object; size checked only at apply (800,000 runes)."
    )
    create_at: Int64 | None = Field(
        default=None,
        description=f"Required (`{_POST}create_at_missing.error`), not 0 "
        f"(`{_POST}create_at_zero.error`).",
    )
    edit_at: Int64 | None = Field(default=None, description="Not validated.")
    flagged_by: list[Str] | None = Field(
        default=None,
        description=f"Each one of channel_members → `{_POST}unknown_flagger.error`.",
    )
    reactions: list[ReactionImport] | None = Field(default=None, description="As for posts.")
    replies: list[ReplyImport] | None = Field(default=None, description="As for posts.")
    attachments: list[AttachmentImport] | None = Field(
        default=None, description=f"Files → `{_POST}attachment.error`."
    )
    is_pinned: Bool | None = Field(default=None, description="A JSON boolean.")
    thread_followers: list[ThreadFollowerImport] | None = Field(
        default=None, description=f"Followers → `{_POST}thread_follower.error`."
    )
