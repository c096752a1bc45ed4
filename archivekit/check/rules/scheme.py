"""Rules for `scheme` lines (reference §4.2), including their six embedded role objects."""

from __future__ import annotations

from typing import Any

from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.names import (
    SCHEME_DESCRIPTION_MAX_BYTES,
    SCHEME_DISPLAY_NAME_MAX_BYTES,
    SCHEME_SCOPE_CHANNEL,
    SCHEME_SCOPE_TEAM,
    invalid,
    is_valid_scheme_name,
    kept,
    length,
    missing,
    shown,
    too_long,
)
from archivekit.check.rules.role import check_role_object
from archivekit.gosem.strings import byte_len
from archivekit.issues import Issue, validator_id

TEAM_ADMIN = "default_team_admin_role"
TEAM_USER = "default_team_user_role"
TEAM_GUEST = "default_team_guest_role"
CHANNEL_ADMIN = "default_channel_admin_role"
CHANNEL_USER = "default_channel_user_role"
CHANNEL_GUEST = "default_channel_guest_role"
# The order in which the server validates the embedded roles.
ROLE_KEYS = (TEAM_ADMIN, TEAM_USER, TEAM_GUEST, CHANNEL_ADMIN, CHANNEL_USER, CHANNEL_GUEST)


def _check_scope(data: dict[str, Any]) -> Issue | None:
    scope = data.get("scope")
    if scope is None:
        return missing(
            "scheme.scope",
            validator_id("scheme", "null_scope"),
            'The scheme has no scope. Add `scope`: "team" or "channel".',
        )
    wrong_roles = validator_id("scheme", "wrong_roles_for_scope")
    has_channel_roles = data.get(CHANNEL_ADMIN) is not None and data.get(CHANNEL_USER) is not None
    if scope == SCHEME_SCOPE_TEAM:
        if not has_channel_roles or data.get(TEAM_ADMIN) is None or data.get(TEAM_USER) is None:
            return invalid(
                "scheme",
                wrong_roles,
                "A team scheme needs all four of default_team_admin_role,"
                " default_team_user_role, default_channel_admin_role and"
                " default_channel_user_role. Add the missing role objects.",
            )
    elif scope == SCHEME_SCOPE_CHANNEL:
        if (
            not has_channel_roles
            or data.get(TEAM_ADMIN) is not None
            or data.get(TEAM_USER) is not None
        ):
            return invalid(
                "scheme",
                wrong_roles,
                "A channel scheme needs default_channel_admin_role and"
                " default_channel_user_role and must not have default_team_admin_role or"
                " default_team_user_role. Fix the role objects.",
            )
    else:
        return invalid(
            "scheme.scope",
            validator_id("scheme", "unknown_scheme"),
            f'Scheme scope {shown(scope)} is not valid; use "team" or "channel".',
            values={"found": kept(scope)},
        )
    return None


def validate_scheme(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    """The validator layer for a `scheme` line: the server's first failing check, or None."""
    if (issue := _check_scope(data)) is not None:
        return issue

    name = data.get("name")
    name_id = validator_id("scheme", "name_invalid")
    if name is None:
        return missing("scheme.name", name_id, "The scheme has no name. Add a `name`.")
    if not is_valid_scheme_name(name):
        return invalid(
            "scheme.name",
            name_id,
            f"Scheme name {shown(name)} is not valid: it must be 2-64 lowercase letters, digits"
            " or underscores. Rename it (and every team/channel `scheme` that refers to it).",
            values={"found": kept(name)},
        )

    display_name = data.get("display_name")
    display_id = validator_id("scheme", "display_name_invalid")
    if display_name is None:
        return missing("scheme.display_name", display_id, "The scheme has no display name.")
    if display_name == "":
        return invalid("scheme.display_name", display_id, "The scheme's display name is empty.")
    if (size := byte_len(display_name)) > SCHEME_DISPLAY_NAME_MAX_BYTES:
        return invalid(
            "scheme.display_name",
            display_id,
            too_long(
                "Scheme display name", display_name, size, "bytes", SCHEME_DISPLAY_NAME_MAX_BYTES
            ),
            values=length(size, SCHEME_DISPLAY_NAME_MAX_BYTES, "bytes", display_name),
        )

    description = data.get("description")
    if description is not None and (size := byte_len(description)) > SCHEME_DESCRIPTION_MAX_BYTES:
        return invalid(
            "scheme.description",
            validator_id("scheme", "description_invalid"),
            too_long(
                "Scheme description", description, size, "bytes", SCHEME_DESCRIPTION_MAX_BYTES
            ),
            values=length(size, SCHEME_DESCRIPTION_MAX_BYTES, "bytes", description),
        )

    for key in ROLE_KEYS:
        role = data.get(key)
        if role is not None and (issue := check_role_object(role, f"scheme.{key}")) is not None:
            return issue
    return None


def apply_scheme(data: dict[str, Any], ctx: RuleContext) -> list[Issue]:
    """A scope change is the only apply rule, and it needs the earlier definition (cross-line);
    the embedded role names are replaced by generated ones, so nothing else can fail here."""
    return []
