"""The post `type` allow-list the server enforces when it saves a post (``Post.IsValid``).

The validator layer never looks at `type`; the apply layer refuses any value outside this list
that does not start with ``custom_`` (``model.post.is_valid.type.app_error``). The list is
version-specific: this is the v11.6/v11.7 baseline of the reference (§4.8).
"""

from __future__ import annotations

CUSTOM_TYPE_PREFIX = "custom_"

# server/public/model/post.go, Post.IsValid, v11.6/v11.7 baseline. "" is the ordinary post.
ALLOWED_POST_TYPES: frozenset[str] = frozenset(
    {
        "",
        "system_generic",
        "system_join_leave",
        "system_auto_responder",
        "system_add_remove",
        "system_join_channel",
        "system_guest_join_channel",
        "system_leave_channel",
        "system_join_team",
        "system_leave_team",
        "system_add_to_channel",
        "system_add_guest_to_chan",
        "system_remove_from_channel",
        "system_move_channel",
        "system_add_to_team",
        "system_remove_from_team",
        "slack_attachment",
        "system_header_change",
        "system_purpose_change",
        "system_displayname_change",
        "system_convert_channel",
        "system_channel_deleted",
        "system_channel_restored",
        "system_change_chan_privacy",
        "add_bot_teams_channels",
        "reminder",
        "me",
        "system_wrangler",
        "system_gm_to_channel",
        "system_autotranslation",
        "burn_on_read",
    }
)

# Accepted only by servers newer than the baseline (seen in later development trees of
# post.go). Still refused here, because the baseline server refuses them; the message says so.
NEWER_SERVER_POST_TYPES: frozenset[str] = frozenset(
    {
        "card",
        "system_team_abac_removal",
        "system_team_abac_addition",
        "system_shared_chan_state",
    }
)


def is_allowed_post_type(post_type: str) -> bool:
    """True when the server saves a post of this type (exact, case-sensitive match)."""
    return post_type in ALLOWED_POST_TYPES or post_type.startswith(CUSTOM_TYPE_PREFIX)
