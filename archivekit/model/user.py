"""`user` lines and their nested objects (Go `UserImportData` and friends)."""

from __future__ import annotations

from pydantic import Field

from archivekit.issues import validator_prefix
from archivekit.model.base import Bool, GoTime, ImportModel, Int64, Str, ValueStr

_ID = validator_prefix("user")
_TEAMS_ID = validator_prefix("user_teams")
_CHANNELS_ID = validator_prefix("user_channels")
_PREFERENCE = "Preference string, not validated (stored as given)."


class UserNotifyProps(ImportModel):
    """`user.notify_props`: all strings, all optional."""

    go_name = "imports.UserNotifyPropsImportData"

    desktop: Str | None = Field(
        default=None,
        description=f"`all`, `mention` or `none` → `{_ID}notify_props_desktop_invalid.error`.",
    )
    desktop_sound: Str | None = Field(
        default=None,
        description=f"`true` or `false` → `{_ID}notify_props_desktop_sound_invalid.error`.",
    )
    email: Str | None = Field(
        default=None,
        description=f"`true` or `false` → `{_ID}notify_props_email_invalid.error`.",
    )
    mobile: Str | None = Field(
        default=None,
        description=f"`all`, `mention` or `none` → `{_ID}notify_props_mobile_invalid.error`.",
    )
    mobile_push_status: Str | None = Field(
        default=None,
        description="`online`, `away` or `offline` → "
        f"`{_ID}notify_props_mobile_push_status_invalid.error`.",
    )
    channel: Str | None = Field(
        default=None,
        description=f"`true` or `false` → `{_ID}notify_props_channel_trigger_invalid.error`.",
    )
    comments: Str | None = Field(
        default=None,
        description="`any`, `root` or `never` → "
        f"`{_ID}notify_props_comments_trigger_invalid.error`.",
    )
    mention_keys: Str | None = Field(
        default=None,
        description="Comma-separated words; when notify_props is given without it, the "
        "server resets mention keys to the defaults.",
    )


class ChannelNotifyProps(ImportModel):
    """Notify props of a channel membership (`teams[].channels[]` and DM participants)."""

    go_name = "imports.UserChannelNotifyPropsImportData"

    desktop: Str | None = Field(
        default=None,
        description="`default`, `all`, `mention` or `none` → "
        f"`{_CHANNELS_ID}invalid_notify_props_desktop.error` (not validated for DMs).",
    )
    mobile: Str | None = Field(
        default=None,
        description="Same set as desktop → "
        f"`{_CHANNELS_ID}invalid_notify_props_mobile.error` (not validated for DMs).",
    )
    mark_unread: Str | None = Field(
        default=None,
        description="`all` or `mention` → "
        f"`{_CHANNELS_ID}invalid_notify_props_mark_unread.error` (not validated for DMs).",
    )
    email: Str | None = Field(
        default=None, description="Not validated; applied to DM participants only."
    )
    ignore_channel_mentions: Str | None = Field(
        default=None, description="Not validated; applied to DM participants only."
    )
    channel_auto_follow_threads: Str | None = Field(
        default=None, description="Not validated; applied to DM participants only."
    )


class UserChannelMembership(ImportModel):
    """`user.teams[].channels[]`: one channel membership."""

    go_name = "imports.UserChannelImportData"

    name: Str | None = Field(
        default=None, description=f"Required → `{_CHANNELS_ID}channel_name_missing.error`."
    )
    roles: Str | None = Field(
        default=None,
        description=f"Space-separated role names → `{_CHANNELS_ID}invalid_roles.error`.",
    )
    notify_props: ChannelNotifyProps | None = Field(
        default=None, description="Channel notification settings."
    )
    favorite: Bool | None = Field(
        default=None, description="True sets the favorite-channel preference."
    )
    mention_count: Int64 | None = Field(
        default=None, description="Applied only together with mention_count_root."
    )
    mention_count_root: Int64 | None = Field(
        default=None, description="Applied only together with mention_count."
    )
    urgend_mention_count: Int64 | None = Field(
        default=None,
        description="Misspelled on purpose: the server's key. `urgent_mention_count` is ignored.",
    )
    msg_count: Int64 | None = Field(
        default=None, description="Applied only together with msg_count_root."
    )
    msg_count_root: Int64 | None = Field(
        default=None, description="Applied only together with msg_count."
    )
    last_viewed_at: Int64 | None = Field(default=None, description="Milliseconds; applied.")


class UserTeamMembership(ImportModel):
    """`user.teams[]`: one team membership."""

    go_name = "imports.UserTeamImportData"

    name: Str | None = Field(
        default=None, description=f"Required → `{_TEAMS_ID}team_name_missing.error`."
    )
    roles: Str | None = Field(
        default=None, description=f"Space-separated role names → `{_TEAMS_ID}invalid_roles.error`."
    )
    theme: Str | None = Field(
        default=None,
        description="When not blank: must start with a JSON object of strings → "
        f"`{_TEAMS_ID}invalid_team_theme.error`.",
    )
    channels: list[UserChannelMembership] | None = Field(
        default=None, description="Channel memberships in this team (validated before theme)."
    )


class CustomStatus(ImportModel):
    """`user.custom_status` (Go `model.CustomStatus`, plain values): not validated."""

    go_name = "model.CustomStatus"

    emoji: ValueStr | None = Field(default=None, description="Emoji name; not validated.")
    text: ValueStr | None = Field(
        default=None, description="Status text; truncated to 100 runes when saved."
    )
    duration: ValueStr | None = Field(
        default=None, description="`thirty_minutes`, `one_hour`, … ; not validated."
    )
    expires_at: GoTime | None = Field(
        default=None,
        description="Go `time.Time`: an RFC 3339 string as Go parses it, or null; anything "
        "else makes the line undecodable (`app.import.bulk_import.json_decode.error`).",
    )


class Avatar(ImportModel):
    """Go's embedded `Avatar` struct: the profile image shared by users and bots."""

    profile_image: Str | None = Field(
        default=None,
        description="Path under data/; traversal → "
        f"`{_ID}invalid_image_path.error`; missing file → `{_ID}profile_image.error`.",
    )


class UserImport(Avatar):
    """A user; upserted by username (case-insensitive lookup)."""

    go_name = "imports.UserImportData"

    username: Str | None = Field(
        default=None,
        description=f"Required (`{_ID}username_missing.error`); lowercased: 1-64 bytes of "
        f"`[a-z0-9.\\-_]`, not a reserved name → `{_ID}username_invalid.error`.",
    )
    email: Str | None = Field(
        default=None,
        description=f"Required (`{_ID}email_missing.error`); 1-128 bytes "
        f"(`{_ID}email_length.error`); syntax checked at apply.",
    )
    auth_service: Str | None = Field(
        default=None,
        description=f"Blank together with auth_data (`{_ID}auth_data_and_service_dependency"
        ".error`); a known service (`app.import.validate_user_teams_import_data."
        "invalid_auth_service.error`).",
    )
    auth_data: Str | None = Field(
        default=None,
        description=f"Not with password (`{_ID}auth_data_and_password.error`); ≤ 128 bytes "
        f"(`{_ID}auth_data_length.error`).",
    )
    password: Str | None = Field(
        default=None, description=f"1-72 bytes → `{_ID}password_length.error`."
    )
    nickname: Str | None = Field(
        default=None, description=f"≤ 64 runes → `{_ID}nickname_length.error`."
    )
    first_name: Str | None = Field(
        default=None, description=f"≤ 64 runes → `{_ID}first_name_length.error`."
    )
    last_name: Str | None = Field(
        default=None, description=f"≤ 64 runes → `{_ID}last_name_length.error`."
    )
    position: Str | None = Field(
        default=None, description=f"≤ 128 runes → `{_ID}position_length.error`."
    )
    roles: Str | None = Field(
        default=None,
        description=f"Space-separated system roles → `{_ID}roles_invalid.error`; guest "
        "consistency with team/channel roles is checked too.",
    )
    locale: Str | None = Field(
        default=None, description="Not validated (apply: ≤ 5 bytes, a language tag)."
    )
    feature_enabled_markdown_preview: Str | None = Field(
        default=None,
        description=f"`true` or `false` → `{_ID}advanced_props_feature_markdown_preview.error`.",
    )
    formatting: Str | None = Field(
        default=None, description=f"`true` or `false` → `{_ID}advanced_props_formatting.error`."
    )
    show_unread_section: Str | None = Field(
        default=None,
        description=f"`true` or `false` → `{_ID}advanced_props_show_unread_section.error`.",
    )
    delete_at: Int64 | None = Field(
        default=None, description="Not validated; > 0 imports the user deactivated."
    )
    send_on_ctrl_enter: Str | None = Field(default=None, description=_PREFERENCE)
    code_block_ctrl_enter: Str | None = Field(default=None, description=_PREFERENCE)
    show_join_leave: Str | None = Field(default=None, description=_PREFERENCE)
    show_unread_scroll_position: Str | None = Field(default=None, description=_PREFERENCE)
    sync_drafts: Str | None = Field(default=None, description=_PREFERENCE)
    limit_visible_dms_gms: Str | None = Field(default=None, description=_PREFERENCE)
    name_format: Str | None = Field(default=None, description=_PREFERENCE)
    teams: list[UserTeamMembership] | None = Field(
        default=None, description="Team memberships (validated last)."
    )
    theme: Str | None = Field(default=None, description=_PREFERENCE)
    military_time: Str | None = Field(default=None, description=_PREFERENCE)
    link_previews: Str | None = Field(default=None, description=_PREFERENCE)
    message_display: Str | None = Field(default=None, description=_PREFERENCE)
    collapse_consecutive_messages: Str | None = Field(default=None, description=_PREFERENCE)
    colorize_usernames: Str | None = Field(default=None, description=_PREFERENCE)
    channel_display_mode: Str | None = Field(default=None, description=_PREFERENCE)
    tutorial_step: Str | None = Field(default=None, description=_PREFERENCE)
    email_interval: Str | None = Field(
        default=None,
        description=f"`immediately`, `fifteen` or `hour` → `{_ID}advanced_props_email_interval"
        ".error`.",
    )
    notify_props: UserNotifyProps | None = Field(
        default=None, description="Account notification settings."
    )
    custom_status: CustomStatus | None = Field(
        default=None, description="Custom status; not validated."
    )
