"""The life of a run: its temporary directory, SIGTERM, and the worker processes it starts.

* `RunDirectory`: one temporary directory per run, ``archivekit-run-<pid>-<start>-<random>`` in
  the system's temporary folder, created on first use (most runs never need one) and removed
  when the run ends — normally, on an error, on Ctrl-C or SIGTERM. A run killed outright
  (SIGKILL, the OOM killer) cannot remove it: the next run that needs one recognises it as
  abandoned (no live process has that pid and start time) and removes it.
* `stop_on_sigterm`: SIGTERM raises `Terminated` in the main thread, so a run stops the way
  Ctrl-C stops it: the context managers on the way out end the workers and remove temporary
  files and partial outputs (the CLI then exits 143).
* `guard_worker`: the first call in every worker process. A worker dies with its parent:
  Linux's parent-death signal, and everywhere a watchdog thread that checks the parent twice a
  second, so that no blocked send or receive can outlive a parent killed without a chance to
  clean up. Ctrl-C and SIGTERM are the parent's to handle.

Part of the foundation: imports nothing else of archivekit. The CLI imports it at start-up,
so what only some runs need (tempfile, shutil, threading, ctypes) is imported when needed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from archivekit.errors import OutputError, WorkerKilled

if TYPE_CHECKING:
    import queue
    import threading

RUN_PREFIX = "archivekit-run-"
# How often a worker checks that its parent is still there (where no parent-death signal).
PARENT_CHECK_SECONDS = 0.5
R = TypeVar("R")
T = TypeVar("T")
EXIT_TERMINATED = 143  # 128 + SIGTERM, what a shell reports for a process SIGTERM ended


# What ends a worker from outside, with what sends it (`worker_ended`).
_OUTSIDE_SIGNALS = {
    signal.SIGKILL: "which the OOM killer sends when memory runs out (or kill -9)",
    signal.SIGTERM: "which out-of-memory daemons such as earlyoom send first (or kill)",
}
# What to do then, where more processes than one are the run's choice.
FEWER_WORKERS = "rerun with more memory, or with fewer processes (--workers 1)"


def worker_ended(
    what: str, exitcode: int | None, results: str = "its results", advice: str = FEWER_WORKERS
) -> Exception:
    """The error of a worker process (`what`) that ended without its `results`, `exitcode` as
    `multiprocessing` gives it (call it once the process is joined): ended by SIGKILL or
    SIGTERM, `WorkerKilled` with `advice` (exit 137 or 143: no bug of archivekit's); otherwise
    a RuntimeError (exit 4: a worker must not end so, a crash's signal included)."""
    if exitcode is not None and exitcode < 0 and -exitcode in _OUTSIDE_SIGNALS:
        number = signal.Signals(-exitcode)
        return WorkerKilled(
            f"{what} was ended by {number.name}, {_OUTSIDE_SIGNALS[number]}; {advice}",
            int(number),
        )
    return RuntimeError(f"{what} ended without {results} (exit code {exitcode})")


class Terminated(BaseException):
    """SIGTERM arrived: stop as on Ctrl-C (a BaseException, so no `except Exception` eats it)."""

    exit_code = EXIT_TERMINATED


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # A second SIGTERM must not interrupt the cleanup the first one started.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated


def stop_on_sigterm() -> None:
    """From now on SIGTERM raises `Terminated` in the main thread (call from it). The run's
    signals are unblocked in it: a process inherits its parent's signal mask across exec,
    and one started with them blocked (by a parent that blocked them for a while, a test
    runner among them) would otherwise never see Ctrl-C or SIGTERM at all — the one run in
    two of CI whose test of SIGTERM on a stalled stream hung for 30 s."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _MAIN_THREAD_SIGNALS)


# The signals the main thread acts on (Ctrl-C, SIGTERM): every thread archivekit starts blocks
# them (`start_thread`).
_MAIN_THREAD_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


# The longest the main thread waits on another thread without running its signal handlers.
WAKE_SECONDS = 0.2


def get_waking(items: queue.Queue[T]) -> T:
    """`items.get()` for the main thread: it wakes every `WAKE_SECONDS` to run the signal
    handlers Python has been told of. A wait without a timeout runs them only if the signal
    interrupts it, and a signal the kernel gives to another thread does not (a thread this
    process did not start itself, which `start_thread` cannot guard)."""
    import queue

    while True:
        try:
            return items.get(timeout=WAKE_SECONDS)
        except queue.Empty:
            continue


def start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """Start a daemon thread running `target` that never receives Ctrl-C or SIGTERM. The
    kernel gives a process's signal to any one of its threads that does not block it, while
    Python runs the handlers in the main thread only: a main thread waiting on a lock (for a
    queue this thread fills) notices the signal only if the signal interrupts that wait.
    Delivered to a thread blocked in a read of a stalled stream, a SIGTERM waited unseen, and
    the run with it, for ever (1 run in 10 to 20 of test_sigterm_stops_a_stalled_stream...).
    The new thread inherits the signal mask of the thread that starts it: blocked around the
    start only."""
    import threading

    thread = threading.Thread(target=target, name=name, daemon=True)
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: signals go to the main thread
        thread.start()
        return thread
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _MAIN_THREAD_SIGNALS)
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return thread


# --- the run directory -----------------------------------------------------------------------


def _start_time(pid: int) -> str | None:
    """When process `pid` started, in clock ticks since boot (Linux), "0" where unknown, None
    when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        stat = ""
    if stat:
        # The command name (field 2) may hold spaces and parentheses: split after its end.
        return stat.rpartition(")")[2].split()[19]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return "0"


def _owner_tag() -> str:
    return f"{os.getpid()}-{_start_time(os.getpid()) or '0'}"


def _is_abandoned(name: str, prefix: str) -> bool:
    """Whether a file or directory named `prefix<pid>-<start>-...` outlived its process."""
    try:
        pid_text, start, _ = name[len(prefix) :].split("-", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    alive = _start_time(pid)
    return alive is None or (alive != start and "0" not in (alive, start))


def remove_abandoned(folder: str | os.PathLike[str], prefix: str = RUN_PREFIX) -> list[Path]:
    """Remove what runs that were killed outright left in `folder` (entries named `prefix`
    plus a pid and start time whose process is gone, owned by this user). Returns them."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or not _is_abandoned(entry.name, prefix):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            if entry.is_dir(follow_symlinks=False):
                import shutil

                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def temporary_file_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """A temporary file of the run could not be written (no space left in the temporary
    folder, permission denied...): exit 2 with the path and the cause, not an internal error."""
    return OutputError(
        f"cannot write temporary data to {path}: {exc.strerror or exc} (set TMPDIR to a "
        "folder with room)"
    )


class RunDirectory:
    """The run's temporary directory (see the module doc); a context manager."""

    def __init__(self, parent: str | os.PathLike[str] | None = None) -> None:
        self._parent = Path(parent) if parent is not None else None
        self._path: Path | None = None

    @property
    def path(self) -> Path:
        """The directory, created (and abandoned ones removed) on first use."""
        if self._path is None:
            import tempfile

            parent = self.remove_abandoned()
            try:
                self._path = Path(
                    tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{_owner_tag()}-", dir=parent)
                )
            except OSError as exc:
                raise temporary_file_error(parent, exc) from None
        return self._path

    def remove_abandoned(self) -> Path:
        """Remove the directories of runs killed outright; returns the folder they were in.
        Long runs (those that start workers) call it even when they need no directory."""
        import tempfile

        parent = self._parent or Path(tempfile.gettempdir())
        remove_abandoned(parent)
        return parent

    def cleanup(self) -> None:
        if self._path is not None:
            import shutil

            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()


def partial_name_prefix(target_name: str) -> str:
    """How the temporary twin of an output named `target_name` begins (beside it, so that
    renaming it is atomic): ``.<name>.archivekit-<pid>-<start>-`` — recognisable once its run
    is gone (`remove_abandoned`)."""
    return f".{target_name}.archivekit-"


def partial_name_owner() -> str:
    """This run's pid and start time, for the names `partial_name_prefix` begins."""
    return f"{_owner_tag()}-"


# --- worker processes ------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1


# The run's signals (`_MAIN_THREAD_SIGNALS`) are the ones a new worker must not see before
# `guard_worker` has set its own handlers: forked, it inherits the parent's SIGTERM handler
# (which raises `Terminated`), and a SIGTERM arriving in that window — a run stopped at once
# signals a worker that has not started yet — raised inside the worker's bootstrap (with a
# `multiprocessing.Pool`, it left the pool's queue lock held and the parent waited for ever
# to join the workers). Blocked while workers are forked, delivered after the handlers.


@contextlib.contextmanager
def forking_workers() -> Iterator[None]:
    """Start worker processes inside this block: SIGINT and SIGTERM stay pending (blocked) in
    the parent and in the new workers until `guard_worker` runs; the parent gets a pending one
    when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _MAIN_THREAD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores or 1


def default_workers(jsonl_size: int) -> int:
    """Two or more cores and a JSONL worth it (≥ 32 MB): one worker per core."""
    cores = usable_cores()
    if cores < 2 or jsonl_size < 32 * 2**20:
        return 1
    return min(cores, 8)


def run_in_workers(function: Callable[..., R], jobs: Sequence[tuple[Any, ...]]) -> list[R]:
    """``[function(*job) for job in jobs]``, each job in its own guarded worker process (forked
    where the platform can), the results in the order of `jobs`. An exception a job raises is
    raised here; a worker that dies raises what `worker_ended` gives (`WorkerKilled` for the
    OOM killer's SIGKILL). However this call ends — a result, an error, Ctrl-C, SIGTERM — no
    worker outlives it.

    Plain processes and one pipe each, not a `multiprocessing.Pool`: a pool terminated while
    its task-handler thread held the queue lock could hang the whole command, where killing a
    process cannot."""
    import multiprocessing  # only a run with workers pays for it

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context: Any = multiprocessing.get_context(method)
    processes: list[Any] = []
    receivers: list[Any] = []
    results: list[R] = []
    try:
        with forking_workers():  # no SIGTERM before a worker's own handlers (guard_worker)
            for job in jobs:
                receiver, sender = context.Pipe(duplex=False)
                receivers.append(receiver)
                process = context.Process(
                    target=_run_job, args=(sender, os.getpid(), function, job), daemon=True
                )
                process.start()
                processes.append(process)
                sender.close()
        for number, receiver in enumerate(receivers):
            try:
                failed, value = receiver.recv()
            except EOFError:
                processes[number].join(timeout=1)
                raise worker_ended(
                    f"worker {number + 1} of {len(jobs)}", processes[number].exitcode, "a result"
                ) from None
            if failed:
                raise value
            results.append(value)
        return results
    finally:
        # Results all in: the workers are ending on their own. Otherwise stop them now: they
        # may be blocked sending results nobody will read.
        if len(results) != len(jobs):
            for process in processes:
                process.kill()
        for process in processes:
            process.join()
        for receiver in receivers:
            receiver.close()


def _run_job(sender: Any, parent: int, function: Callable[..., Any], job: tuple[Any, ...]) -> None:
    """A worker of `run_in_workers`: one job, its result or its exception sent back."""
    guard_worker(parent)
    try:
        outcome: tuple[bool, Any] = (False, function(*job))
    except Exception as error:  # raised again in the parent, as a Pool would
        outcome = (True, error)
    try:
        sender.send(outcome)
    except Exception as unsendable:  # an exception or result pickle cannot carry
        sender.send((True, RuntimeError(f"a worker's result could not be sent: {unsendable}")))
    sender.close()


def guard_worker(parent: int) -> None:
    """Make this worker process end with `parent` (see the module doc). Call it first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        # Started inside `forking_workers`: a SIGTERM that is pending now ends the worker.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _MAIN_THREAD_SIGNALS)
    if sys.platform.startswith("linux"):
        _die_with_parent()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    import threading

    watchdog = threading.Thread(
        target=_watch_parent, args=(parent,), name="parent watch", daemon=True
    )
    watchdog.start()


def _die_with_parent() -> None:
    """prctl(PR_SET_PDEATHSIG, SIGKILL): the kernel kills this process when its parent dies."""
    import ctypes  # only workers pay for it

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(1)
