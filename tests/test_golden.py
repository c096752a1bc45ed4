"""Golden outputs for the committed sample archives: any change in what validate or inspect
reports about them shows up as a diff of tests/golden/.

After an intended change (or after sample_exports/ is regenerated), rewrite them with
``pytest tests/test_golden.py --update-golden`` and review the diff before committing.
The ``archive`` field is normalised to the file name so the files do not depend on the
checkout's location.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from archivekit.inspect import inspect
from archivekit.report.render import inspection_json, report_json, report_text
from archivekit.validate import validate

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "sample_exports").glob("*.zip"))
GOLDEN = Path(__file__).resolve().parent / "golden"
SUFFIXES = (".validate.json", ".validate.txt", ".inspect.json")


def outputs(sample: Path) -> dict[str, str]:
    """What the CLI would print for the sample, keyed by golden file suffix."""
    report = dataclasses.replace(validate(sample), archive=sample.name)
    inspection = dataclasses.replace(inspect(sample), archive=sample.name)
    return {
        ".validate.json": report_json(report),
        ".validate.txt": report_text(report),
        ".inspect.json": inspection_json(inspection),
    }


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.stem for s in SAMPLES])
def test_sample_outputs_match_their_golden_files(sample: Path, update_golden: bool) -> None:
    for suffix, text in outputs(sample).items():
        golden = GOLDEN / f"{sample.stem}{suffix}"
        if update_golden:
            GOLDEN.mkdir(exist_ok=True)
            golden.write_text(text, encoding="utf-8")
            continue
        assert golden.exists(), f"{golden.name} is missing: run pytest --update-golden"
        assert text == golden.read_text(encoding="utf-8"), (
            f"{sample.name}: output differs from {golden.name}; if the change is intended, "
            "run pytest --update-golden and review the diff"
        )


def test_there_is_a_sample_for_every_golden_file() -> None:
    stems = {s.stem for s in SAMPLES}
    orphans = [
        p.name
        for p in sorted(GOLDEN.iterdir())
        if p.is_file()
        if not any(p.name == f"{stem}{suffix}" for stem in stems for suffix in SUFFIXES)
    ]
    assert orphans == [], "golden files without a sample (remove them)"


def test_the_samples_are_there() -> None:
    assert [s.name for s in SAMPLES] == [
        "broken.zip",
        "clean.zip",
        "deflate64.zip",
        "over_limits.zip",
    ]
