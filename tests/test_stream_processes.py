"""A stream read by two processes (`archivekit.read.teed`): what happens when the run or the
second process is stopped, and the errors of a damaged stream. (The verdicts: test_stream.py,
with one process and two.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_runtime import alive
from test_stream import _environment, piped

from archivekit.testing.synth import channel, make_archive, post, team, user

T = 1_700_000_000_000


def _archive(path: Path, posts: int = 20_000) -> Path:
    """A few MB of JSONL: several batches, so both processes have some."""
    lines = [team("t"), channel("t", "c"), user("ann", ["t"])]
    lines += [post("t", "c", "ann", f"message number {i} " * 8, T + i) for i in range(posts)]
    return make_archive(path, lines, {"data/a.txt": b"a"})


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _started(archive: Path, tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, bytes]:
    """`validate -` with two processes, fed the first part of `archive` (then stalled): the
    process, its second process's pid, and the rest of the archive."""
    data = archive.read_bytes()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "archivekit", "validate", "-", "--workers", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**_environment(), "TMPDIR": str(temporary)},
    )
    assert process.stdin is not None
    half = len(data) // 2
    process.stdin.write(data[:half])
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not (children := _children(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(children) == 1, children
    return process, children[0], data[half:]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_second_process_killed_mid_run_is_an_error_not_a_wait(tmp_path: Path) -> None:
    """Killed (the OOM killer, kill -9) while the stream is read: the run still reads the
    whole stream, then says the second process was killed (exit 137, what a shell reports
    for SIGKILL), as a file's parallel run says of a killed worker; no temporary file is
    left."""
    process, child, rest = _started(_archive(tmp_path / "a.zip"), tmp_path)
    try:
        os.kill(child, signal.SIGKILL)
        assert process.stdin is not None
        process.stdin.write(rest)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.communicate()
    stderr = err.decode()
    assert process.returncode == 137, stderr
    assert "the second validation process of the stream was ended by SIGKILL" in stderr
    assert "internal error" not in stderr
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_run_leaves_no_process_behind(how: signal.Signals, tmp_path: Path) -> None:
    """SIGTERM or Ctrl-C while a stalled stream is read by two processes: the run ends at
    once (143 / 130), the second process with it, and their temporary files are gone."""
    process, child, _ = _started(_archive(tmp_path / "a.zip"), tmp_path)
    try:
        process.send_signal(how)
        # Not a measure of speed (well under a second when the machine is idle): a run that
        # misses the signal waits for the stalled pipe for ever. 10 s ran out once in a full
        # suite beside other loads (0 of 1,000 runs alone, signals sent 0-0.3 s after the
        # second process started).
        assert process.wait(timeout=30) == (143 if how == signal.SIGTERM else 130)
    finally:
        process.kill()
        process.communicate()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.97])
def test_a_stream_that_ends_early_says_so_with_either_number_of_processes(
    cut: float, tmp_path: Path
) -> None:
    """Cut inside the JSONL, inside the members or the central directory: the exit-3
    message of one process, with two."""
    archive = _archive(tmp_path / "a.zip", posts=5_000)
    data = archive.read_bytes()
    cut_archive = tmp_path / "cut.zip"
    cut_archive.write_bytes(data[: int(len(data) * cut)])
    results = [piped(cut_archive, "validate", "-", "--workers", str(n)) for n in (1, 2)]
    assert [r.returncode for r in results] == [3, 3]
    assert results[0].stderr == results[1].stderr
    assert b"ends" in results[0].stderr


def test_inspect_from_two_processes_counts_what_one_counts(tmp_path: Path) -> None:
    """The second process stops reading after the JSONL (the parent stops copying)."""
    archive = _archive(tmp_path / "a.zip")
    one, two = (piped(archive, "inspect", "-", "--format", "json", "--workers", n) for n in "12")
    assert one.returncode == two.returncode == 0, two.stderr
    assert one.stdout == two.stdout
