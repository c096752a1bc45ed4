"""A stream's deferred file checks (`archivekit.check.deferred`): given back as added, in
bounded memory whatever the lines compress to."""

from __future__ import annotations

import tracemalloc

from archivekit.check.deferred import DeferredFiles
from archivekit.runtime import RunDirectory


def test_records_come_back_in_order_across_spills() -> None:
    lines = [bytes([65 + i % 26]) * (i * 997 % 300_000) for i in range(400)]
    with RunDirectory() as run:
        deferred = DeferredFiles(run)
        for i, raw in enumerate(lines):
            deferred.add(i + 1, i % 3, "post" if i % 2 else "emoji", raw, ok=i % 5 != 0)
        back = list(deferred)
        deferred.close()
    assert [(d.line, d.position, d.kind, d.ok) for d in back] == [
        (i + 1, i % 3, "post" if i % 2 else "emoji", i % 5 != 0) for i in range(len(lines))
    ]
    assert [d.raw for d in back] == lines


def test_lines_that_compress_a_thousandfold_are_inflated_a_little_at_a_time() -> None:
    """~190 MB of lines of one character compress to well under one read chunk: inflated
    at once, the replay would hold all of it."""
    line = b"a" * (64 << 10)
    with RunDirectory() as run:
        deferred = DeferredFiles(run)
        for i in range(3000):
            deferred.add(i + 1, 0, "post", line)
        tracemalloc.start()
        try:
            count = sum(1 for record in deferred if record.raw == line)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            deferred.close()
    assert count == 3000
    assert peak < 16 << 20, peak
