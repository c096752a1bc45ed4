"""`role` lines and the six role objects inside a scheme (Go `RoleImportData`)."""

from __future__ import annotations

from pydantic import Field

from archivekit.issues import validator_prefix
from archivekit.model.base import Bool, ImportModel, Str

_ID = validator_prefix("role")


class RoleImport(ImportModel):
    """A role: created or updated by name."""

    go_name = "imports.RoleImportData"

    name: Str | None = Field(
        default=None,
        description=f"Required. 1-64 bytes of `[a-z0-9_]` → `{_ID}name_invalid.error`.",
    )
    display_name: Str | None = Field(
        default=None,
        description=f"Required, non-empty, ≤ 128 bytes → `{_ID}display_name_invalid.error`.",
    )
    description: Str | None = Field(
        default=None, description=f"≤ 1024 bytes → `{_ID}description_invalid.error`."
    )
    permissions: list[Str] | None = Field(
        default=None,
        description="Each entry must be a permission id known to the target server "
        f"→ `{_ID}invalid_permission.error`.",
    )
    scheme_managed: Bool | None = Field(
        default=None, description="Not validated; applied when present."
    )
