"""The writing primitive every writer uses: content appears under the final name only after a
complete, fsynced write; failures and kills leave nothing there; inputs are never overwritten.

What a kill leaves behind: SIGKILL gives no chance to clean up, so the temporary file stays — a
hidden ``.<name>.archivekit-<pid>-<start>-<random>.part`` in the destination folder, never the
final name; the next output to that name removes it (its process is gone). SIGTERM cleans up.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from archivekit.errors import OutputError
from archivekit.runtime import partial_name_owner
from archivekit.write import atomic
from archivekit.write.atomic import atomic_output, write_atomic


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def part_files(folder: Path, name: str) -> list[str]:
    return [n for n in listing(folder) if n.startswith(f".{name}.") and n.endswith(".part")]


# --- success -------------------------------------------------------------------------------------


def test_content_appears_only_after_the_block_succeeds(tmp_path: Path) -> None:
    final = tmp_path / "report.json"
    with atomic_output(final) as stream:
        stream.write(b"half")
        stream.flush()
        assert not final.exists()
        assert len(part_files(tmp_path, "report.json")) == 1  # beside the destination
        stream.write(b" and the rest")
    assert final.read_bytes() == b"half and the rest"
    assert listing(tmp_path) == ["report.json"]


def test_an_existing_output_is_replaced_whole(tmp_path: Path) -> None:
    final = tmp_path / "out.zip"
    final.write_bytes(b"old")
    with atomic_output(final) as stream:
        stream.write(b"new")
        stream.flush()
        assert final.read_bytes() == b"old"
    assert final.read_bytes() == b"new"
    assert listing(tmp_path) == ["out.zip"]


def test_the_data_is_fsynced_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: calls.append("replace") or real_replace(a, b))
    write_atomic(tmp_path / "out.bin", b"data")
    assert calls[:2] == ["fsync", "replace"]
    assert calls[2:] == ["fsync"]  # then the folder, so the rename itself is durable


def test_write_atomic_into_a_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_atomic("plain.txt", b"x")
    assert (tmp_path / "plain.txt").read_bytes() == b"x"
    assert listing(tmp_path) == ["plain.txt"]


def test_a_new_output_gets_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "report.txt", b"x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "report.txt").stat().st_mode) == 0o644  # not mkstemp's 0600


def test_a_replaced_output_keeps_its_permissions(tmp_path: Path) -> None:
    final = tmp_path / "report.txt"
    final.write_bytes(b"old")
    final.chmod(0o640)
    write_atomic(final, b"new")
    assert stat.S_IMODE(final.stat().st_mode) == 0o640


# --- failure inside the block ----------------------------------------------------------------


def write_then_fail(final: Path, failure: BaseException) -> None:
    with atomic_output(final) as stream:
        stream.write(b"partial")
        raise failure


def test_an_exception_leaves_no_final_and_no_temporary_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="writer failed"):
        write_then_fail(tmp_path / "out.jsonl", ValueError("writer failed"))
    assert listing(tmp_path) == []


def test_an_exception_keeps_the_previous_output(tmp_path: Path) -> None:
    final = tmp_path / "out.jsonl"
    final.write_bytes(b"previous")
    with pytest.raises(RuntimeError):
        write_then_fail(final, RuntimeError())
    assert final.read_bytes() == b"previous"
    assert listing(tmp_path) == ["out.jsonl"]


def test_ctrl_c_inside_the_block_cleans_up_too(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        write_then_fail(tmp_path / "out", KeyboardInterrupt())
    assert listing(tmp_path) == []


# --- refusals ------------------------------------------------------------------------------------


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "input.zip"
    path.write_bytes(b"the customer's only copy")
    return path


def refused(destination: Path, protect: list[Path], folder: Path) -> str:
    before = listing(folder)
    with pytest.raises(OutputError) as caught, atomic_output(destination, protect=protect) as out:
        out.write(b"overwritten!")
    assert listing(folder) == before  # no temporary file either
    return str(caught.value)


def test_refuses_to_overwrite_the_input(source: Path, tmp_path: Path) -> None:
    assert "it is an input" in refused(source, [source], tmp_path)
    assert source.read_bytes() == b"the customer's only copy"


def test_refuses_the_input_spelled_another_way(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert "it is an input" in refused(Path("../sub/../input.zip"), [source], tmp_path)
    assert source.read_bytes() == b"the customer's only copy"


def test_refuses_a_symlink_to_the_input(source: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.zip"
    link.symlink_to(source)
    assert "it is an input" in refused(link, [source], tmp_path)
    assert source.read_bytes() == b"the customer's only copy"
    assert link.is_symlink()


def test_refuses_the_target_of_a_symlinked_input(source: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.zip"
    link.symlink_to(source)
    assert "it is an input" in refused(source, [link], tmp_path)


def test_refuses_a_hard_link_to_the_input(source: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin.zip"
    os.link(source, twin)
    assert "it is an input" in refused(twin, [source], tmp_path)
    assert source.read_bytes() == twin.read_bytes() == b"the customer's only copy"


def test_refuses_an_existing_file_without_overwrite(tmp_path: Path) -> None:
    final = tmp_path / "out.zip"
    final.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="already exists"), atomic_output(final, overwrite=False):
        pass
    assert final.read_bytes() == b"keep me"
    assert listing(tmp_path) == ["out.zip"]


def test_refuses_a_directory(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError, match="is a directory"), atomic_output(tmp_path / "out"):
        pass
    assert listing(tmp_path) == ["out"]


# --- destinations that are not regular files ---------------------------------------------------


def _read_fifo(fifo: Path, got: list[bytes], stop_after: int | None = None) -> threading.Thread:
    def read() -> None:
        with open(fifo, "rb") as reader:
            got.append(reader.read() if stop_after is None else reader.read(stop_after))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    with atomic_output(fifo) as stream:
        stream.write(b"streamed ")
        stream.write(b"whole")
        assert stream.tell() == len(b"streamed whole")
    reader.join(timeout=10)
    assert got == [b"streamed whole"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO
    assert listing(tmp_path) == ["report.json"]  # no temporary file


def test_a_fifo_whose_reader_leaves_is_an_output_error(tmp_path: Path) -> None:
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got, stop_after=1)
    broken = pytest.raises(OutputError, match=f"cannot write {fifo}: Broken pipe")
    with broken, atomic_output(fifo) as stream:
        reader.join(timeout=10)
        for _ in range(64):
            stream.write(b"x" * 65536)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_dev_null_is_written_in_place_and_stays_a_device() -> None:
    write_atomic("/dev/null", b"nothing to see")
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_a_report_to_dev_null_from_the_cli(tmp_path: Path) -> None:
    sample = Path(__file__).parent.parent / "sample_exports" / "clean.zip"
    done = subprocess.run(
        [sys.executable, "-m", "archivekit", "validate", str(sample), "-o", "/dev/null"],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_a_full_device_is_an_output_error_and_stays_a_device(tmp_path: Path) -> None:
    """A device like /dev/full (made here: the real one is never touched)."""
    full = tmp_path / "full"
    try:
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("cannot make a device node here (needs root and CAP_MKNOD)")
    with pytest.raises(OutputError, match=f"cannot write {full}: No space left on device"):
        write_atomic(full, b"report")
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert listing(tmp_path) == ["full"]


def test_a_block_device_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never written, so never created for real: the file type is what decides."""
    disk = tmp_path / "sda"
    disk.write_bytes(b"data")
    monkeypatch.setattr(atomic, "_file_mode", lambda path: stat.S_IFBLK | 0o660)
    with pytest.raises(OutputError, match="it is a block device"):
        write_atomic(disk, b"report")
    assert disk.read_bytes() == b"data"
    assert listing(tmp_path) == ["sda"]


def test_a_symlink_is_followed_and_stays(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    real = tmp_path / "reports" / "latest.json"
    real.write_bytes(b"old")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"
    assert listing(tmp_path / "reports") == ["latest.json"]


def test_a_dangling_symlink_gets_its_file(tmp_path: Path) -> None:
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "made.json")
    write_atomic(link, b"new")
    assert link.is_symlink()
    assert (tmp_path / "made.json").read_bytes() == b"new"


def test_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"the folder .* does not exist"):
        write_atomic(tmp_path / "missing" / "out.zip", b"x")
    assert listing(tmp_path) == []


def test_writing_next_to_the_input_is_fine(source: Path, tmp_path: Path) -> None:
    write_atomic(tmp_path / "input.filtered.zip", b"x", protect=[source])
    assert listing(tmp_path) == ["input.filtered.zip", "input.zip"]


# --- killed in the middle of writing -----------------------------------------------------------

# Writes slowly; SIGTERM stops it as the CLI stops (exit 143), SIGKILL cannot be handled.
SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from archivekit.runtime import Terminated, stop_on_sigterm
    from archivekit.write.atomic import atomic_output

    stop_on_sigterm()
    try:
        with atomic_output(sys.argv[1]) as stream:
            for i in range(600):
                stream.write(b"x" * 65536)
                stream.flush()
                if i == 3:
                    print("writing", flush=True)
                time.sleep(0.05)
    except Terminated:
        sys.exit(143)
    """
)


def kill_while_writing(final: Path, sig: signal.Signals = signal.SIGKILL) -> int:
    """Start the slow writer, send it `sig` once it is writing; its exit status."""
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(final)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "writing\n"
        child.send_signal(sig)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    return child.returncode


def test_a_killed_writer_leaves_nothing_under_the_final_name(tmp_path: Path) -> None:
    final = tmp_path / "out.zip"
    assert kill_while_writing(final) == -signal.SIGKILL
    assert not final.exists()
    leftovers = part_files(tmp_path, "out.zip")
    assert listing(tmp_path) == leftovers  # the temporary file only, hidden and beside it
    assert len(leftovers) == 1
    assert (tmp_path / leftovers[0]).stat().st_size >= 4 * 65536


def test_a_killed_writer_leaves_the_previous_output_intact(tmp_path: Path) -> None:
    final = tmp_path / "out.zip"
    final.write_bytes(b"yesterday's complete output")
    kill_while_writing(final)
    assert final.read_bytes() == b"yesterday's complete output"
    assert len(part_files(tmp_path, "out.zip")) == 1


def test_the_next_output_to_the_name_removes_what_a_killed_writer_left(tmp_path: Path) -> None:
    final = tmp_path / "out.zip"
    kill_while_writing(final)
    (leftover,) = part_files(tmp_path, "out.zip")
    assert leftover.startswith(".out.zip.archivekit-")
    # A run still going (this one) keeps its temporary file.
    alive = f".out.zip.archivekit-{partial_name_owner()}busy.part"
    (tmp_path / alive).write_bytes(b"")
    write_atomic(final, b"complete")
    assert final.read_bytes() == b"complete"
    assert part_files(tmp_path, "out.zip") == [alive]


def test_sigterm_while_writing_leaves_no_file_at_all(tmp_path: Path) -> None:
    assert kill_while_writing(tmp_path / "out.zip", signal.SIGTERM) == 143
    assert listing(tmp_path) == []
