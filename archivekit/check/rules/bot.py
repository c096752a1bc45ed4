"""Rules for `bot` lines (reference §4.6). The validator reuses the user error ids."""

from __future__ import annotations

from typing import Any

from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.names import (
    BOT_DESCRIPTION_MAX_RUNES,
    BOT_DISPLAY_NAME_MAX_RUNES,
    apply_failure,
    invalid,
    is_valid_username,
    length,
    missing,
    too_long,
)
from archivekit.check.rules.user import check_profile_image, check_username, username_issue
from archivekit.gosem.strings import rune_len
from archivekit.issues import Issue, validator_id


def validate_bot(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    """The validator layer for a `bot` line: the server's first failing check, or None."""
    issue = check_profile_image(data, "bot") or check_username(data, "bot")
    if issue is not None:
        return issue

    display_name = data.get("display_name")
    if display_name is not None and (runes := rune_len(display_name)) > BOT_DISPLAY_NAME_MAX_RUNES:
        return invalid(
            "bot.display_name",
            # The server reuses the user first-name id here.
            validator_id("user", "first_name_length"),
            too_long(
                "Bot display name", display_name, runes, "characters", BOT_DISPLAY_NAME_MAX_RUNES
            ),
            values=length(runes, BOT_DISPLAY_NAME_MAX_RUNES, "characters", display_name),
        )

    owner = data.get("owner")
    if owner is None:
        return missing(
            "bot.owner",
            validator_id("bot", "owner_missing"),
            "The bot has no owner. Add `owner` with the username of its owner (or a plugin id).",
        )
    # Unlike usernames, the owner is checked as given, without lowercasing.
    if not is_valid_username(owner):
        return username_issue("bot.owner", owner)
    return None


def apply_bot(data: dict[str, Any], ctx: RuleContext) -> list[Issue]:
    """Bot.IsValid: the description (not validated on import) is limited to 1024 characters."""
    description = data.get("description")
    if description is not None and (runes := rune_len(description)) > BOT_DESCRIPTION_MAX_RUNES:
        return [
            apply_failure(
                "bot.description",
                "model.bot.is_valid.description.app_error",
                too_long(
                    "Bot description", description, runes, "characters", BOT_DESCRIPTION_MAX_RUNES
                ),
                values=length(runes, BOT_DESCRIPTION_MAX_RUNES, "characters", description),
            )
        ]
    return []
