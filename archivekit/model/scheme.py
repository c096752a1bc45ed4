"""`scheme` lines (Go `SchemeImportData`)."""

from __future__ import annotations

from pydantic import Field

from archivekit.issues import validator_prefix
from archivekit.model.base import ImportModel, Str
from archivekit.model.role import RoleImport

_ID = validator_prefix("scheme")
_ROLES = f"→ `{_ID}wrong_roles_for_scope.error`"


class SchemeImport(ImportModel):
    """A permission scheme with its role objects; upserted by name."""

    go_name = "imports.SchemeImportData"

    name: Str | None = Field(
        default=None,
        description=f"Required, fullmatch `[a-z0-9_]{{2,64}}` → `{_ID}name_invalid.error`.",
    )
    display_name: Str | None = Field(
        default=None,
        description=f"Required, non-empty, ≤ 128 bytes → `{_ID}display_name_invalid.error`.",
    )
    description: Str | None = Field(
        default=None, description=f"≤ 1024 bytes → `{_ID}description_invalid.error`."
    )
    scope: Str | None = Field(
        default=None,
        description=f"Required (`{_ID}null_scope.error`); `team` or `channel` "
        f"(`{_ID}unknown_scheme.error`). Checked first.",
    )
    default_team_admin_role: RoleImport | None = Field(
        default=None, description=f"Required for scope `team`, absent for `channel` {_ROLES}."
    )
    default_team_user_role: RoleImport | None = Field(
        default=None, description=f"Required for scope `team`, absent for `channel` {_ROLES}."
    )
    default_channel_admin_role: RoleImport | None = Field(
        default=None, description=f"Required for both scopes {_ROLES}."
    )
    default_channel_user_role: RoleImport | None = Field(
        default=None, description=f"Required for both scopes {_ROLES}."
    )
    default_team_guest_role: RoleImport | None = Field(
        default=None, description="Optional; validated as a role when present."
    )
    default_channel_guest_role: RoleImport | None = Field(
        default=None, description="Optional; validated as a role when present."
    )
