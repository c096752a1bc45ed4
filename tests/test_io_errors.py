"""When the system refuses a read or a write, archivekit says so in one line, with the path and
the cause and its exit code — 2 for an output (no space left, permission denied, read-only
file system, a directory, a missing folder), 3 for an input (permission denied, an I/O error
mid-read, a folder without an export) — never "internal error" (exit 4, kept for bugs), and
no partial output is left.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast

import click
import pytest
from click.testing import CliRunner, Result
from conftest import require_tool

from archivekit.cli import OUTPUT_PATH, cli
from archivekit.read import source as source_module
from archivekit.read import stream as stream_module
from archivekit.testing.pipes import fed
from archivekit.testing.synth import make_archive, post, team
from archivekit.write import atomic, split

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_exports" / "clean.zip"
OTHER = ROOT / "sample_exports" / "deflate64.zip"
BROKEN = ROOT / "sample_exports" / "broken.zip"
CAUSES = {
    errno.ENOSPC: "No space left on device",
    errno.EACCES: "Permission denied",
    errno.EROFS: "Read-only file system",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "internal error" not in lines[0]
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- outputs -------------------------------------------------------------------------------


class FailingDisk(io.RawIOBase):
    """A file descriptor whose writes fail with `code` once `allowed` bytes are in."""

    def __init__(self, fd: int, code: int, allowed: int) -> None:
        self._fd = fd
        self._code = code
        self._left = allowed

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: Any) -> int:
        if len(data) > self._left:
            raise OSError(self._code, os.strerror(self._code))
        self._left -= len(data)
        return os.write(self._fd, data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def failing_file(fd: int, code: int, allowed: int = 10) -> BinaryIO:
    """`fd` opened as Python opens a file, buffered, over a disk that fills up: small writes
    fail only when the buffer is flushed — and again when the file is closed."""
    return cast(BinaryIO, io.BufferedWriter(FailingDisk(fd, code, allowed)))


def command_names(group: click.Group = cli, prefix: str = "") -> list[str]:
    """Every command the CLI has, subcommands of a group by their full name
    ("schema export"), lazily loaded ones included."""
    ctx = click.Context(group)
    names = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            names += command_names(command, f"{prefix}{name} ")
        else:
            names.append(prefix + name)
    return names


def command(name: str) -> click.Command:
    group: click.Command = cli
    for part in name.split():
        assert isinstance(group, click.Group)
        found = group.get_command(click.Context(group), part)
        assert found is not None
        group = found
    return group


def output_parameters() -> list[str]:
    """Every parameter that names an output, as "COMMAND OPTION" (its shortest form)."""
    return [
        f"{name} {min(param.opts, key=len)}"
        for name in command_names()
        for param in command(name).params
        if param.type is OUTPUT_PATH
    ]


def test_every_output_is_an_output_path() -> None:
    """Outputs are marked by `OUTPUT_PATH` (the tables below are checked against them):
    a parameter named like an output that is not one would escape them."""
    for name in command_names():
        for param in command(name).params:
            if param.name in ("output", "mapping", "directory"):
                assert param.type is OUTPUT_PATH, f"{name} {param.name}"


# The outputs, by "COMMAND OPTION", each given its output path (a file; for split, reconcile
# --format csv and schema export, a folder of files) — and variants ("COMMAND OPTION ...").
# A missing output fails test_every_output_is_in_the_tables.
WRITERS: dict[str, Callable[[Path], list[str]]] = {
    "validate -o": lambda out: ["validate", str(SAMPLE), "--format", "json", "-o", str(out)],
    "inspect -o": lambda out: ["inspect", str(SAMPLE), "-o", str(out)],
    "inspect -o --by": lambda out: ["inspect", str(SAMPLE), "--by", "channel", "-o", str(out)],
    "reconcile -o": lambda out: ["reconcile", str(SAMPLE), str(SAMPLE), "-o", str(out)],
    "reconcile -o --format csv": lambda out: [
        "reconcile", str(SAMPLE), str(SAMPLE), "--format", "csv", "-o", str(out),
    ],
    "report -o": lambda out: ["report", str(SAMPLE), "-o", str(out)],
    "filter -o": lambda out: ["filter", str(SAMPLE), "-o", str(out), "--no-check"],
    "split -o": lambda out: ["split", str(SAMPLE), "-o", str(out), "--max-bytes", "20000"],
    "merge -o": lambda out: ["merge", str(SAMPLE), str(OTHER), "-o", str(out), "--no-check"],
    "redact -o": lambda out: ["redact", str(SAMPLE), "-o", str(out)],
    "redact --mapping": lambda out: [
        "redact", str(SAMPLE), "-o", str(out.parent.parent / "r.zip"), "--mapping", str(out),
    ],
    "fix -o": lambda out: ["fix", str(SAMPLE), "-o", str(out)],
    "schema export directory": lambda out: ["schema", "export", str(out)],
}  # fmt: skip
FOLDERS = {"split -o", "reconcile -o --format csv", "schema export directory"}


VARIANTS = {"inspect -o --by", "reconcile -o --format csv"}


def test_every_output_is_in_the_tables() -> None:
    outputs = output_parameters()
    assert "validate -o" in outputs  # the marker is found at all
    assert sorted(outputs) == sorted(set(WRITERS) - VARIANTS), "a new output: add it to WRITERS"


OPEN_TEMPORARY = atomic.open_temporary


def failing_under(folder: Path, code: int) -> Callable[[int], BinaryIO]:
    """`atomic.open_temporary` whose files fail with `code` when they are under `folder`
    (redact's output goes elsewhere: only its --mapping fails)."""

    def opener(fd: int) -> BinaryIO:
        if Path(os.readlink(f"/proc/self/fd/{fd}")).is_relative_to(folder):
            return failing_file(fd, code)
        return OPEN_TEMPORARY(fd)

    return opener


@pytest.mark.parametrize("code", list(CAUSES), ids=[errno.errorcode[c] for c in CAUSES])
@pytest.mark.parametrize("command", list(WRITERS))
def test_a_failing_write_is_an_output_error(
    command: str, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line naming the path and the cause, exit 2, and nothing left: no temporary file,
    no part of a set of files (reconcile's tables, the schemas), no folder the run made."""
    out = tmp_path / "out" / "result"
    out.parent.mkdir()
    monkeypatch.setattr(atomic, "open_temporary", failing_under(out.parent, code))
    monkeypatch.setattr(split, "open_part", lambda path: failing_file(
        os.open(path, os.O_WRONLY | os.O_CREAT, 0o644), code, 4000))  # fmt: skip
    result = run(*WRITERS[command](out))
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert f"archivekit: cannot write {out}" in line
    assert CAUSES[code] in line
    assert leftovers(out.parent) == []


@pytest.mark.parametrize("command", list(WRITERS))
def test_a_directory_where_a_file_goes_is_an_output_error(command: str, tmp_path: Path) -> None:
    """archivekit's one line, not click's usage text; a folder output given a file, alike."""
    out = tmp_path / "out" / "result"
    out.parent.mkdir()
    if command in FOLDERS:
        out.write_bytes(b"a file")
        expected = f"archivekit: cannot write {out}: it is not a folder"
    else:
        out.mkdir()
        expected = f"archivekit: cannot write {out}: it is a directory"
    result = run(*WRITERS[command](out))
    assert result.exit_code == 2, result.output
    assert one_line(result) == expected
    assert leftovers(out.parent) == ["result"]
    assert not (tmp_path / "r.zip").exists()  # redact's --mapping is checked first


# Every command run with its data on standard output (a writer's summary, the paths written),
# and variants. A command missing here fails test_every_command_is_run_with_a_full_stdout.
PRINTING: dict[str, list[str]] = {
    "validate": ["validate", str(SAMPLE)],
    "inspect": ["inspect", str(SAMPLE)],
    "inspect --by": ["inspect", str(SAMPLE), "--by", "month", "--format", "csv"],
    "reconcile": ["reconcile", str(SAMPLE), str(SAMPLE)],
    "report": ["report", str(SAMPLE)],
    "filter": ["filter", str(SAMPLE), "-o", "OUT/f.zip", "--no-check"],
    "filter --dry-run": ["filter", str(SAMPLE), "--dry-run", "--no-check"],
    "split": ["split", str(SAMPLE), "-o", "OUT/parts", "--max-bytes", "20000", "--no-check"],
    "merge": ["merge", str(SAMPLE), str(OTHER), "-o", "OUT/m.zip", "--no-check"],
    "redact": ["redact", str(SAMPLE), "-o", "OUT/r.zip"],
    "fix": ["fix", str(BROKEN), "-o", "OUT/x.zip"],
    "fix --dry-run": ["fix", str(BROKEN), "--dry-run"],
    "fix --format json": ["fix", str(BROKEN), "--dry-run", "--format", "json"],
    "schema export": ["schema", "export", "OUT/schemas"],
}


def test_every_command_is_run_with_a_full_stdout() -> None:
    assert sorted(command_names()) == sorted({key.split(" -")[0] for key in PRINTING}), (
        "a new command: add it to PRINTING"
    )


@pytest.mark.parametrize("command", list(PRINTING))
def test_a_full_standard_output_is_an_output_error(command: str, tmp_path: Path) -> None:
    args = [arg.replace("OUT", str(tmp_path)) for arg in PRINTING[command]]
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "archivekit", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "MPLCONFIGDIR": str(tmp_path)},
            check=False,
        )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "archivekit: cannot write to standard output: No space left on device"
    )


@pytest.mark.parametrize("code", list(CAUSES), ids=[errno.errorcode[c] for c in CAUSES])
@pytest.mark.parametrize("by", [("--max-bytes", "20000"), ("--by", "channel")], ids=str)
def test_a_failing_split_is_an_output_error(
    code: int, by: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Split stages its parts beside the output: a refused write names the folder, and the
    folder it created is gone."""

    def part(path: Path) -> BinaryIO:
        return failing_file(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644), code, 4000)

    monkeypatch.setattr(split, "open_part", part)
    out = tmp_path / "parts"
    result = run("split", str(SAMPLE), "-o", str(out), *by, "--no-check")
    assert result.exit_code == 2, result.output
    assert one_line(result) == f"archivekit: cannot write {out}: {CAUSES[code]}"
    assert leftovers(tmp_path) == []


def test_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "report.json"
    result = run("inspect", str(SAMPLE), "-o", str(out))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"archivekit: cannot write {out}: the folder {out.parent} does not exist"
    )


def test_a_folder_that_refuses_writes_is_an_output_error(tmp_path: Path) -> None:
    """A real folder that refuses the write: read-only for its owner; root ignores that, but
    not sysfs, which refuses everyone."""
    if os.geteuid() == 0:
        folder = Path("/sys")
    else:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
    out = folder / "report.json"
    result = run("validate", str(SAMPLE), "-o", str(out))
    assert result.exit_code == 2
    line = one_line(result)
    assert f"cannot write {out}:" in line
    assert "Permission denied" in line or "Read-only file system" in line
    assert not out.exists()


def test_a_full_temporary_folder_is_an_output_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream's central directory goes through the run's temporary folder."""
    import tempfile

    def full(*args: Any, **kwargs: Any) -> str:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tempfile, "mkdtemp", full)
    with fed(SAMPLE.read_bytes()) as path:
        result = run("validate", path)
    assert result.exit_code == 2
    line = one_line(result)
    assert line.startswith(f"archivekit: cannot write temporary data to {tempfile.gettempdir()}")
    assert "No space left on device (set TMPDIR to a folder with room)" in line


# --- inputs --------------------------------------------------------------------------------


class FailingReads:
    """An input whose reads fail with EIO once `allowed` bytes have been read."""

    def __init__(self, raw: BinaryIO, allowed: int) -> None:
        self._raw = raw
        self._left = allowed

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        if len(data) > self._left:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        self._left -= len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def failing_open(allowed: int) -> Callable[..., Any]:
    def fake(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        raw = open(path, mode, *args, **kwargs)  # noqa: SIM115 - the reader closes it
        return FailingReads(raw, allowed) if "r" in mode else raw

    return fake


@pytest.mark.parametrize("command", ["validate", "inspect"])
def test_an_io_error_mid_read_is_an_unreadable_input(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    noise = [os.urandom(200).hex() for _ in range(2000)]  # incompressible
    archive = make_archive(
        tmp_path / "export.zip", [team("t"), *(post("t", "c", "u", m, 1) for m in noise)]
    )
    monkeypatch.setattr(source_module, "open", failing_open(200_000), raising=False)
    result = run(command, str(archive), "--workers", "1")
    assert result.exit_code == 3, result.output
    assert one_line(result) == (
        f"archivekit: Cannot read {archive}: Input/output error. Check the file and its "
        "permissions, or copy it again."
    )


def test_an_io_error_mid_stream_is_an_unreadable_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "open", failing_open(20_000), raising=False)
    with fed(SAMPLE.read_bytes()) as path:
        result = run("validate", path)
    assert result.exit_code == 3
    assert "Input/output error" in one_line(result)


def test_permission_denied_is_an_unreadable_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(path: Any, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(source_module, "open", denied, raising=False)
    result = run("validate", str(SAMPLE))
    assert result.exit_code == 3
    assert one_line(result).startswith(f"archivekit: Cannot read {SAMPLE}: Permission denied.")


# Every command that reads an archive, with what else it needs (OUT: a folder to write to).
READING_COMMANDS = {
    "validate": ["validate", "IN"],
    "inspect": ["inspect", "IN"],
    "reconcile": ["reconcile", "IN", str(SAMPLE)],
    "reconcile-target": ["reconcile", str(SAMPLE), "IN"],
    "report": ["report", "IN", "-o", "OUT/r.html"],
    "report-against": ["report", str(SAMPLE), "--against", "IN", "-o", "OUT/r.html"],
    "filter": ["filter", "IN", "-o", "OUT/f.zip"],
    "split": ["split", "IN", "--max-bytes", "1000000", "-o", "OUT/parts"],
    "merge": ["merge", str(SAMPLE), "IN", "-o", "OUT/m.zip"],
    "redact": ["redact", "IN", "-o", "OUT/r.zip"],
    "fix": ["fix", "IN", "-o", "OUT/x.zip"],
}


@pytest.fixture(scope="module")
def unreadable_archive() -> Any:
    """An archive no other user may read, in a folder anyone may write to (the tests run as
    root, whom permissions do not stop: the command runs as nobody, through setpriv)."""
    setpriv = require_tool("setpriv")
    folder = Path(tempfile.mkdtemp(prefix="archivekit-denied-"))
    try:
        folder.chmod(0o777)
        archive = folder / "secret.zip"
        archive.write_bytes(SAMPLE.read_bytes())
        archive.chmod(0o000)
        yield setpriv, archive
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("command", list(READING_COMMANDS))
def test_an_archive_the_user_may_not_read_is_an_unreadable_input(
    command: str, unreadable_archive: tuple[str, Path]
) -> None:
    """A real permission error, not click's usage text (exit 2): the library's message."""
    setpriv, archive = unreadable_archive
    args = [
        part.replace("IN", str(archive)).replace("OUT", str(archive.parent))
        for part in READING_COMMANDS[command]
    ]
    nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    result = subprocess.run(
        [*nobody, sys.executable, "-m", "archivekit", *args],
        capture_output=True,
        text=True,
        cwd=archive.parent,
        env={**os.environ, "HOME": str(archive.parent), "MPLCONFIGDIR": str(archive.parent)},
        check=False,
    )
    assert result.returncode == 3, result.stderr
    # The last line: matplotlib (report) may first say it builds its font cache.
    assert result.stderr.strip().splitlines()[-1] == (
        f"archivekit: Cannot read {archive}: Permission denied. Check the file and its "
        "permissions, or copy it again."
    )
    assert "Usage:" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [["validate", "IN"], ["split", "IN", "-o", "OUT/parts"]],
    ids=["validate", "split"],
)
def test_a_target_config_the_user_may_not_read_is_a_usage_error_in_archivekits_words(
    command: list[str], unreadable_archive: tuple[str, Path]
) -> None:
    """As an unreadable archive: not click's check, the library's message naming the path
    and the cause — exit 2, an option's file (the archive here is readable)."""
    setpriv, secret = unreadable_archive
    folder = secret.parent
    config = folder / "config.json"
    config.write_text('{"FileSettings": {"MaxFileSize": 1000}}')
    config.chmod(0o000)
    archive = folder / "readable.zip"
    shutil.copyfile(SAMPLE, archive)
    archive.chmod(0o644)
    args = [part.replace("IN", str(archive)).replace("OUT", str(folder)) for part in command]
    nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    result = subprocess.run(
        [*nobody, sys.executable, "-m", "archivekit", *args, "--target-config", str(config)],
        capture_output=True,
        text=True,
        cwd=folder,
        env={**os.environ, "HOME": str(folder)},
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"archivekit: cannot read target config {str(config)!r}: Permission denied"
    )


def test_a_folder_given_as_target_config_is_a_usage_error_in_archivekits_words(
    tmp_path: Path,
) -> None:
    result = run("validate", str(SAMPLE), "--target-config", str(tmp_path))
    assert result.exit_code == 2
    assert one_line(result) == (
        f"archivekit: cannot read target config {str(tmp_path)!r}: Is a directory"
    )


def test_a_folder_named_like_an_archive_is_an_unreadable_input(tmp_path: Path) -> None:
    """Not click's "is a directory" (exit 2): a folder is read as an export's."""
    folder = tmp_path / "export.zip"
    folder.mkdir()
    result = run("validate", str(folder))
    assert result.exit_code == 3
    assert one_line(result).startswith("archivekit: No .jsonl file at the root of the directory")


def test_an_unlistable_folder_of_an_export_is_an_unreadable_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "import.jsonl").write_text('{"type":"version","version":1}\n')
    (tmp_path / "data").mkdir()
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "data":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run("validate", str(tmp_path))
    assert result.exit_code == 3
    assert one_line(result) == (
        f"archivekit: Cannot read {tmp_path / 'data'}: Permission denied. Check the file and "
        "its permissions, or copy it again."
    )


def test_a_folder_without_an_export_is_said_so(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 3
    assert "No .jsonl file at the root of the directory" in one_line(result)


def test_standard_input_that_is_missing_is_not_an_internal_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "archivekit", "validate", "-"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3
    assert "internal error" not in result.stderr
