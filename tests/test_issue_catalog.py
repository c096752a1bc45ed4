"""Every issue code archivekit can emit is in the catalogue `archivekit.issues.CODES`.

Three nets, because a code can reach a report in several ways:

* statically, every kebab-case string literal that the package passes to a call (``error(...)``,
  ``warning(...)``, ``Issue(...)`` and helpers) or assigns to a ``*code*`` name, and every
  f-string code such as ``f"duplicate-{singular}"``, must name catalogued codes;
* every report built by the end-to-end tests through the ``validate_lines`` fixture is checked
  on the spot (tests/conftest.py), as are the real-fixture and golden reports;
* here, the committed samples and the real fixture are validated and their codes checked.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from archivekit.issues import CODES
from archivekit.validate import validate

PACKAGE = Path(__file__).resolve().parent.parent / "archivekit"
SAMPLES = sorted((PACKAGE.parent / "sample_exports").glob("*.zip"))
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "mattermost-server-tests-import_test.zip"

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
# Kebab-case literals passed to calls that are not issue codes.
NOT_CODES = frozenset({"utf-8", "latin-1"})
# issues.py defines the catalogue; synth.py builds test data (names like "build-bot").
SKIPPED = frozenset({"issues.py", "synth.py"})


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name not in SKIPPED)


def _code_candidates(tree: ast.AST) -> list[ast.expr]:
    """Expressions in positions where a code is passed: call arguments, ``*code*`` targets."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found.extend(node.args)
            found.extend(keyword.value for keyword in node.keywords)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any("code" in ast.unparse(target).lower() for target in targets):
                found.append(node.value)
    return found


def _literal_codes() -> dict[str, set[str]]:
    """Kebab-case string literals in code positions → the files using them."""
    codes: dict[str, set[str]] = {}
    for path in _sources():
        for expr in _code_candidates(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(expr, ast.Constant) and isinstance(expr.value, str)):
                continue
            if KEBAB.match(expr.value) and expr.value not in NOT_CODES:
                codes.setdefault(expr.value, set()).add(path.name)
    return codes


def _fstring_codes() -> dict[str, str]:
    """F-strings that start like a code (``f"duplicate-{x}"``) → a regex for their values."""
    patterns: dict[str, str] = {}
    for path in _sources():
        for expr in _code_candidates(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(expr, ast.JoinedStr) or not expr.values:
                continue
            head = expr.values[0]
            if not (isinstance(head, ast.Constant) and re.match(r"^[a-z0-9-]+-$", str(head.value))):
                continue
            parts = [
                re.escape(str(v.value)) if isinstance(v, ast.Constant) else "[a-z0-9-]+"
                for v in expr.values
            ]
            patterns[f"{path.name}: {ast.unparse(expr)}"] = "^" + "".join(parts) + "$"
    return patterns


def test_the_scan_finds_the_codes_it_should() -> None:
    # Guards the scan itself: codes emitted in different ways are all seen.
    codes = _literal_codes()
    assert "attachment-missing" in codes  # error("...") in check/files.py
    assert "limit-exceeded" in codes  # CODE = "..." in check/limits/verdicts.py
    assert "duplicate-post" in codes  # a multi-line warning(...) in check/duplicates.py
    assert "member-nfd-name" in codes  # warning(...).at(...) in check/archive.py
    assert any("duplicate-" in key for key in _fstring_codes())


def test_every_literal_code_in_the_package_is_catalogued() -> None:
    missing = {code: sorted(files) for code, files in _literal_codes().items() if code not in CODES}
    assert missing == {}, "add these codes to archivekit.issues.CODES (or to NOT_CODES here)"


def test_every_fstring_code_names_catalogued_codes() -> None:
    unmatched = [
        where
        for where, pattern in _fstring_codes().items()
        if not any(re.match(pattern, code) for code in CODES)
    ]
    assert unmatched == []


def test_the_codes_used_with_duplicate_definitions_are_catalogued() -> None:
    # crossref.define_named builds "duplicate-" + the singular of its table.
    assert {"duplicate-scheme", "duplicate-role", "duplicate-emoji"} <= CODES.keys()


def test_catalogue_entries_are_kebab_case_with_a_title_and_description() -> None:
    for code, info in CODES.items():
        assert re.match(r"^[a-z0-9]+(-[a-z0-9]+)*$", code), code
        assert info.title.strip(), code
        assert info.description.strip(), code


@pytest.mark.parametrize("archive", [*SAMPLES, FIXTURE], ids=lambda p: p.stem)
def test_codes_reported_for_the_samples_and_the_real_fixture_are_catalogued(
    archive: Path,
) -> None:
    report = validate(archive, max_issues=None)
    assert sorted(set(report.issue_counts) - CODES.keys()) == []
