"""`post` lines and the pieces posts and direct posts share: replies, reactions, attachments
and thread followers (Go `PostImportData`, `ReplyImportData`, …)."""

from __future__ import annotations

from pydantic import Field

from archivekit.issues import THREAD_FOLLOWER_PREFIX, validator_prefix
from archivekit.model.base import Bool, ImportModel, Int64, Props, Str

_POST = validator_prefix("post")
_REPLY = validator_prefix("reply")
_REACTION = validator_prefix("reaction")
_ATTACHMENT = validator_prefix("attachment")
_FOLLOWER = THREAD_FOLLOWER_PREFIX
_NOT_VALIDATED_TYPE = 'Not validated; apply: `""`, a known system type or `custom_*` '
_NOT_VALIDATED_TYPE += "(`model.post.is_valid.type.app_error`)."


class ReactionImport(ImportModel):
    """An emoji reaction on a post or reply."""

    go_name = "imports.ReactionImportData"

    user: Str | None = Field(
        default=None, description=f"Required → `{_REACTION}user_missing.error`."
    )
    create_at: Int64 | None = Field(
        default=None,
        description=f"Required (`{_REACTION}create_at_missing.error`), not 0 "
        f"(`{_REACTION}create_at_zero.error`), not before its parent "
        f"(`{_REACTION}create_at_before_parent.error`).",
    )
    emoji_name: Str | None = Field(
        default=None,
        description=f"Required (`{_REACTION}emoji_name_missing.error`); ≤ 64 runes "
        f"(`{_REACTION}emoji_name_length.error`); apply: `[a-zA-Z0-9+_-]{{1,64}}`.",
    )


class AttachmentImport(ImportModel):
    """A file attached to a post or reply: a path under data/ in the archive."""

    go_name = "imports.AttachmentImportData"

    path: Str | None = Field(
        default=None,
        description=f"Blank is ignored; escaping data/ → `{_ATTACHMENT}invalid_path.error` "
        "(wrapped by the parent's `attachment.error`); a missing file is dropped at apply.",
    )


class ThreadFollowerImport(ImportModel):
    """A user following a post's thread (v10.1)."""

    go_name = "imports.ThreadFollowerImportData"

    user: Str | None = Field(
        default=None,
        description=f"Required, non-empty → `{_FOLLOWER}user_missing.error` (wrapped as "
        "`thread_follower.error`).",
    )
    last_viewed: Int64 | None = Field(default=None, description="Milliseconds; not validated.")
    unread_mentions: Int64 | None = Field(default=None, description="Not validated.")


class ReplyImport(ImportModel):
    """A reply in a post's thread."""

    go_name = "imports.ReplyImportData"

    user: Str | None = Field(default=None, description=f"Required → `{_REPLY}user_missing.error`.")
    type: Str | None = Field(default=None, description=_NOT_VALIDATED_TYPE)
    message: Str | None = Field(
        default=None,
        description=f"Required (`{_REPLY}message_missing.error`); ≤ MaxPostSize runes "
        f"(`{_REPLY}message_length.error`).",
    )
    props: Props | None = Field(
        default=None,
        description=f"JSON object; Go-encoded > 800,000 runes → `{_POST}props_too_large.error`.",
    )
    create_at: Int64 | None = Field(
        default=None,
        description=f"Required (`{_REPLY}create_at_missing.error`), not 0 "
        f"(`{_REPLY}create_at_zero.error`); earlier than the post is clamped (warning).",
    )
    edit_at: Int64 | None = Field(default=None, description="Not validated.")
    flagged_by: list[Str] | None = Field(
        default=None, description="Usernames; they must exist at apply."
    )
    reactions: list[ReactionImport] | None = Field(
        default=None, description="Reactions; parent time = the reply's create_at."
    )
    attachments: list[AttachmentImport] | None = Field(
        default=None, description=f"Files → `{_REPLY}attachment.error`."
    )
    is_pinned: Bool | None = Field(default=None, description="A JSON boolean.")


class PostImport(ImportModel):
    """A channel post with its thread."""

    go_name = "imports.PostImportData"

    team: Str | None = Field(default=None, description=f"Required → `{_POST}team_missing.error`.")
    channel: Str | None = Field(
        default=None, description=f"Required → `{_POST}channel_missing.error`."
    )
    user: Str | None = Field(default=None, description=f"Required → `{_POST}user_missing.error`.")
    type: Str | None = Field(default=None, description=_NOT_VALIDATED_TYPE)
    message: Str | None = Field(
        default=None,
        description=f"Required (`{_POST}message_missing.error`); ≤ MaxPostSize runes "
        f"(`{_POST}message_length.error`).",
    )
    props: Props | None = Field(
        default=None,
        description=f"JSON object; Go-encoded > 800,000 runes → `{_POST}props_too_large.error`.",
    )
    create_at: Int64 | None = Field(
        default=None,
        description=f"Required (`{_POST}create_at_missing.error`), not 0 "
        f"(`{_POST}create_at_zero.error`).",
    )
    edit_at: Int64 | None = Field(default=None, description="Not validated.")
    flagged_by: list[Str] | None = Field(
        default=None, description="Usernames; they must exist at apply."
    )
    reactions: list[ReactionImport] | None = Field(
        default=None, description="Reactions; parent time = the post's create_at."
    )
    replies: list[ReplyImport] | None = Field(default=None, description="The thread's replies.")
    attachments: list[AttachmentImport] | None = Field(
        default=None, description=f"Files → `{_POST}attachment.error`."
    )
    is_pinned: Bool | None = Field(default=None, description="A JSON boolean.")
    thread_followers: list[ThreadFollowerImport] | None = Field(
        default=None, description=f"Followers (v10.1) → `{_POST}thread_follower.error`."
    )
