"""Duplicate post detection with memory that does not grow with the number of posts.

Each post's identity (reference §6: channel, exact create_at, exact message) is reduced to a
64-bit digest and appended, with its line number, to one of 256 bucket files in the run's
temporary directory (`archivekit.runtime.RunDirectory`; digests only — no content is
written). At the end each bucket, 1/256 of the data, is sorted on its own: equal digests are
duplicates. 16 bytes per post on disk (digest and line, 8 bytes each), a few MB of RAM.

The digest (`post_identity`) is XXH64 (xxHash's 64-bit hash, seed 0, from the `xxhash`
package) of a canonical, length-prefixed encoding of the identity parts, so it is the same in
every process whatever the start method (fork or spawn) or hash seed, and the C fast path
(archivekit/check/fast/_scan.c, its own XXH64 after xxHash's specification) computes the very
same value from the line's bytes without building Python objects. XXH64 rather than a
cryptographic digest: it runs at several GB/s (BLAKE2b took a sixth of the C fast path's time
per post), and nothing here needs resistance to crafted collisions — a crafted pair of posts
could only earn itself a false duplicate warning. Encoding, part by part:

* a str: ``b"s"``, its UTF-8 length as 8 bytes little-endian, its UTF-8 bytes;
* an int in the int64 range: ``b"i"`` and the value as 8 bytes little-endian two's complement;
* anything else (only the general path on odd input can pass one): ``b"r"``, the length and
  the UTF-8 of its ``repr``.

Every part carries its kind and length, so two different lists of parts never encode to the
same bytes (``-1`` and ``-2`` included: Python's ``hash(-1) == hash(-2)`` made such posts
"duplicates" before). Two *different* posts are reported as duplicates only if their 64-bit
digests collide: XXH64 passes SMHasher's tests as a 64-bit hash, so for n posts about
n²/2⁶⁵, i.e. 3 × 10⁻⁸ for a million posts and 3 × 10⁻⁶ for ten million.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import xxhash

from archivekit.gosem.spec import INT64_MAX, INT64_MIN
from archivekit.issues import Issue, warning
from archivekit.runtime import RunDirectory, temporary_file_error

if TYPE_CHECKING:
    import numpy as np

_BUCKET_BITS = 8
_FLUSH_EVERY = 1 << 18
# Up to this many identities (none spilled to disk) duplicates are found in plain Python:
# cheaper than importing numpy (0.1-0.2 s of start-up) for the small archives most runs see.
_SMALL = 20_000
_STR = struct.Struct("<cQ")
_INT = struct.Struct("<cq")


def encode_identity(*parts: str | int) -> bytes:
    """The canonical encoding of identity parts (see the module docstring)."""
    chunks: list[bytes] = []
    for part in parts:
        if type(part) is int and INT64_MIN <= part <= INT64_MAX:
            chunks.append(_INT.pack(b"i", part))
            continue
        if type(part) is str:
            kind, data = b"s", part.encode("utf-8", "surrogatepass")
        else:
            kind, data = b"r", repr(part).encode("utf-8", "surrogatepass")
        chunks.append(_STR.pack(kind, len(data)))
        chunks.append(data)
    return b"".join(chunks)


def post_identity(*parts: str | int) -> int:
    """The 64-bit digest of a post's identity parts: the same in every process and in C."""
    digest: int = xxhash.xxh64_intdigest(encode_identity(*parts))
    return digest


class Deduper:
    """Collects (identity hash, line) pairs; `duplicates()` yields (line, first_line)."""

    def __init__(self, run: RunDirectory | None = None) -> None:
        """`run`: the run whose temporary directory holds the buckets (default: one of the
        deduper's own, removed by `close`)."""
        self._hashes = array("Q")
        self._lines = array("Q")
        self._run = run
        self._own_run: RunDirectory | None = None
        self._dir: Path | None = None
        self._count = 0

    def add(self, identity: int, line: int) -> None:
        self._hashes.append(identity)
        self._lines.append(line)
        if len(self._hashes) >= _FLUSH_EVERY:
            self._flush()

    def add_many(self, identities: bytes, lines: bytes) -> None:
        """Pairs packed as native uint64 values (what the C fast path returns)."""
        self._hashes.frombytes(identities)
        self._lines.frombytes(lines)
        if len(self._hashes) >= _FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        if not self._hashes:
            return
        try:
            self._spill()
        except OSError as exc:
            raise temporary_file_error(exc.filename or "in the run's folder", exc) from None
        self._count += len(self._hashes)
        self._hashes = array("Q")
        self._lines = array("Q")

    def _spill(self) -> None:
        """The identities held so far, appended to the bucket files."""
        import numpy as np

        if self._dir is None:
            import tempfile  # (and shutil in close): only runs that spill to disk need them

            run = self._run
            if run is None:
                run = self._own_run = RunDirectory()
            self._dir = Path(tempfile.mkdtemp(prefix="dedupe-", dir=run.path))
        hashes = np.frombuffer(self._hashes, dtype=np.uint64)
        lines = np.frombuffer(self._lines, dtype=np.uint64)
        buckets = (hashes >> np.uint64(64 - _BUCKET_BITS)).astype(np.int64)
        order = np.argsort(buckets, kind="stable")
        hashes, lines, buckets = hashes[order], lines[order], buckets[order]
        bounds = np.searchsorted(buckets, np.arange((1 << _BUCKET_BITS) + 1))
        root = self._dir
        for bucket in range(1 << _BUCKET_BITS):
            lo, hi = int(bounds[bucket]), int(bounds[bucket + 1])
            if lo == hi:
                continue
            pairs = np.empty((hi - lo, 2), dtype=np.uint64)
            pairs[:, 0] = hashes[lo:hi]
            pairs[:, 1] = lines[lo:hi]
            with open(root / f"{bucket:03d}", "ab") as out:
                out.write(pairs.tobytes())

    def _buckets(self) -> Iterator[np.ndarray]:
        import numpy as np

        if self._dir is None:
            # Everything still fits in the in-memory buffer: one bucket.
            if self._hashes:
                pairs = np.empty((len(self._hashes), 2), dtype=np.uint64)
                pairs[:, 0] = np.frombuffer(self._hashes, dtype=np.uint64)
                pairs[:, 1] = np.frombuffer(self._lines, dtype=np.uint64)
                yield pairs
            return
        self._flush()
        for path in sorted(self._dir.iterdir()):
            yield np.fromfile(path, dtype=np.uint64).reshape(-1, 2)

    def duplicates(self, limit: int = 100_000) -> tuple[list[tuple[int, int]], int]:
        """((line, first line with the same identity) for the `limit` lowest lines, sorted;
        the total number of duplicates). The cap keeps a file of identical posts bounded."""
        if self._dir is None and len(self._hashes) <= _SMALL:
            return self._few_duplicates(limit)
        import numpy as np

        found: list[tuple[int, int]] = []
        total = 0
        try:
            for pairs in self._buckets():
                order = np.lexsort((pairs[:, 1], pairs[:, 0]))
                hashes = pairs[order, 0]
                lines = pairs[order, 1]
                repeat = np.zeros(len(hashes), dtype=bool)
                repeat[1:] = hashes[1:] == hashes[:-1]
                # Index of the first line of each run of equal hashes, carried forward.
                starts = np.where(repeat, 0, np.arange(len(hashes)))
                first = np.maximum.accumulate(starts)
                repeats = np.flatnonzero(repeat)
                total += len(repeats)
                found.extend(
                    zip(lines[repeats].tolist(), lines[first[repeats]].tolist(), strict=True)
                )
                if len(found) > limit:
                    import heapq  # only past the limit of duplicates listed

                    found = heapq.nsmallest(limit, found)
        finally:
            self.close()
        found.sort()
        return found, total

    def _few_duplicates(self, limit: int) -> tuple[list[tuple[int, int]], int]:
        """`duplicates` for an in-memory buffer, without numpy (same result)."""
        first: dict[int, int] = {}
        found: list[tuple[int, int]] = []
        for identity, line in sorted(zip(self._hashes, self._lines, strict=True)):
            earliest = first.setdefault(identity, line)
            if earliest != line:
                found.append((line, earliest))
        self.close()
        found.sort()
        return found[:limit], len(found)

    def close(self) -> None:
        if self._dir is not None:
            import shutil

            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        if self._own_run is not None:
            self._own_run.cleanup()
            self._own_run = None


def duplicate_post_issue(first: int) -> Issue:
    """The warning for a post with the identity of the post on line `first` (to be placed)."""
    return warning(
        "duplicate-post",
        f"same channel, create_at and message as line {first}: the server overwrites the "
        "earlier post, or inserts both when they fall in the same batch of 1000 lines",
        values={"first_line": first},
    )
