"""`archivekit filter`, `split` and `merge` through click's CliRunner: exit codes, JSON equal to
the library's result, and the options that only the CLI parses (dates, sizes, config)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from archivekit.cli import cli
from archivekit.options import parse_date
from archivekit.write.select import Selection
from archivekit.writers import filter_archive

REPO = Path(__file__).resolve().parent.parent
CLEAN = str(REPO / "sample_exports" / "clean.zip")
BROKEN = str(REPO / "sample_exports" / "broken.zip")


@pytest.fixture(autouse=True)
def no_server_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("MM_"):
            monkeypatch.delenv(name)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def without_paths(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("output", "manifest", "archive")}


def test_filter_json_is_the_library_result(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    result = run(
        "filter", CLEAN, "-o", str(out), "--team", "engineering", "--since", "2024-01-01T01:30",
        "--no-direct", "--format", "json", "--no-check",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    library = filter_archive(
        CLEAN,
        tmp_path / "lib.zip",
        Selection(
            teams=frozenset({"engineering"}), since=parse_date("2024-01-01T01:30"), direct=False
        ),
        check_input=False,
    ).to_dict()
    assert without_paths(document) == without_paths(json.loads(json.dumps(library)))
    assert out.read_bytes() == (tmp_path / "lib.zip").read_bytes()
    assert document["kept"]["post"]  # the date cuts: some posts kept, some left out
    assert document["dropped"]["post"]


def test_filter_text_summary_and_dry_run(tmp_path: Path) -> None:
    result = run("filter", CLEAN, "--user", "alice.smith", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: nothing written" in result.stdout
    assert "input clean.zip: no errors" in result.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--team", "engg"], 2, "closest: engineering"),
        (["--channel", "engineering"], 2, "TEAM/CHANNEL"),
        (["--dm", "alice.smith"], 2, "two or more"),
        (["--since", "yesterday"], 2, "not a date"),
        (["--types", "posts"], 2, "unknown line type"),
    ],
)
def test_filter_usage_errors_exit_2_and_write_nothing(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    out = tmp_path / "out.zip"
    result = run("filter", CLEAN, "-o", str(out), *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_input_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    for args in (
        ["filter", str(bad), "-o", str(tmp_path / "o.zip")],
        ["split", str(bad), "-o", str(tmp_path / "parts"), "--max-bytes", "1MB"],
        ["merge", str(bad), CLEAN, "-o", str(tmp_path / "m.zip")],
    ):
        result = run(*args)
        assert result.exit_code == 3, (args, result.output)
        assert result.stderr.startswith("archivekit: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip"]


def test_strict_refuses_an_input_with_errors_with_exit_1(tmp_path: Path) -> None:
    result = run("filter", BROKEN, "-o", str(tmp_path / "out.zip"), "--strict")
    assert result.exit_code == 1
    assert "refused (--strict)" in result.stderr
    assert list(tmp_path.iterdir()) == []
    result = run("filter", BROKEN, "-o", str(tmp_path / "out.zip"))
    assert result.exit_code == 0
    assert "has 20 error(s): the output carries those" in result.stdout


def test_a_refused_split_leaves_nothing_it_created(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "parts"
    result = run("split", BROKEN, "-o", str(folder), "--max-bytes", "1MB", "--strict")
    assert result.exit_code == 1
    assert "refused (--strict)" in result.stderr
    assert list(tmp_path.iterdir()) == []  # neither parts/ nor new/ it had to create
    (tmp_path / "mine").mkdir()  # a folder that was there before stays
    result = run("split", BROKEN, "-o", str(tmp_path / "mine"), "--max-bytes", "1MB", "--strict")
    assert result.exit_code == 1
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]
    assert list((tmp_path / "mine").iterdir()) == []


def test_split_takes_its_size_from_the_target_config(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"FileSettings": {"MaxFileSize": 20000}}))
    result = run("split", CLEAN, "-o", str(tmp_path / "parts"), "--target-config", str(config))
    assert result.exit_code == 0, result.output
    parts = sorted((tmp_path / "parts").glob("*.zip"))
    assert len(parts) > 2
    assert all(p.stat().st_size <= 20000 for p in parts)
    assert "mmctl import upload" in result.stdout
    assert "at most 20,000 bytes" in result.stdout


def test_split_text_prints_what_the_manifest_lists(tmp_path: Path) -> None:
    result = run("split", CLEAN, "-o", str(tmp_path / "p"), "--max-bytes", "20kB", "--no-check")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text())
    text = result.stdout
    for part in manifest["parts"]:
        block = re.split(r"\n +\d+\. |\nmanifest: ", text.split(part["file"], 1)[1])[0]
        assert f"{part['size']:,} bytes" in block
        assert f"sha256 {part['sha256']}" in block
        total = sum(part["lines"].values())
        shown = ", ".join(f"{kind} {count:,}" for kind, count in part["lines"].items())
        assert f"lines: {total:,} ({shown})" in block, block
        assert f"files: {part['files']:,} (" in block


def test_split_and_merge_json(tmp_path: Path) -> None:
    result = run(
        "split", CLEAN, "-o", str(tmp_path / "p"), "--max-bytes", "30kB", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    files = [str(tmp_path / "p" / part["file"]) for part in document["parts"]]
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert manifest["parts"] == document["parts"]
    result = run("merge", *files, "-o", str(tmp_path / "m.zip"), "--format", "json")
    assert result.exit_code == 0, result.output
    merged = json.loads(result.stdout)
    assert merged["written"]["post"] == 180
    assert [c["valid"] for c in merged["input_check"]] == [True] * len(files)
