# Type stub for the C extension built from archivekit/read/_imagehead.c.
from typing import Any

from _typeshed import ReadableBuffer, WriteableBuffer

SOURCE_SHA256: str

def dimensions(head: ReadableBuffer, /) -> tuple[str, int, int] | None: ...
def measure(
    table: Any,
    fd: int,
    file_size: int,
    entries: ReadableBuffer,  # entry indexes, packed uint32
    start: int,
    n: int,
    state: WriteableBuffer,
    width: WriteableBuffer,
    height: WriteableBuffer,
    max_member: int,
    max_total: int,
    total: int,
    max_ratio: float,
    /,
) -> tuple[int, int]: ...  # the budget's new total, where it stopped
def keep(
    rows: ReadableBuffer,  # packed int64, five a row, the entry last
    state: ReadableBuffer,
    width: ReadableBuffer,
    height: ReadableBuffer,
    bound: int,
    /,
) -> bytes: ...
