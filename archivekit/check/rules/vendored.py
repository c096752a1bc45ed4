"""Version-specific name lists vendored from the Mattermost server (``archivekit/data``):
permission ids, system emoji names and the locales the server accepts. Loaded once, on first
use."""

from __future__ import annotations

import os
from functools import cache

# Package data beside the modules (pyproject's package-data): read with open(), as
# importlib.resources would cost more than the lists themselves (~10 ms of imports, at the
# start of most runs: user and role lines need them).
_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "data")


def _read_list(name: str) -> frozenset[str]:
    with open(os.path.join(_DATA, name), encoding="utf-8") as file:
        text = file.read()
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
