"""Rules for `channel` lines (reference §4.4)."""

from __future__ import annotations

import re
from typing import Any

from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.names import (
    CHANNEL_DISPLAY_NAME_MAX_RUNES,
    CHANNEL_HEADER_MAX_RUNES,
    CHANNEL_NAME_MAX_BYTES,
    CHANNEL_PURPOSE_MAX_RUNES,
    CHANNEL_TYPES,
    apply_failure,
    invalid,
    is_valid_channel_identifier,
    kept,
    length,
    missing,
    scheme_reference_issue,
    shown,
    too_long,
    uppercase_name_warning,
)
from archivekit.gosem.strings import byte_len, go_lower, rune_len
from archivekit.issues import CHANNEL_NAME_CHARACTERS_ID, Issue, validator_id

# Channel.IsValid refuses names shaped like group-message names (sha1 hex) ...
_GM_NAME_RE = re.compile(r"[a-f0-9]{40}")
_ID_LENGTH = 26


def _is_valid_id(value: str) -> bool:
    """model.IsValidId: 26 bytes, every rune a letter or a number."""
    return byte_len(value) == _ID_LENGTH and all(c.isalnum() for c in value)


def looks_like_dm_or_gm_name(name: str) -> bool:
    """... and direct-message names (two 26-character ids joined by ``__``)."""
    if _GM_NAME_RE.fullmatch(name):
        return True
    parts = name.split("__")
    return len(parts) == 2 and _is_valid_id(parts[0]) and _is_valid_id(parts[1])


def _check_name(name: str | None) -> Issue | None:
    if name is None:
        return missing(
            "channel.name",
            validator_id("channel", "name_missing"),
            "The channel has no name. Add `name`.",
        )
    if (size := byte_len(name)) > CHANNEL_NAME_MAX_BYTES:
        return invalid(
            "channel.name",
            validator_id("channel", "name_length"),
            too_long("Channel name", name, size, "bytes", CHANNEL_NAME_MAX_BYTES),
            values=length(size, CHANNEL_NAME_MAX_BYTES, "bytes", name),
        )
    if not is_valid_channel_identifier(go_lower(name)):
        return invalid(
            "channel.name",
            validator_id("channel", "name_characters"),
            f"Channel name {shown(name)} is not valid: it must start with a lowercase letter or"
            " digit, followed by letters, digits, `-` or `_`. Rename it.",
            values={"found": kept(name)},
        )
    return None


def validate_channel(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    """The validator layer for a `channel` line: the server's first failing check, or None."""
    if data.get("team") is None:
        return missing(
            "channel.team",
            validator_id("channel", "team_missing"),
            "The channel has no team. Add `team` with the name of a team line.",
        )
    if (issue := _check_name(data.get("name"))) is not None:
        return issue

    # An absent or empty display name is replaced by the name, so only "too long" can fail.
    display_name = data.get("display_name")
    if display_name and (runes := rune_len(display_name)) > CHANNEL_DISPLAY_NAME_MAX_RUNES:
        return invalid(
            "channel.display_name",
            validator_id("channel", "display_name_length"),
            too_long(
                "Channel display name",
                display_name,
                runes,
                "characters",
                CHANNEL_DISPLAY_NAME_MAX_RUNES,
            ),
            values=length(runes, CHANNEL_DISPLAY_NAME_MAX_RUNES, "characters", display_name),
        )

    channel_type = data.get("type")
    if channel_type is None:
        return missing(
            "channel.type",
            validator_id("channel", "type_missing"),
            'The channel has no type. Add `type`: "O" (public) or "P" (private).',
        )
    if channel_type not in CHANNEL_TYPES:
        return invalid(
            "channel.type",
            validator_id("channel", "type_invalid"),
            f'Channel type {shown(channel_type)} is not valid; use "O" (public) or "P"'
            " (private). Direct and group messages are `direct_channel` lines.",
            values={"found": kept(channel_type)},
        )

    header = data.get("header")
    if header is not None and (runes := rune_len(header)) > CHANNEL_HEADER_MAX_RUNES:
        return invalid(
            "channel.header",
            validator_id("channel", "header_length"),
            too_long("Channel header", header, runes, "characters", CHANNEL_HEADER_MAX_RUNES),
            values=length(runes, CHANNEL_HEADER_MAX_RUNES, "characters", header),
        )

    purpose = data.get("purpose")
    if purpose is not None and (runes := rune_len(purpose)) > CHANNEL_PURPOSE_MAX_RUNES:
        return invalid(
            "channel.purpose",
            validator_id("channel", "purpose_length"),
            too_long("Channel purpose", purpose, runes, "characters", CHANNEL_PURPOSE_MAX_RUNES),
            values=length(runes, CHANNEL_PURPOSE_MAX_RUNES, "characters", purpose),
        )

    return scheme_reference_issue("channel", data.get("scheme"))


def apply_channel(data: dict[str, Any], ctx: RuleContext) -> list[Issue]:
    """Channel.IsValid rules the validator does not cover (only called on a valid line), on the
    name the importer saves: lowercased (``strings.ToLower``) since mattermost/mattermost#28906."""
    issues: list[Issue] = []
    name: str = data["name"]
    uppercase = uppercase_name_warning("channel", name, CHANNEL_NAME_CHARACTERS_ID)
    if uppercase is not None:
        issues.append(uppercase)
    stored = go_lower(name)
    if looks_like_dm_or_gm_name(stored):
        held = "" if stored == name else f" (the server saves it lowercased, as {shown(stored)})"
        issues.append(
            apply_failure(
                "channel.name",
                "model.channel.is_valid.name.app_error",
                f"Channel name {shown(name)}{held} looks like a direct or group message name"
                " (40 hex characters, or two 26-character ids joined by `__`); the server"
                " refuses it for team channels. Rename the channel.",
                values={"found": name, "key": stored},
            )
        )
    return issues
