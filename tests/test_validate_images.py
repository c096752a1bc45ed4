"""Image dimensions reach the resolution limit as the server measures them: attachments by
file extension, profile images whatever their name."""

from __future__ import annotations

from pathlib import Path

from archivekit.testing.synth import channel, make_archive, png_bytes, post, team, user
from archivekit.validate import validate

BIG = png_bytes(8000, 5000)  # 40,000,000 pixels > MaxImageResolution 33,177,600


def limit_ids(path: Path) -> list[str | None]:
    return [i.server_error_id for i in validate(path).issues if i.code == "limit-exceeded"]


def test_an_attachment_named_jpe_is_measured(tmp_path: Path) -> None:
    path = make_archive(
        tmp_path / "a.zip",
        [
            team("t1"),
            channel("t1", "c1"),
            user("alice", teams={"t1": ["c1"]}),
            post("t1", "c1", "alice", "pic", 1_700_000_000_000, attachments=["f/photo.jpe"]),
        ],
        {"data/f/photo.jpe": BIG},
    )
    assert limit_ids(path) == ["api.file.upload_file.large_image_detailed.app_error"]


def test_an_attachment_without_an_image_extension_is_not_measured(tmp_path: Path) -> None:
    path = make_archive(
        tmp_path / "a.zip",
        [
            team("t1"),
            channel("t1", "c1"),
            user("alice", teams={"t1": ["c1"]}),
            post("t1", "c1", "alice", "doc", 1_700_000_000_000, attachments=["f/scan.bin"]),
        ],
        {"data/f/scan.bin": BIG},
    )
    assert limit_ids(path) == []


def test_a_profile_image_is_measured_whatever_its_name(tmp_path: Path) -> None:
    path = make_archive(
        tmp_path / "a.zip",
        [team("t1"), user("alice", teams={"t1": []}, profile_image="users/alice/avatar")],
        {"data/users/alice/avatar": BIG},
    )
    assert limit_ids(path) == ["api.user.upload_profile_user.check_image_limits.app_error"]
