"""Version-specific name lists vendored from the Mattermost server (``archivekit/data``):
permission ids, system emoji names and the locales the server accepts. Loaded once, on first
use."""

from __future__ import annotations

from functools import cache


def _read_list(name: str) -> frozenset[str]:
    # Imported here: importlib.resources pulls in tempfile and shutil, a few ms of every
    # start-up, and only archives with emoji or role lines need these lists.
    from importlib.resources import files

    text = files("archivekit").joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


@cache
def permissions() -> frozenset[str]:
    """Every permission id the server knows (``AllPermissions`` + ``DeprecatedPermissions``)."""
    return _read_list("permissions.txt")


@cache
def system_emojis() -> frozenset[str]:
    """The keys of the server's ``SystemEmojis`` map."""
    return _read_list("system_emoji.txt")


@cache
def locales() -> frozenset[str]:
    """The entries of ``locales.txt``: accepted locales (lowercase, ``-``) and ``*-rr`` region
    lines; the file's header states how to read them (`archivekit.check.rules.user`)."""
    return _read_list("locales.txt")
