"""`--output` writes the report atomically and never over the archive being read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from archivekit.cli import cli
from archivekit.validate import validate

REPO = Path(__file__).resolve().parent.parent
BROKEN = REPO / "sample_exports" / "broken.zip"


def test_validate_writes_the_json_report_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["validate", str(BROKEN), "--format", "json", "-o", str(out)])
    assert result.exit_code == 1  # the exit code still says the archive has errors
    assert result.stdout == ""
    assert json.loads(out.read_text()) == validate(BROKEN).to_dict()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temp file left


def test_inspect_writes_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "inspect.txt"
    result = CliRunner().invoke(cli, ["inspect", str(BROKEN), "--output", str(out)])
    assert result.exit_code == 0
    assert out.read_text().startswith("archive: ")


def test_the_archive_itself_is_never_overwritten(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    shutil.copy(BROKEN, archive)
    before = archive.read_bytes()
    result = CliRunner().invoke(cli, ["validate", str(archive), "-o", str(archive)])
    assert result.exit_code == 2
    assert "is an input of this run" in result.stderr
    assert archive.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.zip"]
