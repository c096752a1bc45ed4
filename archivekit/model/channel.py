"""`channel` lines (Go `ChannelImportData`)."""

from __future__ import annotations

from pydantic import Field

from archivekit.issues import validator_prefix
from archivekit.model.base import ChannelType, ImportModel, Int64, Str

_ID = validator_prefix("channel")


class ChannelImport(ImportModel):
    """A public or private channel; upserted by (team, lowercased name)."""

    go_name = "imports.ChannelImportData"

    team: Str | None = Field(
        default=None,
        description=f"Required (`{_ID}team_missing.error`); the team must exist at apply "
        "(`app.import.import_channel.team_not_found.error`).",
    )
    name: Str | None = Field(
        default=None,
        description=f"Required (`{_ID}name_missing.error`); ≤ 64 bytes "
        f"(`{_ID}name_length.error`); lowercased must be a channel identifier "
        f"(`{_ID}name_characters.error`).",
    )
    display_name: Str | None = Field(
        default=None,
        description=f"Empty/absent → the name; ≤ 64 runes → `{_ID}display_name_length.error`.",
    )
    type: ChannelType | None = Field(
        default=None,
        description=f"Required (`{_ID}type_missing.error`); `O` or `P` "
        f"(`{_ID}type_invalid.error`).",
    )
    header: Str | None = Field(
        default=None, description=f"≤ 1024 runes → `{_ID}header_length.error`."
    )
    purpose: Str | None = Field(
        default=None, description=f"≤ 250 runes → `{_ID}purpose_length.error`."
    )
    scheme: Str | None = Field(
        default=None,
        description=f"Fullmatch `[a-z0-9_]{{2,64}}` → `{_ID}scheme_invalid.error`.",
    )
    deleted_at: Int64 | None = Field(
        default=None, description="Not validated; > 0 archives the channel at that time."
    )
