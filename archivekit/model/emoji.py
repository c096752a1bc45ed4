"""`emoji` lines (Go `EmojiImportData`)."""

from __future__ import annotations

from pydantic import Field

from archivekit.issues import validator_prefix
from archivekit.model.base import ImportModel, Str

_ID = validator_prefix("emoji")


class EmojiImport(ImportModel):
    """A custom emoji; upserted by name, its image copied byte for byte (≤ 512 KiB)."""

    go_name = "imports.EmojiImportData"

    name: Str | None = Field(
        default=None,
        description=f"Required, non-empty (`{_ID}name_missing.error`, checked first); 1-64 "
        "bytes of `[a-zA-Z0-9+_-]` (`model.emoji.name.app_error`); a system emoji name is "
        "skipped (`model.emoji.system_emoji_name.app_error`).",
    )
    image: Str | None = Field(
        default=None,
        description=f"Required, non-empty (`{_ID}image_missing.error`); must stay under data/ "
        f"(`{_ID}invalid_image_path.error`); missing file → `app.import.emoji.bad_file.error`.",
    )
