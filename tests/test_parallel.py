"""Validation on several processes gives exactly the report of one process.

Small blocks make every sample span many batches, so each worker owns some of the lines of
every kind (definitions, posts, broken lines) and the merge, the issue order, the issue cap
and "defined later" across workers are all exercised.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archivekit.inspect import inspect
from archivekit.testing.synth import generate_export, post, team
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


def test_a_post_line_that_repeats_its_type_key_is_what_go_decodes_it_as(tmp_path: Path) -> None:
    # Go keeps the last of repeated (and case-folded) keys: these lines are a team, a channel
    # and a user line although they begin like post lines. Workers that skipped them as posts
    # never learnt the definitions and reported every later reference as unknown.
    from archivekit.testing.synth import make_archive, user

    filler = [team(f"filler{i}", description="x" * 300) for i in range(12)]
    lines: list[bytes | dict[str, object]] = [
        team("eng"),
        b'{"type":"post","post":{"message":"x"},"type":"team","team":{"name":"late",'
        b'"display_name":"Late","type":"O"}}',
        *filler,
        b'{"type":"post","post":{},"TYPE":"channel","channel":{"team":"late","name":"dev",'
        b'"display_name":"Dev","type":"O"}}',
        *filler,
        b'{"type":"direct_post","direct_post":{},"\\u0074ype":"user","user":{"username":'
        b'"carol","email":"carol@example.com","teams":[{"name":"late","channels":[{"name":'
        b'"dev"}]}]}}',
        *filler,
        user("dave", teams={"late": ["dev"]}),
        post("late", "dev", "carol", "hello", 1_700_000_000_000),
    ]
    path = make_archive(tmp_path / "repeat.zip", lines)
    one = validate(path, workers=1, max_issues=None).to_dict()
    assert not {i["code"] for i in one["issues"]} & {"unknown-team", "unknown-channel"}
    assert not [i for i in one["issues"] if i["code"] == "unknown-user"]
    for workers in (2, 3):
        assert validate(path, workers=workers, block_size=256, max_issues=None).to_dict() == one


def test_a_worker_killed_by_sigkill_ends_the_run_as_killed_not_as_a_bug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker the OOM killer (or kill -9) ends: `WorkerKilled`, exit 137 in the CLI, with
    advice; exit 4 ("internal error") is kept for archivekit's own bugs."""
    import os
    import signal

    from archivekit.check import parallel
    from archivekit.errors import WorkerKilled

    def killed(conn: object, job: parallel.WorkerJob) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    path = tmp_path / "gen.zip"
    generate_export(path, seed=7, posts=300)
    monkeypatch.setattr(parallel, "_work", killed)  # the forked workers run `killed`
    with pytest.raises(WorkerKilled, match=r"^validation worker \d of 2 was ended by SIGKILL") as e:
        validate(path, workers=2)
    assert e.value.exit_code == 137
