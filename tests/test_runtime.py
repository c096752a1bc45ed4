"""A run's temporary directory: made on first use, removed at the end, and recognised as
abandoned (then removed) once the run that made it is gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
