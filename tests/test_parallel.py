"""Validation on several processes gives exactly the report of one process.

Small blocks make every sample span many batches, so each worker owns some of the lines of
every kind (definitions, posts, broken lines) and the merge, the issue order, the issue cap
and "defined later" across workers are all exercised.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archivekit.inspect import inspect
from archivekit.testing.synth import generate_export
from archivekit.validate import validate

REPO = Path(__file__).resolve().parent.parent
ARCHIVES = [
    *sorted((REPO / "sample_exports").glob("*.zip")),
    REPO / "tests" / "fixtures" / "mattermost-server-tests-import_test.zip",
]


@pytest.mark.parametrize("archive", ARCHIVES, ids=lambda p: p.name)
@pytest.mark.parametrize("workers", [2, 3])
def test_validate_reports_the_same_on_several_workers(archive: Path, workers: int) -> None:
    one = validate(archive, workers=1, max_issues=None).to_dict()
    many = validate(archive, workers=workers, block_size=2048, max_issues=None).to_dict()
    assert many == one


@pytest.mark.parametrize("max_issues", range(1, 24, 2))
def test_the_issue_cap_keeps_the_same_issues_and_exact_counts(max_issues: int) -> None:
    broken = REPO / "sample_exports" / "broken.zip"
    one = validate(broken, workers=1, max_issues=max_issues).to_dict()
    many = validate(broken, workers=2, block_size=256, max_issues=max_issues).to_dict()
    assert many == one
    assert one["truncated"] == (max_issues < one["errors"] + one["warnings"])


@pytest.mark.parametrize("archive", ARCHIVES, ids=lambda p: p.name)
def test_inspect_reports_the_same_on_several_workers(archive: Path) -> None:
    one = inspect(archive, workers=1).to_dict()
    assert inspect(archive, workers=2, block_size=2048).to_dict() == one


def test_a_generated_export_with_duplicates_across_workers(tmp_path: Path) -> None:
    path = tmp_path / "gen.zip"
    generate_export(path, seed=7, posts=3000, direct_posts=500)
    one = validate(path, workers=1).to_dict()
    assert validate(path, workers=2, block_size=8192).to_dict() == one


def test_a_damaged_jsonl_stops_every_worker_with_the_archive_error(tmp_path: Path) -> None:
    from archivekit.errors import ArchiveError
    from archivekit.testing.synth import make_archive, team

    lines = [team(f"team{i}", description="x" * 200) for i in range(200)]
    path = make_archive(tmp_path / "a.zip", lines, method="stored")
    data = bytearray(path.read_bytes())
    data[data.index(b"team150") + 2] ^= 0x01  # the stored JSONL's bytes: CRC now wrong
    path.write_bytes(bytes(data))
    for workers in (1, 2):
        with pytest.raises(ArchiveError) as caught:
            validate(path, workers=workers, block_size=4096)
        assert caught.value.issue.code == "member-crc-mismatch"
