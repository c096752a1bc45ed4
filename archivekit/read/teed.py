"""A second process reading the same stream: its share of the work on another core.

A stream can be read only once, and one process cannot do a stream's work on two cores (the
checks of the lines hold the GIL). So, as a file's parallel run gives each worker the file, a
stream's run starts one more process (`TeedProcess`) and gives it a copy of the stream: the
parent's reading thread writes every chunk it reads to the process's pipe (`open_stream`'s
``tee``; os.write lets the GIL go), and the process reads the pipe as the stream itself
(``fd``), with the same code. The pipe is bounded: the slower of the two sets the pace. A
process that needs no more of the stream closes its end; the parent then stops copying.
Counting needs only the lines: `inspect`'s process gets the JSONL's inflated bytes instead
(``jsonl_tee``), read in the blocks the parent wrote, need not inflate them again, and
counts every line (the parent reads, inflates and copies: as much work).

What it costs: the second process inflates (validate) and frames the whole JSONL again and
reads the definitions of the parent's batches, as a file's workers do — about half again the
CPU time of one process — while one process already keeps part of a second core busy (its
reading thread inflates beside the checks). On two cores shared with other work it can be
slower than one process; ``--workers 1`` reads a stream in one. (Counting costs less: the
copy is not inflated again.)

The process is forked before the parent's reader starts any thread, inside
`forking_workers`, and guarded (`guard_worker`): it dies with its parent. It sends what it
finds through a pipe (a `multiprocessing` connection); one that ends without its results
(killed, out of memory) is an error of the run, as a file's parallel worker's is.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from archivekit.errors import ArchiveError
from archivekit.runtime import (
    WAKE_SECONDS,
    forking_workers,
    guard_worker,
    usable_cores,
    worker_ended,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# A pipe's buffer asked for (Linux; 64 KiB by default): one chunk of a stream's reads.
_PIPE_SIZE = 1 << 20
# A stream is read by at most this many processes by default: the parent and one more (the
# second core does the other half of the lines; a third would read every byte once more).
STREAM_WORKERS = 2

# The target of the second process: (results, the copy's descriptor, *args).
Target = Callable[..., None]


class Tee:
    """The parent's end of a copy's pipe (owned): what it is given is written whole. os.write
    lets the GIL go while the pipe is full: the copy's reader sets the pace, within the
    pipe's buffer. A reader that has gone (it needed no more, or it died: the parent learns
    that from its results) is no longer fed."""

    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def write(self, data: bytes) -> None:
        """Only from the thread that closes it, or before it may (a descriptor closed
        under a write could be another file's by the next one)."""
        if self._fd is None:
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            self.close()

    def close(self) -> None:
        """The copy's reader then sees its end (once)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def stream_workers(workers: int | None) -> int:
    """How many processes read a stream: `workers` when given, else one per usable core up
    to `STREAM_WORKERS` (a stream's size is not known before it is read); 1 where processes
    cannot be forked (a copy of the stream is handed over as a descriptor)."""
    if not hasattr(os, "fork"):
        return 1
    if workers is None:
        return min(usable_cores(), STREAM_WORKERS)
    return min(max(workers, 1), STREAM_WORKERS)


class TeedProcess:
    """One more process reading a copy of the stream: ``target(results, fd, *args)``.

    Use as a context manager around the parent's reading of the stream, entered before it
    opens the stream; pass `take_tee()` to `open_stream`. Leaving it ends the process (after
    an error, too). `receive` gives its messages, in order.
    """

    def __init__(self, target: Target, args: tuple[Any, ...], what: str) -> None:
        """`what`: what the process does, for the error when it dies ("validation")."""
        self._target = target
        self._args = args
        self._what = what
        self._tee: int | None = None
        self._results: Connection | None = None
        self._pid: int | None = None
        self.exitcode: int | None = None

    def __enter__(self) -> TeedProcess:
        # Imported here: a one-process run never pays for multiprocessing.
        from multiprocessing.connection import Connection

        read_end, write_end = os.pipe()
        results_end, send_end = os.pipe()
        widen_pipe(write_end)
        parent = os.getpid()
        # A plain fork, not multiprocessing's: the child must let go of every descriptor it
        # inherited but its own (`_detach`), and multiprocessing keeps some of its own.
        try:
            with forking_workers():  # no SIGTERM before the process's own handlers
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child (measured in the parent's tests)
                    _child(read_end, send_end, parent, self._target, self._args)
        except BaseException:
            os.close(write_end)
            os.close(results_end)
            raise
        finally:
            os.close(read_end)
            os.close(send_end)
        self._pid = pid
        self._tee, self._results = write_end, Connection(results_end, writable=False)
        return self

    def take_tee(self) -> int:
        """The copy's pipe, for `open_stream(tee=)`, which then owns it (once)."""
        tee = self._tee
        if tee is None:
            raise RuntimeError("the copy's pipe was taken already")
        self._tee = None
        return tee

    def receive(self) -> Any:
        """The next message of the process; one that died (the OOM killer, kill -9) ends the
        run with an error rather than leaving the parent waiting. An `ArchiveError` it met
        is raised (the parent, reading the same bytes, met it first as a rule)."""
        assert self._results is not None
        try:
            while not self._results.poll(WAKE_SECONDS):
                pass  # the signal handlers run between the waits (`get_waking`)
            message = self._results.recv()
        except EOFError:
            self._join(1.0)
            what = f"the second {self._what} process of the stream"
            raise worker_ended(what, self.exitcode) from None
        if isinstance(message, tuple) and message and message[0] == "archive-error":
            raise ArchiveError(message[1])
        if isinstance(message, tuple) and message and message[0] == "crash":
            raise RuntimeError(
                f"the second {self._what} process of the stream failed: {message[1]}"
            )
        return message

    def _join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the process to end; whether it has (reaped)."""
        if self._pid is None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self._pid, os.WNOHANG)
            if pid:
                self.exitcode = os.waitstatus_to_exitcode(status)
                self._pid = None
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    def _kill(self) -> None:
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tee is not None:  # never handed to a stream
            os.close(self._tee)
            self._tee = None
        # Stopped early (an error, Ctrl-C, SIGTERM): end it now, it may be blocked sending
        # results nobody will read. Otherwise it is ending on its own.
        if exc_type is not None:
            self._kill()
        if not self._join(5.0):
            self._kill()
            self._join(float("inf"))
        if self._results is not None:
            self._results.close()
            self._results = None


def _child(
    fd: int, send_end: int, parent: int, target: Target, args: tuple[Any, ...]
) -> NoReturn:  # pragma: no cover - runs in the child
    """The second process: `target` on the copy; what stops it is sent to the parent. Never
    returns (os._exit: nothing of the parent's is cleaned up twice)."""
    code = 1
    try:
        from multiprocessing.connection import Connection

        guard_worker(parent)
        _detach({0, 1, 2, fd, send_end})
        results = Connection(send_end, readable=False)
        try:
            target(results, fd, *args)
            code = 0
        except ArchiveError as exc:
            results.send(("archive-error", exc.issue))
        except BaseException as exc:  # reported to the parent, which decides
            results.send(("crash", f"{type(exc).__name__}: {exc}"))
        finally:
            results.close()
    finally:
        os._exit(code)


def _detach(keep: set[int]) -> None:
    """Point every inherited descriptor but `keep` at /dev/null: a pipe's write end the
    parent holds (the writer of its own input, in a program that feeds itself) would keep
    the pipe from ever ending. Not closed: an object of the parent's still holding one may
    close it, and must not close a descriptor of this process's by that number."""
    null = os.open(os.devnull, os.O_RDWR)
    folder = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    for name in os.listdir(folder):
        fd = int(name)
        if fd not in keep and fd != null:
            with contextlib.suppress(OSError):
                os.dup2(null, fd)
    os.close(null)


def widen_pipe(fd: int) -> None:
    """Ask for a 1 MiB buffer if `fd` is a pipe (Linux; 64 KiB by default): its writer and
    its reader then take turns a sixteenth as often. Nothing changes where it cannot be had."""
    if sys.platform != "linux":
        return
    import fcntl  # POSIX only

    with contextlib.suppress(OSError):
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
