"""Identity records on disk, in hash buckets: comparing millions of posts in bounded memory.

The idea of the duplicate detector (check/duplicates.py), for two archives: every post, reply,
reaction, attachment and membership becomes one fixed-size record — a 64-bit hash of its
identity, its line number and kind, where it is (a channel or DM/GM id) and one more number
(who reacted, a file's size) — 24 bytes, never the message. Records are buffered, then
appended to one of 256 bucket files by the top 8 bits of the hash. Both archives use the same
bucketing, so bucket ``i`` of one only ever needs bucket ``i`` of the other: a comparison holds
1/256 of the records in memory at a time. RAM: the buffer (`FLUSH_EVERY` records, 6 MiB) plus
one bucket. Records that never fill the buffer (a small archive) stay in memory.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

BUCKET_BITS = 8
BUCKETS = 1 << BUCKET_BITS
FLUSH_EVERY = 1 << 18
KIND_SHIFT = 56  # `tag` = kind << KIND_SHIFT | line number
LINE_MASK = (1 << KIND_SHIFT) - 1
RECORD_BYTES = 24


def record_dtype() -> np.dtype[np.void]:
    import numpy as np

    return np.dtype([("hash", "<u8"), ("tag", "<u8"), ("place", "<u4"), ("extra", "<u4")])


class Sink(Protocol):
    def add(self, identity: int, kind: int, line: int, place: int, extra: int = 0) -> None: ...

    def add_columns(self, hashes: bytes, tags: bytes, places: bytes, extras: bytes) -> None: ...


class Discard:
    """A sink that keeps nothing (a pass that only describes a few lines)."""

    def add(self, identity: int, kind: int, line: int, place: int, extra: int = 0) -> None:
        return None

    def add_columns(self, hashes: bytes, tags: bytes, places: bytes, extras: bytes) -> None:
        return None


class Spool:
    """Appends (hash, kind, line, place, extra) records, spilling into bucket files under
    `directory` once more than `FLUSH_EVERY` are buffered."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.records = 0
        self.spilled = False
        self._hashes = array("Q")
        self._tags = array("Q")
        self._places = array("I")
        self._extras = array("I")

    def add(self, identity: int, kind: int, line: int, place: int, extra: int = 0) -> None:
        self._hashes.append(identity)
        self._tags.append((kind << KIND_SHIFT) | line)
        self._places.append(place)
        self._extras.append(extra)
        if len(self._hashes) >= FLUSH_EVERY:
            self.flush()

    def add_columns(self, hashes: bytes, tags: bytes, places: bytes, extras: bytes) -> None:
        """Records already packed as columns (native uint64, uint64, uint32, uint32: what the
        C reader returns), with `tags` made as `add` makes them."""
        self._hashes.frombytes(hashes)
        self._tags.frombytes(tags)
        self._places.frombytes(places)
        self._extras.frombytes(extras)
        if len(self._hashes) >= FLUSH_EVERY:
            self.flush()

    def _buffered(self) -> np.ndarray:
        import numpy as np

        records = np.empty(len(self._hashes), dtype=record_dtype())
        records["hash"] = np.frombuffer(self._hashes, dtype=np.uint64)
        records["tag"] = np.frombuffer(self._tags, dtype=np.uint64)
        records["place"] = np.frombuffer(self._places, dtype=np.uint32)
        records["extra"] = np.frombuffer(self._extras, dtype=np.uint32)
        return records

    def flush(self) -> None:
        """Move the buffered records into the bucket files."""
        if not self._hashes:
            return
        write_buckets(self.directory, self._buffered())
        self.spilled = True
        self.records += len(self._hashes)
        self._hashes, self._tags = array("Q"), array("Q")
        self._places, self._extras = array("I"), array("I")

    def close(self) -> np.ndarray | None:
        """The records themselves when they never left memory (small archives: no files, no
        256 buckets to walk); else None, everything being in the bucket files."""
        if self.spilled:
            self.flush()
            return None
        records = self._buffered()
        self.records = len(records)
        return records

    def disk_bytes(self) -> int:
        if not self.directory.exists():
            return 0
        return sum(path.stat().st_size for path in self.directory.iterdir())


def write_buckets(directory: str | os.PathLike[str], records: np.ndarray) -> None:
    """Append records to the bucket files of `directory` by the top bits of their hash."""
    import numpy as np

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    buckets = (records["hash"] >> np.uint64(64 - BUCKET_BITS)).astype(np.int64)
    order = np.argsort(buckets, kind="stable")
    records, buckets = records[order], buckets[order]
    bounds = np.searchsorted(buckets, np.arange(BUCKETS + 1))
    for bucket in range(BUCKETS):
        lo, hi = int(bounds[bucket]), int(bounds[bucket + 1])
        if lo < hi:
            with open(folder / f"{bucket:03d}", "ab") as out:
                out.write(records[lo:hi].tobytes())


def read_bucket(directory: str | os.PathLike[str], bucket: int) -> np.ndarray:
    """The records of one bucket (empty when none were written)."""
    import numpy as np

    path = Path(directory) / f"{bucket:03d}"
    if not path.exists():
        return np.empty(0, dtype=record_dtype())
    return np.fromfile(path, dtype=record_dtype())


Spooled = tuple[str, "np.ndarray | None"]  # the bucket folder, or the records in memory


def iter_buckets(first: Spooled, second: Spooled) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs of record arrays in which equal identities meet: the two sides whole when both
    stayed in memory, else bucket by bucket (a side still in memory is written out first)."""
    (first_dir, first_mem), (second_dir, second_mem) = first, second
    if first_mem is not None and second_mem is not None:
        yield first_mem, second_mem
        return
    for folder, records in (first, second):
        if records is not None:
            write_buckets(folder, records)
    for bucket in range(BUCKETS):
        yield read_bucket(first_dir, bucket), read_bucket(second_dir, bucket)
