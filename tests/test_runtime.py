"""A run's temporary directory: made on first use, removed at the end, and recognised as
abandoned (then removed) once the run that made it is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archivekit.errors import WorkerKilled
from archivekit.runtime import (
    RUN_PREFIX,
    RunDirectory,
    get_waking,
    partial_name_owner,
    remove_abandoned,
    run_in_workers,
    start_thread,
    worker_ended,
)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_directory_exists_only_while_the_run_needs_it(tmp_path: Path) -> None:
    with RunDirectory(tmp_path) as run:
        assert list(tmp_path.iterdir()) == []  # nothing until something needs it
        (run.path / "buckets").mkdir()
        (made,) = tmp_path.iterdir()
        assert made.name.startswith(f"{RUN_PREFIX}{partial_name_owner()}")
    assert list(tmp_path.iterdir()) == []


def test_only_directories_of_runs_that_are_gone_are_removed(tmp_path: Path) -> None:
    gone = tmp_path / f"{RUN_PREFIX}{dead_pid()}-12345-abc"
    (gone / "dedupe-x").mkdir(parents=True)
    alive = tmp_path / f"{RUN_PREFIX}{partial_name_owner()}def"
    alive.mkdir()
    unrelated = tmp_path / f"{RUN_PREFIX}not-a-pid"
    unrelated.mkdir()
    other = tmp_path / "something-else"
    other.mkdir()
    assert remove_abandoned(tmp_path) == [gone]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [alive.name, unrelated.name, other.name]
    )


def test_a_new_run_directory_removes_abandoned_ones(tmp_path: Path) -> None:
    gone = tmp_path / f"{RUN_PREFIX}{dead_pid()}-1-old"
    gone.mkdir()
    with RunDirectory(tmp_path) as run:
        assert run.path.exists()
        assert not gone.exists()


def _square(n: int) -> int:
    return n * n


def _refuse(n: int) -> int:
    raise ValueError(f"job {n} refused")


def _die(n: int) -> int:
    os._exit(7)


def _killed(n: int) -> int:
    if n == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer ends a process
    return n


def _big(n: int) -> bytes:
    return bytes([n]) * 4_000_000  # more than a pipe holds: the parent must read as they come


def test_workers_give_their_results_in_the_order_of_the_jobs() -> None:
    assert run_in_workers(_square, [(n,) for n in range(5)]) == [0, 1, 4, 9, 16]
    assert [r[:1] for r in run_in_workers(_big, [(1,), (2,), (3,)])] == [b"\x01", b"\x02", b"\x03"]
    assert run_in_workers(_square, []) == []


def test_a_job_s_exception_is_raised_in_the_parent() -> None:
    with pytest.raises(ValueError, match="job 2 refused"):
        run_in_workers(_refuse, [(2,), (3,)])


def test_a_worker_that_dies_is_an_error_not_a_wait() -> None:
    with pytest.raises(RuntimeError, match=r"worker 1 of 2 ended without a result \(exit code 7\)"):
        run_in_workers(_die, [(1,), (2,)])


def test_a_worker_killed_by_sigkill_is_no_bug_of_archivekits() -> None:
    """SIGKILL (the OOM killer, kill -9) is exit 137 with advice, not exit 4's "internal
    error, please report this"; any other end without results stays a bug."""
    with pytest.raises(WorkerKilled, match=r"^worker 2 of 3 was ended by SIGKILL, .*OOM") as e:
        run_in_workers(_killed, [(1,), (2,), (3,)])
    assert e.value.exit_code == 137
    for code in (1, -signal.SIGSEGV, None):
        ended = worker_ended("validation worker 1", code)
        assert type(ended) is RuntimeError
        assert str(ended) == f"validation worker 1 ended without its results (exit code {code})"


_RACE = """
import sys
from archivekit.runtime import run_in_workers, stop_on_sigterm
stop_on_sigterm()
for _ in range(int(sys.argv[1])):
    # Started and ended at once, often before a worker has run guard_worker.
    run_in_workers(abs, [(-1,), (-2,)])
print("done")
"""


@pytest.mark.slow
def test_workers_started_and_ended_at_once_neither_hang_nor_raise() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _RACE, "150"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert "Terminated" not in result.stderr, result.stderr


_STOPPED = """
import os, sys, time
from archivekit.runtime import run_in_workers, stop_on_sigterm
def sleep(seconds):
    # One write under PIPE_BUF is atomic: both workers share the pipe, and print's two
    # writes (the number, then the newline) could interleave with the other worker's.
    os.write(1, f"{os.getpid()}\\n".encode())
    time.sleep(seconds)
stop_on_sigterm()
run_in_workers(sleep, [(60,), (60,)])
"""


def test_sigterm_while_workers_run_ends_them_with_the_run() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _STOPPED], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    try:
        workers = [int(parent.stdout.readline()) for _ in range(2)]
        parent.send_signal(signal.SIGTERM)
        parent.communicate(timeout=30)
    finally:
        # Whatever failed above, no process outlives the test (a leak warns in a later test).
        parent.kill()
        parent.communicate()
    assert parent.returncode != 0
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie no one reaps yet is gone for our purpose.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] != "Z"


def test_a_started_thread_never_takes_the_main_threads_signals() -> None:
    """Ctrl-C and SIGTERM reach the main thread, which runs the handlers: a thread that
    took one (the kernel picks any thread not blocking it) left a main thread waiting on its
    queue unaware, for ever when the stream stalled. The starter's own mask is unchanged."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    seen: list[set[signal.Signals]] = []
    start_thread(lambda: seen.append(signal.pthread_sigmask(signal.SIG_BLOCK, [])), "t").join()
    assert {signal.SIGINT, signal.SIGTERM} <= seen[0]
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before


def test_archivekit_starts_its_threads_through_start_thread() -> None:
    """One way to start a thread (`start_thread`), so none can take the main thread's signals."""
    package = Path(__file__).parent.parent / "archivekit"
    direct = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "threading.Thread(" in path.read_text() and path.parent.name != "testing"
    ]
    assert direct == ["runtime.py"]  # start_thread itself, and the worker's watchdog


def test_the_main_thread_runs_a_handler_for_a_signal_another_thread_took() -> None:
    """A signal the kernel gives to another thread interrupts no wait of the main thread's;
    `get_waking` still runs its handler within a fraction of a second (a plain `get` would
    wait until the item came: here, 10 s later)."""
    import queue
    import threading

    class Stopped(Exception):
        pass

    def handler(signum: int, frame: object) -> None:
        raise Stopped

    items: queue.Queue[int] = queue.Queue()
    started = threading.Event()

    def other() -> None:
        started.set()
        time.sleep(10)
        items.put(1)

    thread = threading.Thread(target=other, daemon=True)  # signals not blocked: it may take them
    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        thread.start()
        started.wait()
        assert thread.ident is not None
        # Sent from a third thread once get_waking waits (sent before, Python may run the
        # handler as soon as pthread_kill returns, and get_waking is not tested: review 30c,
        # 30d).
        timer = threading.Timer(0.3, signal.pthread_kill, (thread.ident, signal.SIGUSR1))
        began = time.monotonic()
        timer.start()
        with pytest.raises(Stopped):
            get_waking(items)
        timer.join()
        assert time.monotonic() - began < 5
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_a_run_started_with_sigterm_blocked_still_stops_on_it(tmp_path: Path) -> None:
    """A process inherits its parent's signal mask across exec: started by a parent that
    had SIGTERM blocked (a test runner, for a while), a run waiting on a stalled stream never
    saw it (CI hung 30 s, one run in two). The CLI unblocks its signals at start."""

    def blocked() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    process = subprocess.Popen(
        [sys.executable, "-m", "archivekit", "validate", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=blocked,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert process.stdin is not None
    process.stdin.write(b"PK\x03\x04")  # a zip's first bytes, then nothing: stalled
    process.stdin.flush()
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=30) == 143
    finally:
        process.kill()
        process.wait()
        process.stdin.close()
