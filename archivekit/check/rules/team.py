"""Rules for `team` lines (reference §4.3)."""

from __future__ import annotations

from typing import Any

from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.names import (
    TEAM_DESCRIPTION_MAX_BYTES,
    TEAM_DISPLAY_NAME_MAX_RUNES,
    TEAM_NAME_MAX_BYTES,
    TEAM_TYPES,
    apply_failure,
    invalid,
    is_valid_team_name,
    kept,
    length,
    missing,
    reserved_team_word,
    scheme_reference_issue,
    shown,
    too_long,
    uppercase_name_warning,
)
from archivekit.gosem.strings import byte_len, go_lower, rune_len
from archivekit.issues import TEAM_NAME_CHARACTERS_ID, Issue, validator_id

# model.SanitizeUnicode drops these before Team.IsValid; all are non-ASCII.
_SANITIZED_AWAY = frozenset(
    "\u0340\u0341\u17a3\u17d3\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
    "\u206a\u206b\u206c\u206d\u206e\u206f\ufff9\ufffa\ufffb\ufeff\ufffc"
)


def _sanitized_away(ch: str) -> bool:
    code = ord(ch)
    return ch in _SANITIZED_AWAY or 0x1D173 <= code <= 0x1D17A or 0xE0000 <= code <= 0xE007F


def sanitize_unicode(s: str) -> str:
    """model.SanitizeUnicode: drop the W3C blocklisted code points."""
    if s.isascii():
        return s
    return "".join(ch for ch in s if not _sanitized_away(ch))


def _check_name(name: str | None) -> Issue | None:
    if name is None:
        return missing(
            "team.name", validator_id("team", "name_missing"), "The team has no name. Add `name`."
        )
    # Length is measured on the raw value, the reserved check and the regex on the lowercase.
    if (size := byte_len(name)) > TEAM_NAME_MAX_BYTES:
        return invalid(
            "team.name",
            validator_id("team", "name_length"),
            too_long("Team name", name, size, "bytes", TEAM_NAME_MAX_BYTES),
            values=length(size, TEAM_NAME_MAX_BYTES, "bytes", name),
        )
    if (reserved := reserved_team_word(name)) is not None:
        return invalid(
            "team.name",
            validator_id("team", "name_reserved"),
            f"Team name {shown(name)} starts with a reserved word (admin, api, channel, help,"
            " post, plugins, …). Rename the team, e.g. prefix it with your organisation.",
            values={"found": kept(name), "reserved": reserved},
        )
    if not is_valid_team_name(go_lower(name)):
        return invalid(
            "team.name",
            validator_id("team", "name_characters"),
            f"Team name {shown(name)} is not valid: use at least 2 lowercase letters, digits and"
            " hyphens, starting and ending with a letter or digit (or two parts joined by one"
            " `__`). Rename it.",
            values={"found": kept(name)},
        )
    return None


def validate_team(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    """The validator layer for a `team` line: the server's first failing check, or None."""
    if (issue := _check_name(data.get("name"))) is not None:
        return issue

    display_name = data.get("display_name")
    if display_name is None:
        return missing(
            "team.display_name",
            validator_id("team", "display_name_missing"),
            "The team has no display name. Add `display_name`.",
        )
    runes = rune_len(display_name)
    if runes == 0 or runes > TEAM_DISPLAY_NAME_MAX_RUNES:
        message = (
            "The team's display name is empty. Fill it in."
            if runes == 0
            else too_long(
                "Team display name", display_name, runes, "characters", TEAM_DISPLAY_NAME_MAX_RUNES
            )
        )
        return invalid(
            "team.display_name",
            validator_id("team", "display_name_length"),
            message,
            values=length(runes, TEAM_DISPLAY_NAME_MAX_RUNES, "characters", display_name),
        )

    team_type = data.get("type")
    if team_type is None:
        return missing(
            "team.type",
            validator_id("team", "type_missing"),
            'The team has no type. Add `type`: "O" (open) or "I" (invite only).',
        )
    if team_type not in TEAM_TYPES:
        return invalid(
            "team.type",
            validator_id("team", "type_invalid"),
            f'Team type {shown(team_type)} is not valid; use "O" (open) or "I" (invite only).',
            values={"found": kept(team_type)},
        )

    description = data.get("description")
    if description is not None and (size := byte_len(description)) > TEAM_DESCRIPTION_MAX_BYTES:
        return invalid(
            "team.description",
            validator_id("team", "description_length"),
            too_long("Team description", description, size, "bytes", TEAM_DESCRIPTION_MAX_BYTES),
            values=length(size, TEAM_DESCRIPTION_MAX_BYTES, "bytes", description),
        )

    return scheme_reference_issue("team", data.get("scheme"))


def apply_team(data: dict[str, Any], ctx: RuleContext) -> list[Issue]:
    """Team.IsValid rules the validator does not cover (only called on a valid line)."""
    issues: list[Issue] = []
    name: str = data["name"]
    uppercase = uppercase_name_warning("team", name, TEAM_NAME_CHARACTERS_ID)
    if uppercase is not None:
        issues.append(uppercase)
    display_name: str = data["display_name"]
    if not display_name.isascii() and sanitize_unicode(display_name) == "":
        issues.append(
            apply_failure(
                "team.display_name",
                "model.team.is_valid.name.app_error",
                f"Team display name {shown(display_name)} consists only of invisible control"
                " characters that the server strips, leaving it empty. Use visible text.",
                values={"found": kept(display_name)},
            )
        )
    return issues
