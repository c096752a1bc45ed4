"""A run's temporary directory: made on first use, removed at the end, and recognised as
abandoned (then removed) once the run that made it is gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from archivekit.runtime import RUN_PREFIX, RunDirectory, partial_name_owner, remove_abandoned


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


_POOL_RACE = """
import multiprocessing, sys
from archivekit.runtime import stop_on_sigterm, worker_pool
stop_on_sigterm()
context = multiprocessing.get_context("fork")
for _ in range(int(sys.argv[1])):
    # Terminated at once, often before a worker has run guard_worker: the SIGTERM that
    # Pool.terminate sends must wait for the worker's own handlers.
    with worker_pool(context, 2) as pool:
        pass
print("done")
"""


@pytest.mark.slow
def test_a_pool_terminated_while_its_workers_start_neither_hangs_nor_raises() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _POOL_RACE, "150"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert "Terminated" not in result.stderr, result.stderr
