"""A stream's deferred file checks (`archivekit.check.deferred`): given back as added, in
bounded memory whatever the lines compress to."""

from __future__ import annotations

import tracemalloc

import pytest

from archivekit.check import deferred as deferred_module
from archivekit.check.deferred import DeferredFiles, FindingsSpool, waiting_lines
from archivekit.check.facts import Findings
from archivekit.issues import error
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


@pytest.mark.parametrize("keep", [0, 3_000_000, deferred_module.KEEP_LINES])
def test_waiting_runs_come_back_in_order_with_the_other_records_across_spills(
    keep: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The C scanner's waiting runs (their records and lines beside the others, in a file of
    their own once large) come back in line order among the general path's records: their
    lines kept in memory up to `KEEP_LINES` bytes, compressed beyond (here: none kept, some,
    all)."""
    monkeypatch.setattr(deferred_module, "KEEP_LINES", keep)
    runs = [
        ((10 * i).to_bytes(8, "little") + bytes([i % 251]) * (i * 7919 % 200_000),
         bytes([97 + i % 26]) * (i * 104_729 % 300_000))
        for i in range(1, 60)
    ]  # fmt: skip
    with RunDirectory() as run:
        deferred = DeferredFiles(run)
        for i, (records, lines) in enumerate(runs, 1):
            deferred.add(10 * i - 1, 0, "user", b"u" * i)
            deferred.add_waiting(records, lines)
        back = list(deferred)
        deferred.close()
    assert [(d.line, d.kind) for d in back] == [
        (line, kind)
        for i in range(1, 60)
        for line, kind in ((10 * i - 1, "user"), (10 * i, "waiting"))
    ]
    waiting = [d for d in back if d.kind == "waiting"]
    assert [(d.raw, waiting_lines(d)) for d in waiting] == runs
    kept = sum(len(d.lines) for d in waiting if d.kept)
    total = sum(len(records) + len(lines) for records, lines in runs)  # paths and lines
    assert kept <= keep
    assert (kept > 0) == (keep > 0)
    assert all(d.kept for d in waiting) == (total <= keep)


def test_a_failing_write_of_compressed_lines_is_raised_to_the_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The waiting lines beyond `KEEP_LINES` are compressed and written in a thread: a full
    temporary folder there is the run's temporary-file error, raised where the lines are
    handed over or read back, not lost in the thread."""
    import errno
    import os
    from typing import Any

    from archivekit.errors import OutputError
    from archivekit.runtime import temporary_file_error

    spill = deferred_module._spill
    spilled: list[str] = []

    def full(run: RunDirectory, name: str, *rest: Any) -> Any:
        spilled.append(name)
        if name == deferred_module._PACKED_FILE:
            raise temporary_file_error(run.path / name, OSError(errno.ENOSPC, "No space"))
        return spill(run, name, *rest)

    monkeypatch.setattr(deferred_module, "KEEP_LINES", 0)
    monkeypatch.setattr(deferred_module, "_spill", full)
    with RunDirectory() as run:
        deferred = DeferredFiles(run)

        def hand_over_and_read_back() -> None:
            for i in range(1, 50):
                deferred.add_waiting((10 * i).to_bytes(8, "little"), os.urandom(100_000))
            list(deferred)

        with pytest.raises(OutputError, match="deferred-packed: No space"):
            hand_over_and_read_back()
        deferred.close()
    assert deferred_module._PACKED_FILE in spilled


@pytest.mark.parametrize("keep", [0, 100_000, None], ids=["spooled", "some-kept", "kept"])
def test_batch_findings_come_back_in_order_from_memory_then_disk(keep: int | None) -> None:
    """A stream's batch findings wait in memory up to `KEEP_FINDINGS` bytes (as counted by
    their identities, a kilobyte per issue or fact and their strings), the rest on disk: all
    come back, in the order added, whichever way each waited; once one went to disk, so do all
    after it (a small batch after a large one must not come back first)."""
    sizes = [i * 7919 % 40_000 for i in range(1, 40)]
    with RunDirectory() as run:
        spool = FindingsSpool(run, keep)
        for i, size in enumerate(sizes):
            found = Findings(lines=i + 1, identities=bytes([i]) * size, missing=i)
            found.add(error("x", f"issue {i}", values={"i": i}), "import.jsonl", i + 1)
            spool.add(found)
        on_disk = (run.path / "findings").exists()
        back = list(spool)
        spool.close()
    assert [(f.lines, f.missing, len(f.identities)) for f in back] == [
        (i + 1, i, size) for i, size in enumerate(sizes)
    ]
    assert [f.issues[0][0].message for f in back] == [f"issue {i}" for i in range(len(sizes))]
    assert on_disk == (keep is not None)


def test_batch_findings_with_long_names_are_spooled_by_their_size() -> None:
    """A name the archive gave can be megabytes, carried in an issue's message and values:
    the memory kept counts those characters, not a kilobyte an issue."""
    name = "n" * 300_000
    with RunDirectory() as run:
        spool = FindingsSpool(run, 1 << 20)
        for i in range(3):
            found = Findings(lines=1)
            message = f"Channel {name!r} is too long."
            found.add(error("x", message, values={"name": name}), "import.jsonl", i + 1)
            spool.add(found)
        on_disk = (run.path / "findings").exists()
        back = list(spool)
        spool.close()
    assert on_disk  # 3 x 600 kB of strings do not fit in 1 MiB
    assert [f.issues[0][0].values["name"] for f in back] == [name] * 3
