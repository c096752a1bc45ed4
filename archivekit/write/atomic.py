"""The one way archivekit writes a file: to a temporary file beside the destination, fsync,
then rename over the final name. Readers never see a half-written output, an interrupted run
(crash, kill, Ctrl-C, SIGTERM) leaves nothing under the final name, and an input is never
overwritten. The temporary file is removed when the run stops; a run killed outright leaves
it, named after its process (`archivekit.runtime.partial_name_prefix`), and the next output to
the same name removes it.

Every writer (reports today; filter, split, redact later) goes through `atomic_output`. When
the system refuses the write — no space left, permission denied, a read-only file system, a
folder that does not exist, a path that is a directory — `OutputError` (exit 2) says so in one
line naming the path and the cause, and no partial file is left: the stream `atomic_output`
yields turns the `OSError` of a failed write into it, so every writer gets this for free.
A set of files that belong together (reconcile's CSV tables, the JSON Schemas) goes through
`write_atomic_set`: all of them appear, or none.

A destination that is not a regular file cannot be replaced by a rename without destroying
it (``-o /dev/full`` run as root once replaced the device with a regular file). A character
device (``/dev/null``, ``/dev/stdout``, a terminal) or a FIFO is written in place, as the output
is produced — a run that fails leaves what it wrote so far there, as any writer to a pipe —
and a FIFO waits for its reader. A block device (a disk) or a socket is refused (exit 2). A
symbolic link is followed: the file it points to is replaced atomically and the link stays.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, cast

from archivekit.errors import OutputError
from archivekit.runtime import partial_name_owner, partial_name_prefix, remove_abandoned


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _file_mode(path: Path) -> int | None:
    """`path`'s file type and mode, links followed; None when it does not exist."""
    try:
        return os.stat(path).st_mode
    except OSError:
        return None


def _written_in_place(target: Path) -> bool:
    """Whether `target` is a device or FIFO to write in place (see the module doc); raises
    `OutputError` for what can be neither replaced nor written."""
    mode = _file_mode(target)
    if mode is None or stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return False
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return True
    what = "a block device (a disk)" if stat.S_ISBLK(mode) else "not a regular file"
    raise OutputError(f"refusing to write {target}: it is {what}; write to a file instead")


@contextlib.contextmanager
def _in_place(target: Path) -> Iterator[BinaryIO]:
    """A character device or FIFO, written as the output is produced (no rename)."""
    try:
        raw = open(target, "wb")  # noqa: SIM115 - closed by _written
    except OSError as exc:
        raise cannot_write(target, exc) from None
    with _written(raw, target, durable=False) as stream:
        yield stream


@contextlib.contextmanager
def _written(raw: BinaryIO, target: Path, *, durable: bool) -> Iterator[BinaryIO]:
    """`raw` guarded (`GuardedOutput`), flushed (and fsynced when `durable`) and closed when
    the block succeeds; closed when it fails."""
    try:
        yield cast(BinaryIO, GuardedOutput(raw, target))
        try:
            raw.flush()
            if durable:
                os.fsync(raw.fileno())
            raw.close()
        except OSError as exc:
            raise cannot_write(target, exc) from None
    finally:
        # On the way out of a failure, closing flushes what is still buffered and fails
        # again (a full disk): that second error must not hide the first, exit-2 one.
        with contextlib.suppress(OSError):
            raw.close()


@contextlib.contextmanager
def atomic_output(
    destination: str | os.PathLike[str],
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = True,
) -> Iterator[BinaryIO]:
    """Open a binary stream whose content appears at `destination` only if the block succeeds.

    Args:
        destination: the final path.
        protect: inputs of the current run; writing over any of them is refused.
        overwrite: when False, an existing destination is refused too.

    Raises:
        OutputError: the destination is an input, exists (overwrite=False), or its folder
            does not exist / is not writable.
    """
    target = Path(destination)
    resolved = target.resolve()
    for source in protect:
        source_path = Path(source)
        if source_path.resolve() == resolved or _same_file(source_path, target):
            raise OutputError(f"refusing to write {target}: it is an input of this run")
    if not overwrite and target.exists():
        raise OutputError(f"refusing to overwrite {target}: it already exists")
    refuse_directory(target)
    if _written_in_place(target):
        with _in_place(target) as stream:
            yield stream
        return
    if target.is_symlink():
        target = resolved  # the file the link points to is replaced; the link stays
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write {target}: the folder {folder} does not exist")
    prefix = partial_name_prefix(target.name)
    remove_abandoned(folder, prefix)
    try:
        handle, temp_name = tempfile.mkstemp(
            prefix=prefix + partial_name_owner(), suffix=".part", dir=folder
        )
    except OSError as exc:
        raise cannot_write(target, exc) from None
    temp = Path(temp_name)
    try:
        try:
            # mkstemp creates 0600; give the output the mode any new file would get (or keep
            # the mode of the file it replaces).
            os.chmod(temp, _mode_for(target))
            raw = open_temporary(handle)
        except OSError as exc:
            os.close(handle)
            raise cannot_write(target, exc) from None
        with _written(raw, target, durable=True) as stream:
            yield stream
        try:
            os.replace(temp, target)
        except OSError as exc:
            raise cannot_write(target, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    # Make the rename itself durable.
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def refuse_directory(target: str | os.PathLike[str]) -> None:
    """A directory cannot be an output file: `OutputError` (exit 2) naming it. Writers that
    write a second file last (redact's --mapping) call it first, before any output."""
    if os.path.isdir(target):
        raise OutputError(f"cannot write {target}: it is a directory")


def open_temporary(handle: int) -> BinaryIO:
    """The binary stream over the temporary file's descriptor (tests fail its writes)."""
    return os.fdopen(handle, "wb")


def cannot_write(target: str | os.PathLike[str], exc: OSError) -> OutputError:
    """The system refused to write `target`: one line naming it and the cause."""
    return OutputError(f"cannot write {target}: {exc.strerror or exc}")


# What the system answers when an output cannot be written for a reason outside archivekit
# (full disk or quota, permissions, read-only, a path that is or is under something else,
# a file too large for the file system, a failing disk).
REFUSED_WRITES = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.EISDIR,
        errno.ENOTDIR,
        errno.ENOENT,
        errno.EFBIG,
        errno.EIO,
    }
)


@contextlib.contextmanager
def refused_writes(target: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a refused write inside the block into `OutputError` naming `target`: for writers
    whose spools and staged parts live beside their output (inputs raise `ArchiveError`, not
    `OSError`, so what reaches here is the output's disk). Other `OSError`s stay bugs."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in REFUSED_WRITES:
            raise
        raise cannot_write(target, exc) from None


class GuardedOutput:
    """The stream `atomic_output` yields: its writes raise `OutputError` naming the
    destination when the system refuses them (see the module doc)."""

    __slots__ = ("_raw", "_target", "_written")

    def __init__(self, raw: BinaryIO, target: Path) -> None:
        self._raw = raw
        self._target = target
        self._written = 0  # a FIFO or device cannot say where it is

    def write(self, data: bytes | bytearray | memoryview) -> int:
        try:
            n = self._raw.write(data)
        except OSError as exc:
            raise cannot_write(self._target, exc) from None
        self._written += n
        return n

    def writelines(self, lines: Iterable[bytes | bytearray | memoryview]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._raw.flush()
        except OSError as exc:
            raise cannot_write(self._target, exc) from None

    def tell(self) -> int:
        return self._written

    def fileno(self) -> int:
        return self._raw.fileno()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._raw.closed


def write_atomic(
    destination: str | os.PathLike[str],
    data: bytes,
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Write `data` to `destination` atomically (see `atomic_output`)."""
    with atomic_output(destination, protect=protect) as stream:
        stream.write(data)


def make_folder(folder: str | os.PathLike[str]) -> list[Path]:
    """Create the output folder `folder` when missing; returns the folders this created,
    outermost first, for `remove_created` to take away again when the run fails."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise OutputError(f"cannot write {path}: it is not a folder")
    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        remove_created(missing[::-1])
        raise OutputError(f"cannot create {path}: {exc.strerror or exc}") from None
    return missing[::-1]


def remove_created(created: list[Path]) -> None:
    """Remove the folders `make_folder` created (innermost first), those left empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (someone else put something there) or already gone


def write_atomic_set(
    folder: str | os.PathLike[str],
    files: Mapping[str, bytes],
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Write `files` (name → content) into `folder` (created when missing), all or nothing.

    Each file is staged beside its final name as `atomic_output` stages one, and none is
    renamed into place before every one is written: when the system refuses a write (a disk
    that fills part-way), none of the set appears, no temporary file is left, and a folder
    this created is removed. Returns the paths written, in `files`' order.
    """
    created = make_folder(folder)
    paths = [Path(folder) / name for name in files]
    protected = list(protect)
    try:
        with contextlib.ExitStack() as stack:
            for path, data in zip(paths, files.values(), strict=True):
                stream = stack.enter_context(atomic_output(path, protect=protected))
                stream.write(data)
                stream.flush()  # a refused write fails here, before any file is renamed
    except BaseException:
        remove_created(created)
        raise
    return paths
