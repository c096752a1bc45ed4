from collections.abc import Callable
from typing import Any

SOURCE_SHA256: str

def scan(
    raw: bytes,
    direct: bool,
    users: dict[str, Any],
    teams: dict[str, Any],
    channels: dict[tuple[str, str], Any],
    type_ok: Callable[[str], bool],
    max_post_size: int,
    files: tuple[Any, int, tuple[bytes, ...], Callable[[str], int] | None] | None,
    /,
) -> tuple[int, int, int, int, Any] | None: ...
def scan_batch(
    batch: list[Any],
    start: int,
    first_line: int | bytes,
    users: dict[str, Any],
    teams: dict[str, Any],
    channels: dict[tuple[str, str], Any],
    type_ok: Callable[[str], bool],
    max_post_size: int,
    files: tuple[Any | None, int, tuple[bytes, ...], Callable[[str], int] | None] | None,
    /,
) -> tuple[int, int, int, int, int, int, int, bool, bytes, bytes, Any]: ...

# The lines of a block joined by newlines, from the one at `offset` (numbered `first_line`),
# then `scan`'s context: users, teams, channels, type_ok, max_post_size, files.
def scan_text(
    text: bytes, offset: int, first_line: int, /, *context: Any
) -> tuple[int, int, int, int]: ...
def resolve_waiting(
    waiting: bytes,
    offset: int,
    files: tuple[Any, int, tuple[bytes, ...], Callable[[str], int] | None],
    /,
) -> tuple[int, Any]: ...
def identity_digest(data: bytes, /) -> int: ...
def settled_posts(batch: list[Any], start: int, /) -> int: ...
def skim_batch(
    batch: list[Any], start: int, places: dict[tuple[str, str], list[int]], /
) -> tuple[int, int, int, int, int, int, int | None, int | None]: ...
