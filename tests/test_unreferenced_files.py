"""Files no line uses, in archives with very many of them (issue 19): only the issues the report
keeps become objects; the others are counted, with exact counts and the same root cause as if
each had been added."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import orjson
import pytest

from archivekit.testing.synth import team, user, version
from archivekit.validate import validate

JSONL = b"\n".join(orjson.dumps(line) for line in [version(), team("eng"), user("ann", ["eng"])])


def stray_files(path: Path, count: int, outside: int = 0) -> Path:
    """An archive with `count` files under data/ (export-shaped folders) and `outside` files
    outside it, none referenced."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("import.jsonl", JSONL)
        for i in range(count):
            zf.writestr(f"data/2024{1 + i % 12:02d}01/teams/t/channels/c{i % 7}/f{i}.log", b"")
        for i in range(outside):
            zf.writestr(f"attachments/{i}.png", b"x")
    return path


@pytest.mark.parametrize("max_issues", [0, 2, 5, 8, 40])
def test_a_capped_report_counts_and_groups_every_unreferenced_file(
    tmp_path: Path, max_issues: int
) -> None:
    archive = stray_files(tmp_path / "stray.zip", 30, outside=3)
    full = validate(archive, max_issues=None, workers=1)
    capped = validate(archive, max_issues=max_issues, workers=1)
    assert full.issue_counts == {"attachment-unreferenced": 30, "attachment-outside-data": 1}
    assert capped.issue_counts == full.issue_counts
    assert (capped.errors, capped.warnings) == (full.errors, full.warnings)
    assert capped.issues == full.issues[:max_issues]
    assert capped.truncated == (max_issues < 31)
    # The root causes (counts, named files, the folder they all sit in) as if nothing were cut.
    assert [c.to_dict() for c in capped.causes] == [c.to_dict() for c in full.causes]
    assert "data/2024" in str(full.causes[0].to_dict())


def test_the_counted_files_widen_the_common_folder(tmp_path: Path) -> None:
    path = tmp_path / "folders.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("import.jsonl", JSONL)
        for i in range(10):
            zf.writestr(f"data/a/b/{i}.txt", b"")
        zf.writestr("data/a/c/last.txt", b"")  # only counted when the report keeps 5
    full = validate(path, max_issues=None, workers=1)
    capped = validate(path, max_issues=5, workers=1)
    assert [c.to_dict() for c in capped.causes] == [c.to_dict() for c in full.causes]
    assert full.causes[0].to_dict()["values"] == {"folder": "data/a/"}


# Measured in a fresh interpreter (see tests/test_reconcile.py's _PEAK_SCRIPT): the peak of
# Python allocations during validate, the C member index included when it allocates through
# Python's allocator.
_PEAK_SCRIPT = """
import sys, tracemalloc
from archivekit.validate import validate
validate(sys.argv[1], workers=1)  # once unmeasured: first-use imports are not what is measured
tracemalloc.start()
report = validate(sys.argv[1], workers=1)
print(tracemalloc.get_traced_memory()[1], report.issue_counts["attachment-unreferenced"])
"""


def _peak(archive: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(archive)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak, unreferenced = done.stdout.split()
    return int(peak), int(unreferenced)


@pytest.mark.slow
def test_memory_grows_little_with_unreferenced_files(tmp_path: Path) -> None:
    small_peak, small = _peak(stray_files(tmp_path / "small.zip", 20_000, outside=2_000))
    large_peak, large = _peak(stray_files(tmp_path / "large.zip", 60_000, outside=6_000))
    assert (small, large) == (20_000, 60_000)
    per_member = (large_peak - small_peak) / (44_000)
    # A MemberInfo and an Issue per file took about 1 KB; the bound of issue 19 is 250 bytes
    # per member, the index's own entry (with its name) included.
    assert per_member < 120, f"{per_member:.0f} bytes per member ({small_peak}, {large_peak})"
