"""Rules for `emoji` lines (reference §4.7). The image size needs the zip: the engine."""

from __future__ import annotations

from typing import Any

from archivekit.check.rules import vendored
from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.names import (
    EMOJI_NAME_MAX_BYTES,
    invalid,
    is_valid_emoji_name,
    kept,
    missing,
    shown,
)
from archivekit.gosem.paths import escapes_data
from archivekit.issues import DROPS_DATA, Issue, error, validator_id


def validate_emoji(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    """The validator layer for an `emoji` line: the server's first failing check, or None.

    A name taken by a system emoji is special: the importer skips the line with a warning
    instead of stopping, so it is reported as data that will not arrive (drops-data).
    """
    name = data.get("name")
    if not name:
        return missing(
            "emoji.name",
            validator_id("emoji", "name_missing"),
            "The emoji has no name. Add `name`.",
        )
    image = data.get("image")
    if not image:
        return missing(
            "emoji.image",
            validator_id("emoji", "image_missing"),
            "The emoji has no image. Add `image` with the image's path under data/.",
        )
    if escapes_data(image):
        return invalid(
            "emoji.image",
            validator_id("emoji", "invalid_image_path"),
            f"Emoji image path {shown(image)} leaves the archive's data/ folder. Give a path"
            " relative to data/, without `..`.",
            values={"found": kept(image)},
        )
    if not is_valid_emoji_name(name):
        return invalid(
            "emoji.name",
            "model.emoji.name.app_error",
            f"Emoji name {shown(name)} is not valid: 1-{EMOJI_NAME_MAX_BYTES} bytes of letters,"
            " digits, `+`, `-` and `_`. Rename it (and the reactions that use it).",
            values={"found": kept(name)},
        )
    if name in vendored.system_emojis():
        return error(
            "system-emoji-name",
            f"Emoji name {shown(name)} is already a system emoji; the server skips this custom"
            " emoji. Rename it if you want to keep its image.",
            field="emoji.name",
            server_error_id="model.emoji.system_emoji_name.app_error",
            effect=DROPS_DATA,
            values={"found": kept(name)},
        )
    return None


def apply_emoji(data: dict[str, Any], ctx: RuleContext) -> list[Issue]:
    """Nothing to check on the line alone: the image's existence and size need the zip."""
    return []
