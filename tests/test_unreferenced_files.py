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

# The resident memory the files no line uses cost once the member index is read: its peak
# (VmHWM, reset by writing 5 to /proc/self/clear_refs) over the resident memory before, while
# validate lists and counts them, a writer counts what it leaves out and the report page
# lists the members (every caller of `unreferenced` and `outside_data`). The C index's
# allocations are not Python's: tracemalloc does not see them, the kernel does.
_RSS_SCRIPT = """
import sys
from archivekit.check.files import ReferencedFiles, unreferenced_issues
from archivekit.read.source import open_archive
from archivekit.report.archive_members import member_manifest
from archivekit.write.core import files_left_out

def kib(key):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key))

def checked(path):
    with open_archive(path) as archive:
        nothing = ReferencedFiles(len(archive.index))
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        before = kib("VmRSS")
        found = unreferenced_issues(archive, nothing, 100)
        left, _ = files_left_out(archive, nothing)
        member_manifest(archive)
        return kib("VmHWM") - before, left

checked(sys.argv[1])  # once unmeasured: first-use imports and allocations
print(*checked(sys.argv[1]), *checked(sys.argv[2]))
"""


def _run(script: str, *archives: Path) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, archives)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [int(word) for word in done.stdout.split()]


@pytest.mark.slow
def test_memory_grows_little_with_unreferenced_files(tmp_path: Path) -> None:
    small_archive = stray_files(tmp_path / "small.zip", 20_000, outside=2_000)
    large_archive = stray_files(tmp_path / "large.zip", 60_000, outside=6_000)
    small_peak, small = _run(_PEAK_SCRIPT, small_archive)
    large_peak, large = _run(_PEAK_SCRIPT, large_archive)
    assert (small, large) == (20_000, 60_000)
    per_member = (large_peak - small_peak) / 44_000
    # A MemberInfo and an Issue per file took about 1 KB, a list of their indexes 36 bytes;
    # now only the packed indexes (4 bytes each) grow with them. (Issue 19's bound is 250
    # bytes per member, the index's own entry with its name included.)
    assert per_member < 8, f"{per_member:.1f} bytes per member ({small_peak}, {large_peak})"
    small_kib, small_left, large_kib, large_left = _run(_RSS_SCRIPT, small_archive, large_archive)
    assert (small_left, large_left) == (22_000, 66_000)
    resident = (large_kib - small_kib) * 1024 / 44_000
    assert resident < 8, f"{resident:.1f} resident bytes per member ({small_kib}, {large_kib} KiB)"
