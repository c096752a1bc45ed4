"""`team` lines (Go `TeamImportData`)."""

from __future__ import annotations

from pydantic import Field

from archivekit.issues import validator_prefix
from archivekit.model.base import Bool, ImportModel, Str

_ID = validator_prefix("team")


class TeamImport(ImportModel):
    """A team; upserted by lowercased name."""

    go_name = "imports.TeamImportData"

    name: Str | None = Field(
        default=None,
        description=f"Required (`{_ID}name_missing.error`); ≤ 64 bytes "
        f"(`{_ID}name_length.error`); no reserved prefix (`{_ID}name_reserved.error`); "
        f"lowercased must be a valid team name (`{_ID}name_characters.error`).",
    )
    display_name: Str | None = Field(
        default=None,
        description=f"Required (`{_ID}display_name_missing.error`); 1-64 runes "
        f"(`{_ID}display_name_length.error`).",
    )
    type: Str | None = Field(
        default=None,
        description=f"Required (`{_ID}type_missing.error`); `O` or `I` "
        f"(`{_ID}type_invalid.error`).",
    )
    description: Str | None = Field(
        default=None, description=f"≤ 255 bytes → `{_ID}description_length.error`."
    )
    allow_open_invite: Bool | None = Field(default=None, description="A JSON boolean.")
    scheme: Str | None = Field(
        default=None,
        description=f"Fullmatch `[a-z0-9_]{{2,64}}` → `{_ID}scheme_invalid.error`; must name "
        "an existing team-scoped scheme at apply.",
    )
