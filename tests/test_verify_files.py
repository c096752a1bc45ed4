"""--verify-files reads every referenced file and reports the ones whose data is damaged."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from archivekit.cli import cli
from archivekit.testing.synth import channel, make_archive, post, team, user
from archivekit.validate import validate

GOOD = b"attachment data that is long enough to find in the zip " * 4
AVATAR = b"profile image bytes, also long enough to be found easily " * 4


def damaged_archive(tmp_path: Path) -> Path:
    path = make_archive(
        tmp_path / "a.zip",
        [
            team("t1"),
            channel("t1", "c1"),
            user("alice", teams={"t1": ["c1"]}, profile_image="users/alice.png"),
            post("t1", "c1", "alice", "file", 1_700_000_000_000, attachments=["f/notes.txt"]),
        ],
        {"data/f/notes.txt": GOOD, "data/users/alice.png": AVATAR},
    )
    data = bytearray(path.read_bytes())
    for payload in (GOOD, AVATAR):  # stored members: their bytes sit in the zip as they are
        data[data.index(payload) + 10] ^= 0x20
    path.write_bytes(bytes(data))
    return path


def test_damaged_files_are_reported_only_when_asked(tmp_path: Path) -> None:
    path = damaged_archive(tmp_path)
    assert validate(path).valid
    report = validate(path, verify_files=True)
    found = {(i.code, i.member, i.effect) for i in report.issues}
    assert found == {
        ("member-crc-mismatch", "data/f/notes.txt", "drops-data"),
        ("member-crc-mismatch", "data/users/alice.png", "fails-import"),
    }
    assert not report.valid


def test_the_parallel_run_finds_the_same(tmp_path: Path) -> None:
    path = damaged_archive(tmp_path)
    one = validate(path, verify_files=True, workers=1).to_dict()
    assert validate(path, verify_files=True, workers=2, block_size=64).to_dict() == one


def test_the_cli_flag(tmp_path: Path) -> None:
    path = damaged_archive(tmp_path)
    assert CliRunner().invoke(cli, ["validate", str(path)]).exit_code == 0
    result = CliRunner().invoke(cli, ["validate", str(path), "--verify-files"])
    assert result.exit_code == 1
    assert "member-crc-mismatch" in result.stdout
