"""A worker process ended from outside — SIGKILL (the OOM killer, kill -9) or SIGTERM alone
(earlyoom) — ends the run with `WorkerKilled`: exit 128 + the signal, a one-line message that
names the process and what to do, never exit 4's "internal error, please report this" (kept
for archivekit's own bugs: a worker that crashes or exits without its results). Each kind of
child process a command starts: the report page's chart drawer and the writers' input check
here; `run_in_workers` (test_runtime.py), a file's validation workers (test_parallel.py) and a
stream's second process (test_stream_processes.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archivekit import writers
from archivekit.cli import cli
from archivekit.errors import WorkerKilled
from archivekit.runtime import RunDirectory, guard_worker, worker_ended
from archivekit.testing.synth import channel, make_archive, post, team, user
from archivekit.triage import ChartDrawer
from archivekit.writers import filter_archive

T = 1_700_000_000_000


@pytest.mark.parametrize(("signal_number", "code"), [(signal.SIGKILL, 137), (signal.SIGTERM, 143)])
def test_a_worker_ended_from_outside_is_no_bug(signal_number: int, code: int) -> None:
    killed = worker_ended("validation worker 2 of 2", -signal_number)
    assert isinstance(killed, WorkerKilled)
    assert killed.exit_code == code
    assert str(killed).startswith(
        f"validation worker 2 of 2 was ended by {signal.Signals(signal_number).name}, which "
    )
    assert "\n" not in str(killed)
    assert str(killed).endswith("rerun with more memory, or with fewer processes (--workers 1)")


@pytest.mark.parametrize(
    "exitcode", [1, 0, None, -signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS, -signal.SIGINT]
)
def test_a_worker_that_ends_any_other_way_is_a_bug(exitcode: int | None) -> None:
    ended = worker_ended("worker 1 of 2", exitcode, "a result")
    assert type(ended) is RuntimeError
    assert str(ended) == f"worker 1 of 2 ended without a result (exit code {exitcode})"


def _killed_drawer() -> ChartDrawer:
    drawer = ChartDrawer(50)
    os.kill(drawer._child.pid, signal.SIGKILL)  # as the OOM killer would
    drawer._child.join()
    return drawer


def test_a_chart_drawer_killed_before_its_tables_is_no_closed_stdout() -> None:
    """Sending the tables to a killed drawer breaks its pipe: that is the drawer's end, not
    a reader of stdout gone (which the CLI reports as an interruption, silently)."""
    with _killed_drawer() as drawer, pytest.raises(WorkerKilled) as caught:
        drawer.draw(b"tables")  # type: ignore[arg-type]  # a pipe with no reader: EPIPE
    assert caught.value.exit_code == 137
    assert str(caught.value).startswith("the chart drawing process was ended by SIGKILL")
    assert str(caught.value).endswith("; rerun with more memory")


def test_a_chart_drawer_killed_while_drawing_is_killed() -> None:
    with _killed_drawer() as drawer, pytest.raises(WorkerKilled, match=r"^the chart drawing"):
        drawer.charts()


def test_a_chart_drawer_killed_with_its_tables_unread_is_killed() -> None:
    """Killed before it read the tables sent (it is still importing its libraries): reading
    its answer is a reset connection, not an end of file; the exit code comes once it is
    reaped."""
    with ChartDrawer(50) as drawer:
        drawer.draw(b"tables" * 1000)  # type: ignore[arg-type]
        os.kill(drawer._child.pid, signal.SIGKILL)
        with pytest.raises(WorkerKilled, match=r"^the chart drawing process was ended by SIGKILL"):
            drawer.charts()


def _archive(path: Path) -> Path:
    lines = [team("t"), channel("t", "c"), user("ann", ["t"])]
    lines += [post("t", "c", "ann", f"message {i}", T + i) for i in range(200)]
    lines.append(post("t", "c", "nobody", "an error: no such user", T))
    return make_archive(path, lines)


def _killed_check(how: int) -> Any:
    """An input check (the writers' child) ended by `how` once its validate made its run
    directory, as a check killed midway leaves it."""

    def check_all(sender: Any, parent: int, *args: Any) -> None:
        guard_worker(parent)  # as the check's own: the signals' handling of a worker
        _ = RunDirectory().path
        os.kill(os.getpid(), how)

    return check_all


@pytest.fixture
def tmp_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder, for this test alone (the forked check's too)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize(("how", "code"), [(signal.SIGKILL, 137), (signal.SIGTERM, 143)])
def test_a_killed_input_check_under_strict_writes_nothing(
    how: int, code: int, tmp_path: Path, tmp_runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--strict refuses an input with errors: an input check that never reported cannot
    vouch for it, so nothing is written (it used to be taken as no check at all: exit 0 and
    the output written from an input with errors), and without --strict the summary would
    not say the input went unchecked. The check's own run directory goes too."""
    source = _archive(tmp_path / "in.zip")
    monkeypatch.setattr(writers, "_check_all", _killed_check(how))  # the forked check runs it
    output = tmp_path / "out.zip"
    name = signal.Signals(how).name
    with pytest.raises(WorkerKilled, match=rf"^the input check .* by {name}.*--no-check") as e:
        filter_archive(source, output, strict=True)
    assert e.value.exit_code == code
    assert list(tmp_runs.iterdir()) == []
    other = shutil.copy(source, tmp_path / "other.zip")
    for args in (["filter", str(source)], ["merge", str(source), str(other)]):
        result = CliRunner().invoke(cli, [*args, "-o", str(output)])
        assert result.exit_code == code, result.output
        assert "internal error" not in result.output
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zip", "other.zip", "tmp"]
        assert list(tmp_runs.iterdir()) == []


def test_a_failed_check_is_said_and_refused_under_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that raised (a bug, or MemoryError under a ulimit) is only a check: the output
    is written, and its summary and manifest say the input went unchecked and why (they said
    nothing: as with --no-check); --strict cannot vouch for the input then, and writes
    nothing."""

    def broken(*args: Any) -> None:
        raise MemoryError("no room")

    source = _archive(tmp_path / "in.zip")
    monkeypatch.setattr(writers, "_check", broken)
    output = tmp_path / "out.zip"
    with pytest.raises(RuntimeError, match=r"check of .*in.zip failed \(MemoryError: no room\)"):
        filter_archive(source, output, strict=True)
    assert not output.exists()
    result = CliRunner().invoke(cli, ["filter", str(source), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "input in.zip went unchecked: its check failed (MemoryError: no room)" in result.output
    manifest = json.loads((tmp_path / "out.manifest.json").read_text())
    assert manifest["input_check"] == [
        {
            "archive": "in.zip", "valid": None, "failed": "MemoryError: no room", "errors": 0,
            "warnings": 0, "issue_counts": {}, "issues": [],
        }
    ]  # fmt: skip


def test_under_strict_an_input_with_errors_is_refused_before_a_failed_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """merge --strict of an input with errors and one whose check raised: the errors are the
    better answer (exit 1); the failed check alone ends the run as a bug (exit 4)."""
    real = writers._check

    def second_breaks(path: str, *args: Any) -> Any:
        if Path(path).name.startswith("clean"):
            raise MemoryError("no room")
        return real(path, *args)

    broken = _archive(tmp_path / "broken.zip")  # a post by an unknown user: an error
    lines = [team("t"), channel("t", "c"), user("bob", ["t"]), post("t", "c", "bob", "hi", T)]
    clean = make_archive(tmp_path / "clean.zip", lines)
    monkeypatch.setattr(writers, "_check", second_breaks)
    output = tmp_path / "out.zip"
    args = ["merge", str(broken), str(clean), "-o", str(output), "--strict"]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1, refused.output
    other = shutil.copy(clean, tmp_path / "clean2.zip")  # its check raises too
    args = ["merge", str(clean), str(other), "-o", str(output), "--strict"]
    failed = CliRunner().invoke(cli, args)
    assert failed.exit_code == 4, failed.output
    assert "failed (MemoryError: no room); --strict cannot vouch for it" in failed.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.zip", "clean.zip", "clean2.zip"]
