"""Version-specific name lists vendored from the Mattermost server (``archivekit/data``):
permission ids, system emoji names and the locales the server accepts. Loaded once, on first
use."""

from __future__ import annotations

import os
from collections.abc import Iterator, Set
from functools import cache

# Package data beside the modules (pyproject's package-data): read with open(), as
# importlib.resources would cost more than the lists themselves (~10 ms of imports, at the
# start of most runs: user and role lines need them).
_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "data")
# Lookups answered by searching the file's text before its set is built: a small archive asks
# about a few names, and building the sets of 9,000 locales and 4,500 emoji names would be a
# noticeable part of its start-up; a large one soon asks more and gets the set.
_SEARCHES = 32
# What str.splitlines() ends a line at besides "\n": a file holding any of them gets its set
# at once (a search for "\nNAME\n" would read its lines differently).
_OTHER_LINE_ENDS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


class VendoredList(Set[str]):
    """The entries of one list file (its lines but blank ones and ``#`` comments), as a set."""

    def __init__(self, name: str) -> None:
        with open(os.path.join(_DATA, name), encoding="utf-8") as file:
            text = file.read()
        self._text: str | None = "\n" + text + "\n"
        self._entries: frozenset[str] | None = None
        self._searches = 0
        if any(end in text for end in _OTHER_LINE_ENDS):
            self._build()

    def _build(self) -> frozenset[str]:
        if self._entries is None:
            text = self._text or ""
            lines = text.splitlines()
            self._entries = frozenset(line for line in lines if line and not line.startswith("#"))
            self._text = None
        return self._entries

    def __contains__(self, name: object) -> bool:
        text = self._text
        # A printable name holds no line end; anything else asks the set (exactly as before).
        if text is None or type(name) is not str or not name.isprintable():
            return name in self._build()
        self._searches += 1
        if self._searches >= _SEARCHES:
            return name in self._build()
        return bool(name) and name[0] != "#" and ("\n" + name + "\n") in text

    def __iter__(self) -> Iterator[str]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())


@cache
def permissions() -> VendoredList:
    """Every permission id the server knows (``AllPermissions`` + ``DeprecatedPermissions``)."""
    return VendoredList("permissions.txt")


@cache
def system_emojis() -> VendoredList:
    """The keys of the server's ``SystemEmojis`` map."""
    return VendoredList("system_emoji.txt")


@cache
def locales() -> VendoredList:
    """The entries of ``locales.txt``: accepted locales (lowercase, ``-``) and ``*-rr`` region
    lines; the file's header states how to read them (`archivekit.check.rules.user`)."""
    return VendoredList("locales.txt")
