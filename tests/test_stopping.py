"""Stopping archivekit stops its workers (issue 17): real processes, real signals.

A validation with two workers is started as a user would start it; once its workers run, the
parent is frozen (SIGSTOP) so that the workers fill their pipes and block, exactly the state in
which a killed parent used to leave them hanging for ever. Then: SIGTERM must end the run with
exit 143, its workers and its temporary files gone; SIGKILL must leave no worker alive a few
seconds later, and the next run must remove what the killed one left in the temporary folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from archivekit.testing.synth import generate_export

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc"),
]

# The CLI as `archivekit` runs it, with the duplicate detector spilling to disk after 2,000
# post identities instead of 262,144, so that even this small archive has temporary files.
CLI = (
    "import sys, archivekit.check.duplicates as d; d._FLUSH_EVERY = 2000; "
    "from archivekit.cli import main; main()"
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stopping") / "export.zip"
    # ~40 MB, 40 batches: more results per worker than a socket buffer holds (~200 KB), so
    # that workers block when nobody reads them.
    generate_export(path, seed=3, posts=48_000, direct_posts=4_000)
    return path


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running or blocked (a zombie is dead: only its exit status waits to be collected)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def run_dirs(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("archivekit-run-*"))


def start(
    archive: Path, tmp: Path, *args: str, command: str = "validate"
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TMPDIR": str(tmp)}
    command_line = [sys.executable, "-c", CLI, command, str(archive), "--workers", "2", *args]
    return subprocess.Popen(
        command_line, env=env, cwd=tmp.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def freeze_with_blocked_workers(
    process: subprocess.Popen[bytes], tmp: Path, *, with_files: bool = True, freeze: bool = False
) -> list[int]:
    """Wait until the run has workers (and temporary files), freeze the parent, and return
    the workers once they are blocked on it. ``freeze``: workers with one small result to
    send do not block on a frozen parent, they end — freeze them too, as soon as they exist."""
    ready = wait_for(
        lambda: len(children(process.pid)) >= 2 and (bool(run_dirs(tmp)) or not with_files), 30
    )
    os.kill(process.pid, signal.SIGSTOP)
    assert ready, "the run never had two workers and a temporary directory"
    if freeze:
        # Each as soon as it is guarded (runtime.guard_worker arms the parent-death signal,
        # then starts its watchdog thread): stopped before that, nothing would end it.
        frozen: set[int] = set()

        def freeze_guarded() -> bool:
            for worker in set(children(process.pid)) - frozen:
                if len(list(Path(f"/proc/{worker}/task").iterdir())) >= 2:
                    os.kill(worker, signal.SIGSTOP)
                    frozen.add(worker)
            return len(frozen) >= 2

        assert wait_for(freeze_guarded, 30), "the workers never started their watchdogs"
    time.sleep(1.0)
    workers = children(process.pid)
    assert len(workers) == 2
    assert all(alive(w) for w in workers), "workers ended before blocking: a bigger archive?"
    return workers


def kill_parent(
    process: subprocess.Popen[bytes], tmp: Path, *, with_files: bool = True, freeze: bool = False
) -> list[int]:
    """Freeze the run with its workers blocked, kill it with SIGKILL; its workers."""
    try:
        workers = freeze_with_blocked_workers(process, tmp, with_files=with_files, freeze=freeze)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    return workers


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("output", [None, "report.json"])
def test_sigterm_ends_the_run_its_workers_and_its_files(
    archive: Path, tmp: Path, output: str | None
) -> None:
    process = start(archive, tmp, *(["--output", output] if output else []))
    try:
        workers = freeze_with_blocked_workers(process, tmp)
        os.kill(process.pid, signal.SIGTERM)
        os.kill(process.pid, signal.SIGCONT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 143, stderr
    assert b"Traceback" not in stderr
    assert wait_for(lambda: not any(alive(w) for w in workers), 1.0), "a worker outlived the run"
    assert list(tmp.iterdir()) == []  # no temporary directory, no bucket file
    if output:
        assert sorted(p.name for p in tmp.parent.iterdir()) == ["tmp"]  # no report, no .part


def test_workers_of_a_killed_run_exit_on_their_own_and_the_next_run_cleans_up(
    archive: Path, tmp: Path
) -> None:
    workers = kill_parent(start(archive, tmp), tmp)
    assert wait_for(lambda: not any(alive(w) for w in workers), 3.0), "workers left hanging"
    (abandoned,) = run_dirs(tmp)  # SIGKILL leaves no chance to clean up...
    later = start(archive, tmp)
    _, stderr = later.communicate(timeout=120)
    assert later.returncode in (0, 1), stderr
    assert not abandoned.exists()  # ...the next run recognises it and removes it
    assert list(tmp.iterdir()) == []


def test_inspect_workers_end_with_a_killed_parent(archive: Path, tmp: Path) -> None:
    # inspect's workers each send one small result and end: frozen, they still die with it.
    process = start(archive, tmp, command="inspect")
    workers = kill_parent(process, tmp, with_files=False, freeze=True)
    assert wait_for(lambda: not any(alive(w) for w in workers), 3.0), "workers left hanging"


def test_sigterm_ends_a_report_its_workers_and_its_chart_child(archive: Path, tmp: Path) -> None:
    # --workers 3: the chart drawing child, then validate's two workers (counting the tables).
    process = start(archive, tmp, "-o", "triage.html", "--workers", "3", command="report")
    try:
        assert wait_for(lambda: len(children(process.pid)) >= 3, 30), "no workers and chart child"
        counting = children(process.pid)
        os.kill(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 143, stderr
    assert b"Traceback" not in stderr
    assert wait_for(lambda: not any(alive(c) for c in counting), 1.0), "the child outlived it"
    assert sorted(p.name for p in tmp.parent.iterdir()) == ["tmp"]  # no page, no .part
