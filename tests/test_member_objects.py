"""Issue 19: on an attachment-heavy archive, validate and inspect build a fixed number of
per-member Python objects (MemberInfo), however many files the archive holds; inspect never
builds more than validate. Counted by a spy on the C index's one way to make them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archivekit.inspect import inspect
from archivekit.read import members
from archivekit.read.members import NativeIndex
from archivekit.testing.synth import (
    channel,
    direct_channel,
    direct_post,
    make_archive,
    post,
    reply,
    team,
    user,
)
from archivekit.validate import validate

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("ARCHIVEKIT_PURE_PYTHON")), reason="the C member index is the subject"
)


def attachment_heavy(path: Path, posts: int) -> Path:
    """`posts` root posts with two files each, a reply and a direct post with one, plus a
    missing file, a `data/`-prefixed path and one unreferenced file: every file path kind."""
    lines: list[object] = [
        team("eng"),
        channel("eng", "town-square"),
        user("ann", ["eng"]),
        user("bob", ["eng"]),
        direct_channel(["ann", "bob"]),
    ]
    files: dict[str, bytes] = {}
    for i in range(posts):
        names = [f"d/{i}/a.log", f"d/{i}/b.txt"]
        files.update({f"data/{n}": b"x" for n in names})
        files[f"data/r/{i}.log"] = b"y"
        files[f"data/dm/{i}.log"] = b"z"
        lines.append(
            post(
                "eng",
                "town-square",
                "ann",
                "m",
                1_700_000_000_000 + i,
                attachments=names,
                replies=[reply("bob", "r", 1_700_000_000_001 + i, attachments=[f"r/{i}.log"])],
            )
        )
        lines.append(
            direct_post(
                ["ann", "bob"], "bob", "d", 1_700_000_000_002 + i, attachments=[f"dm/{i}.log"]
            )
        )
    lines.append(
        post("eng", "town-square", "ann", "m", 1_800_000_000_000, attachments=["gone.txt"])
    )
    lines.append(
        post("eng", "town-square", "ann", "m", 1_800_000_000_001, attachments=["data/d/0/a.log"])
    )
    files["data/nobody/uses.this"] = b"u"
    return make_archive(path, lines, files)


def member_objects(monkeypatch: pytest.MonkeyPatch, run: object) -> int:
    calls = 0
    real = NativeIndex.member

    def counted(self: NativeIndex, i: int) -> object:
        nonlocal calls
        calls += 1
        return real(self, i)

    monkeypatch.setattr(NativeIndex, "member", counted)
    assert callable(run)
    run()
    return calls


def test_per_member_objects_do_not_grow_with_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert members.NATIVE is not None, "the C member index is not loaded"
    small = attachment_heavy(tmp_path / "small.zip", 50)
    large = attachment_heavy(tmp_path / "large.zip", 500)
    counts: dict[tuple[str, str], int] = {}
    for label, archive in (("small", small), ("large", large)):
        report = validate(archive, workers=1)
        assert report.issue_counts.get("attachment-missing") == 1, report.issue_counts
        assert "attachment-unreferenced" in report.issue_counts, report.issue_counts
        counts["validate", label] = member_objects(
            monkeypatch, lambda a=archive: validate(a, workers=1)
        )
        counts["inspect", label] = member_objects(
            monkeypatch, lambda a=archive: inspect(a, workers=1)
        )
    assert counts["validate", "large"] == counts["validate", "small"], counts
    assert counts["inspect", "large"] == counts["inspect", "small"], counts
    assert counts["inspect", "large"] <= counts["validate", "large"], counts
    assert counts["validate", "large"] < 20, counts
