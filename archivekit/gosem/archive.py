"""Go's ``archive/zip`` as the server opens an import archive: which members it can read."""

from __future__ import annotations

# The only decompressors archive/zip registers: stored (0) and deflate (8). Any other method
# (deflate64 from Windows' "Compressed folder", bzip2, LZMA...) fails with "zip: unsupported
# compression algorithm"; archive/zip cannot decrypt either.
SERVER_METHODS = frozenset({0, 8})


def server_reads(method: int, encrypted: bool) -> bool:
    """Whether the server's zip reader can read a member's data."""
    return method in SERVER_METHODS and not encrypted
