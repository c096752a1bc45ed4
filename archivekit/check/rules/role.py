"""Rules for `role` lines, and for the role objects embedded in a scheme (reference §4.1)."""

from __future__ import annotations

from typing import Any

from archivekit.check.rules import vendored
from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.names import (
    ROLE_DESCRIPTION_MAX_BYTES,
    ROLE_DISPLAY_NAME_MAX_BYTES,
    ROLE_NAME_MAX_BYTES,
    invalid,
    is_valid_role_name,
    kept,
    length,
    missing,
    shown,
    too_long,
)
from archivekit.gosem.strings import byte_len
from archivekit.issues import Issue, validator_id


def check_role_object(data: dict[str, Any], path: str) -> Issue | None:
    """ValidateRoleImportData on a role object found at `path` (``role`` or a scheme key)."""
    name = data.get("name")
    name_id = validator_id("role", "name_invalid")
    if name is None:
        return missing(f"{path}.name", name_id, "The role has no name. Add a `name`.")
    if not is_valid_role_name(name):
        return invalid(
            f"{path}.name",
            name_id,
            f"Role name {shown(name)} is not valid: it must be 1-{ROLE_NAME_MAX_BYTES} bytes of"
            " lowercase letters, digits and underscores. Rename it, e.g. `custom_role`.",
            values={"found": kept(name)},
        )

    display_name = data.get("display_name")
    display_id = validator_id("role", "display_name_invalid")
    if display_name is None:
        return missing(f"{path}.display_name", display_id, "The role has no display name. Add one.")
    if display_name == "":
        return invalid(
            f"{path}.display_name", display_id, "The role's display name is empty. Fill it in."
        )
    if (size := byte_len(display_name)) > ROLE_DISPLAY_NAME_MAX_BYTES:
        return invalid(
            f"{path}.display_name",
            display_id,
            too_long("Role display name", display_name, size, "bytes", ROLE_DISPLAY_NAME_MAX_BYTES),
            values=length(size, ROLE_DISPLAY_NAME_MAX_BYTES, "bytes", display_name),
        )

    description = data.get("description")
    if description is not None and (size := byte_len(description)) > ROLE_DESCRIPTION_MAX_BYTES:
        return invalid(
            f"{path}.description",
            validator_id("role", "description_invalid"),
            too_long("Role description", description, size, "bytes", ROLE_DESCRIPTION_MAX_BYTES),
            values=length(size, ROLE_DESCRIPTION_MAX_BYTES, "bytes", description),
        )

    permissions = data.get("permissions")
    if permissions:
        known = vendored.permissions()
        for index, permission in enumerate(permissions):
            if permission not in known:
                return invalid(
                    f"{path}.permissions[{index}]",
                    validator_id("role", "invalid_permission"),
                    f"Permission {shown(permission)} is not known to the target server"
                    " (an export from a newer server, or a typo). Remove it or upgrade"
                    " the target server.",
                    values={"found": kept(permission)},
                )
    return None


def validate_role(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    """The validator layer for a `role` line: the server's first failing check, or None."""
    return check_role_object(data, "role")


def apply_role(data: dict[str, Any], ctx: RuleContext) -> list[Issue]:
    """Role.IsValid at apply time repeats the validator checks; nothing more on one line."""
    return []
