"""Names, limits and enumerations the per-line rules share (reference §10), with the server's
name predicates reproduced exactly, and the small helpers every rule module uses to build its
issues.

Go's string semantics (lowercasing, splitting, lengths) come from `archivekit.gosem.strings`.
Go's ``^...$`` anchors the whole string, so every regex here is used with ``fullmatch``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from archivekit.gosem.strings import byte_len, go_fields, go_lower
from archivekit.issues import FAILS_IMPORT, Issue, Scalar, error, validator_id, warning

# --- limits (bytes unless the name says runes) ------------------------------------------------
TEAM_NAME_MAX_BYTES: Final = 64
TEAM_DISPLAY_NAME_MAX_RUNES: Final = 64
TEAM_DESCRIPTION_MAX_BYTES: Final = 255
CHANNEL_NAME_MAX_BYTES: Final = 64
CHANNEL_DISPLAY_NAME_MAX_RUNES: Final = 64
CHANNEL_HEADER_MAX_RUNES: Final = 1024
CHANNEL_PURPOSE_MAX_RUNES: Final = 250
USERNAME_MAX_BYTES: Final = 64
USER_EMAIL_MAX_BYTES: Final = 128
USER_AUTH_DATA_MAX_BYTES: Final = 128
USER_PASSWORD_MAX_BYTES: Final = 72
USER_NICKNAME_MAX_RUNES: Final = 64
USER_FIRST_NAME_MAX_RUNES: Final = 64
USER_LAST_NAME_MAX_RUNES: Final = 64
USER_POSITION_MAX_RUNES: Final = 128
USER_ROLES_MAX_BYTES: Final = 256
USER_LOCALE_MAX_BYTES: Final = 5
ROLE_NAME_MAX_BYTES: Final = 64
ROLE_DISPLAY_NAME_MAX_BYTES: Final = 128
ROLE_DESCRIPTION_MAX_BYTES: Final = 1024
SCHEME_DISPLAY_NAME_MAX_BYTES: Final = 128
SCHEME_DESCRIPTION_MAX_BYTES: Final = 1024
EMOJI_NAME_MAX_BYTES: Final = 64
BOT_DISPLAY_NAME_MAX_RUNES: Final = 64
BOT_DESCRIPTION_MAX_RUNES: Final = 1024
# model.MaxPreferenceValueLength (20000 runes on current servers; 2000 on old ones).
PREFERENCE_VALUE_MAX_RUNES: Final = 20000
# model.PreferenceMaxLimitVisibleDmsGmsValue.
LIMIT_VISIBLE_DMS_GMS_MAX: Final = 40

# --- regexes (always fullmatch) ------------------------------------------------------------------
TEAM_NAME_RE: Final = re.compile(r"[a-z0-9]+([a-z0-9-]+|(__)?)[a-z0-9]+")
CHANNEL_NAME_RE: Final = re.compile(r"[a-z0-9]+([a-z0-9_-]+|(__)?)[a-z0-9]*")
USERNAME_RE: Final = re.compile(r"[a-z0-9.\-_]+")
SCHEME_NAME_RE: Final = re.compile(r"[a-z0-9_]{2,64}")
ROLE_NAME_RE: Final = re.compile(r"[a-z0-9_]+")
EMOJI_NAME_RE: Final = re.compile(r"[a-zA-Z0-9+_-]+")

# --- reserved names ------------------------------------------------------------------------------
# model.reservedName: a team name is reserved when its lowercased form *starts with* one of these.
RESERVED_TEAM_NAME_PREFIXES: Final = (
    "admin",
    "api",
    "channel",
    "claim",
    "error",
    "files",
    "help",
    "landing",
    "login",
    "mfa",
    "oauth",
    "plug",
    "plugins",
    "post",
    "signup",
    "boards",
    "playbooks",
)
RESERVED_USERNAMES: Final = frozenset({"all", "channel", "matterbot", "system"})

# --- enumerations --------------------------------------------------------------------------------
TEAM_TYPES: Final = frozenset({"O", "I"})
CHANNEL_TYPES: Final = frozenset({"O", "P"})
SCHEME_SCOPE_TEAM: Final = "team"
SCHEME_SCOPE_CHANNEL: Final = "channel"
AUTH_SERVICES: Final = frozenset(
    {"", "email", "gitlab", "saml", "ldap", "google", "office365", "openid"}
)
USER_NOTIFY_LEVELS: Final = frozenset({"all", "mention", "none"})
PUSH_STATUS_LEVELS: Final = frozenset({"online", "away", "offline"})
COMMENTS_NOTIFY_LEVELS: Final = frozenset({"any", "root", "never"})
CHANNEL_NOTIFY_LEVELS: Final = frozenset({"default", "all", "mention", "none"})
CHANNEL_MARK_UNREAD_LEVELS: Final = frozenset({"all", "mention"})
EMAIL_INTERVALS: Final = frozenset({"immediately", "fifteen", "hour"})
TRUE_FALSE: Final = frozenset({"true", "false"})

SYSTEM_GUEST_ROLE: Final = "system_guest"
TEAM_GUEST_ROLE: Final = "team_guest"
CHANNEL_GUEST_ROLE: Final = "channel_guest"
SYSTEM_ADMIN_ROLE: Final = "system_admin"


# --- name predicates (server model functions) ----------------------------------------------------
def reserved_team_word(name: str) -> str | None:
    """model.IsReservedTeamName: the reserved word the lowercased name starts with (the first
    of the server's list), or None when it is no reserved name."""
    lowered = go_lower(name)
    return next((w for w in RESERVED_TEAM_NAME_PREFIXES if lowered.startswith(w)), None)


def is_valid_team_name(lowered: str) -> bool:
    """model.IsValidTeamName on an already lowercased name (regex implies ≥ 2 characters)."""
    return TEAM_NAME_RE.fullmatch(lowered) is not None


def is_valid_channel_identifier(lowered: str) -> bool:
    """model.IsValidChannelIdentifier (regex implies ≥ 1 character)."""
    return CHANNEL_NAME_RE.fullmatch(lowered) is not None


def is_valid_username(name: str) -> bool:
    """model.IsValidUsername: 1-64 bytes of ``[a-z0-9.-_]``, not a restricted name."""
    return (
        0 < byte_len(name) <= USERNAME_MAX_BYTES
        and USERNAME_RE.fullmatch(name) is not None
        and name not in RESERVED_USERNAMES
    )


def is_valid_role_name(name: str) -> bool:
    """model.IsValidRoleName: 1-64 bytes of ``[a-z0-9_]``."""
    return 0 < len(name) <= ROLE_NAME_MAX_BYTES and ROLE_NAME_RE.fullmatch(name) is not None


def is_valid_user_roles(roles: str) -> bool:
    """model.IsValidUserRoles: every whitespace-separated token a role name; and the single
    token ``system_admin`` alone is refused (it must come with ``system_user``)."""
    tokens = go_fields(roles)
    if not all(is_valid_role_name(t) for t in tokens):
        return False
    return tokens != [SYSTEM_ADMIN_ROLE]


def is_in_role(roles: str, role: str) -> bool:
    """model.IsInRole: split on single spaces (not all white space), exact token match."""
    return role in roles.split(" ")


def is_valid_scheme_name(name: str) -> bool:
    """model.IsValidSchemeName."""
    return SCHEME_NAME_RE.fullmatch(name) is not None


def is_valid_emoji_name(name: str) -> bool:
    """The syntax half of model.IsValidEmojiName (the system-emoji half needs the list)."""
    return 0 < len(name) <= EMOJI_NAME_MAX_BYTES and EMOJI_NAME_RE.fullmatch(name) is not None


# --- issue helpers -------------------------------------------------------------------------------
_SHOWN_MAX: Final = 80


def shown(value: str) -> str:
    """A string quoted inside an issue's message (Python repr), cut short so one bad line
    cannot flood the report. Values a repair changed are shown in JSON instead
    (`archivekit.write.changes.shown_json`: the value as the JSONL holds it, any type)."""
    if len(value) > _SHOWN_MAX:
        return repr(value[:_SHOWN_MAX]) + f"… ({len(value):,} characters)"
    return repr(value)


def kept(value: str) -> str:
    """A value as an issue keeps it beside the message: cut where `shown` cuts it."""
    return value[:_SHOWN_MAX]


def missing(
    field: str,
    server_error_id: str,
    message: str,
    *,
    values: Mapping[str, Scalar] | None = None,
) -> Issue:
    """A required field is absent (or null): the import stops at this line."""
    return error(
        "missing-field", message, field=field, server_error_id=server_error_id, values=values
    )


def invalid(
    field: str,
    server_error_id: str | None,
    message: str,
    *,
    values: Mapping[str, Scalar] | None = None,
) -> Issue:
    """A field fails the server's validator: the import stops at this line."""
    return error(
        "invalid-field", message, field=field, server_error_id=server_error_id, values=values
    )


def apply_failure(
    field: str,
    server_error_id: str,
    message: str,
    *,
    effect: str = FAILS_IMPORT,
    values: Mapping[str, Scalar] | None = None,
) -> Issue:
    """The line passes the validator but fails when the server writes it."""
    return error(
        "apply-invalid",
        message,
        field=field,
        server_error_id=server_error_id,
        effect=effect,
        values=values,
    )


def length(found: int, limit: int, unit: str, value: str | None = None) -> dict[str, Scalar]:
    """The values of a length-limit issue: the length found, the limit and their unit, and
    the `value` that long (cut as messages show it)."""
    values: dict[str, Scalar] = {"found": found, "limit": limit, "unit": unit}
    if value is not None:
        values["value"] = kept(value)
    return values


def too_long(what: str, value: str, measured: int, unit: str, limit: int) -> str:
    """Message for a length limit: what, the value, its size, the limit and the fix."""
    return (
        f"{what} {shown(value)} is {measured} {unit}; the server allows at most {limit} {unit}."
        f" Shorten it."
    )


def scheme_reference_issue(record: str, scheme: str | None) -> Issue | None:
    """The `scheme` field of a team or channel line: a valid scheme name, or None if absent."""
    if scheme is None or is_valid_scheme_name(scheme):
        return None
    return invalid(
        f"{record}.scheme",
        validator_id(record, "scheme_invalid"),
        f"Scheme name {shown(scheme)} is not valid: 2-64 lowercase letters, digits or"
        " underscores. Use the name of a scheme line.",
        values={"found": kept(scheme)},
    )


def uppercase_name_warning(record: str, name: str, server_error_id: str) -> Issue | None:
    """A team or channel name with uppercase letters: a warning, because it depends on the
    target's version. Current servers lowercase the name before saving it (importTeam and
    importChannel call strings.ToLower since mattermost/mattermost#28906, late 2024, about
    v10.3/v10.4: the exact release is UNVERIFIED); older ones saved it as written and refused
    it in Team.IsValid / Channel.IsValid with `server_error_id`.
    """
    lowered = go_lower(name)
    if lowered == name:
        return None
    return warning(
        "apply-invalid",
        f"{record.capitalize()} name {shown(name)} has uppercase letters: current servers save"
        f" it lowercased, as {shown(lowered)} (since mattermost/mattermost#28906, late 2024);"
        f" older servers refuse it and stop the import ({server_error_id}). Write"
        f" {shown(lowered)} here and in every reference to this {record} to import the same"
        " on every version.",
        field=f"{record}.name",
        server_error_id=server_error_id,
        values={"name": name, "key": lowered},
    )
