"""How the server maps a JSONL path (attachment, profile image, emoji image) to a zip member.

Server behaviour (reference §1.3): ``filepath.Join("data", path)`` (Go path cleaning), refused
when the result escapes ``data/``, then looked up by NFC-normalised name, exactly and
case-sensitively. Backslash is an ordinary character on Linux servers.
"""

from __future__ import annotations

import posixpath
import unicodedata

DATA_DIR = "data"
# How the name of a member under DATA_DIR starts.
DATA_PREFIX = DATA_DIR + "/"


def join_data(path: str) -> str:
    """Go's ``filepath.Join("data", path)``: empty elements ignored, then ``Clean``."""
    if not path:
        return DATA_DIR
    # posixpath.normpath matches Go's Clean here: the argument never starts with "/", so the
    # POSIX "//" special case cannot arise.
    return posixpath.normpath(DATA_PREFIX + path)


def escapes_data(path: str) -> bool:
    """True when ``path`` resolves outside ``data/`` (the server refuses it as traversal)."""
    joined = join_data(path)
    return not (joined == DATA_DIR or joined.startswith(DATA_PREFIX))


def member_key(name: str) -> str:
    """The key the server uses for a zip member name (or a resolved path): NFC only."""
    # Fast path: pure ASCII is already NFC; is_normalized is C-speed but ASCII check is cheaper.
    if name.isascii():
        return name
    return unicodedata.normalize("NFC", name)


def resolve(path: str) -> str | None:
    """The member key a JSONL path resolves to, or None when it escapes ``data/``."""
    if escapes_data(path):
        return None
    return member_key(join_data(path))


def after_data_prefix(path: str) -> str | None:
    """A path written with the member's leading ``data/`` (leading slashes ignored), without
    it; None for any other path. The server joins ``data/`` again, so such a path names
    ``data/data/...``: the fixable mistake repairs strip (`fix`) and checks offer to strip."""
    bare = path.lstrip("/")
    return bare[len(DATA_PREFIX) :] if bare.startswith(DATA_PREFIX) else None
