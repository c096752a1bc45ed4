"""`bot` lines (Go `BotImportData`, v10.3)."""

from __future__ import annotations

from pydantic import Field

from archivekit.issues import validator_prefix
from archivekit.model.base import Int64, Str
from archivekit.model.user import Avatar

_ID = validator_prefix("user")


class BotImport(Avatar):
    """A bot (v10.3); upserted by username."""

    go_name = "imports.BotImportData"

    username: Str | None = Field(
        default=None,
        description=f"Required (`{_ID}username_missing.error`); lowercased username rules → "
        f"`{_ID}username_invalid.error`.",
    )
    owner: Str | None = Field(
        default=None,
        description="Required (`app.import.validate_bot_import_data.owner_missing.error`); "
        f"username rules without lowercasing → `{_ID}username_invalid.error`.",
    )
    display_name: Str | None = Field(
        default=None, description=f"≤ 64 runes → `{_ID}first_name_length.error` (reused id)."
    )
    description: Str | None = Field(
        default=None, description="Not validated (apply: ≤ 1024 runes)."
    )
    delete_at: Int64 | None = Field(default=None, description="Accepted and ignored.")
