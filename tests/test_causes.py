"""Root causes: issues that share one cause are shown once, with their lines and their fix.

Golden text reports on archives shaped like a converter's (mmetl's) output, built by the
project's own generator (`converter_export`), each holding that the first screen names every
problem with its fix; properties that the causes add up to the issues, whatever --max-issues
and however the issues are split into batches (as parallel workers split them).
"""

from __future__ import annotations

import dataclasses
import itertools
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archivekit.check.causes import CauseTally, Runs, cause_key, line_type
from archivekit.issues import DROPS_DATA, FAILS_IMPORT, Issue, Severity, error, warning
from archivekit.report.model import Report
from archivekit.report.render import report_json, report_text
from archivekit.testing.fuzz import ArchiveRecipe, MutatedArchive, RecordMutation, record_mutations
from archivekit.testing.synth import (
    LONG_MESSAGE_RUNES,
    converter_export,
    iter_lines,
    make_archive,
    post,
    team,
    user,
)
from archivekit.validate import validate

GOLDEN = Path(__file__).resolve().parent / "golden" / "converter"
FIRST_SCREEN = 15

# Converter-shaped archives: each adds one problem to mmetl's shape (no team line).
SHAPES: dict[str, dict[str, Any]] = {
    "no-team-line": {},
    "missing-emails": {"missing_emails": 3},
    "long-message": {"long_messages": 1},
    "group-of-nine": {"group_of": 9},
    "uppercase-users": {"uppercase_users": 2},
    "reply-attachments": {"missing_files": 2, "reply_attachments": 2},
    "all-of-them": {
        "missing_emails": 2,
        "long_messages": 1,
        "group_of": 9,
        "uppercase_users": 1,
        "missing_files": 2,
        "reply_attachments": 1,
    },
}
# The problems each archive has, in the order to fix them: (code, issues).
EXPECTED: dict[str, list[tuple[str, int]]] = {
    "no-team-line": [("unknown-team", 60)],
    "missing-emails": [("unknown-team", 60), ("missing-field", 3)],
    "long-message": [("unknown-team", 60), ("invalid-field", 1)],
    "group-of-nine": [
        ("unknown-team", 60),
        ("invalid-field", 1),  # the group's post: the server stops there
        ("direct-channel-skipped", 1),  # the group itself: skipped
    ],
    "uppercase-users": [("unknown-team", 60), ("reference-case", 11), ("reference-case", 11)],
    "reply-attachments": [
        ("unknown-team", 60),
        ("attachment-missing", 2),
        ("attachment-missing", 2),  # the replies' files, dropped after the posts' failed
        ("attachment-unreferenced", 2),  # ... and so never read
    ],
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    folder = tmp_path_factory.mktemp("converted")
    reports = {}
    for name, options in SHAPES.items():
        path = converter_export(folder / f"{name}.zip", **options)
        reports[name] = dataclasses.replace(validate(path), archive=f"{name}.zip")
    return reports


@pytest.mark.parametrize("name", list(SHAPES))
def test_converter_shaped_archives_match_their_golden_reports(
    name: str, converted: dict[str, Report], update_golden: bool
) -> None:
    text = report_text(converted[name])
    golden = GOLDEN / f"{name}.validate.txt"
    if update_golden:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden.name} is missing: run pytest --update-golden"
    assert text == golden.read_text(encoding="utf-8"), (
        f"{name}: the report differs from {golden.name}; if intended, run pytest "
        "--update-golden and review the diff"
    )


def test_every_golden_report_has_its_archive() -> None:
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(
        f"{name}.validate.txt" for name in SHAPES
    )


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_first_screen_names_every_problem_with_its_fix(
    name: str, converted: dict[str, Report]
) -> None:
    report = converted[name]
    screen = report_text(report).splitlines()[:FIRST_SCREEN]
    assert screen[1].startswith(f"summary: INVALID — {len(report.causes)} problem")
    assert "fix 1 first: it stops the import" in screen[1]
    # The converter's shape, said once, with the option to use.
    assert screen[2] == (
        "shape:   No team line, and the lines name one team, 'myteam': a converter's output "
        "(mmetl writes no team line; the team is made in Mattermost first). Create the team on "
        "the target, validate with --existing-team myteam and import into it."
    )
    for number, cause in enumerate(report.causes, 1):
        wanted = f"  {number}. "
        line = next((s for s in screen if s.startswith(wanted)), None)
        assert line is not None, f"problem {number} ({cause.code}) is not on the first screen"
        assert cause.cause in line
        assert f"— fix: {cause.fix}" in line


@pytest.mark.parametrize("name", [n for n in SHAPES if n in EXPECTED])
def test_each_converter_problem_is_one_cause(name: str, converted: dict[str, Report]) -> None:
    assert [(c.code, c.count) for c in converted[name].causes] == EXPECTED[name]


def test_the_causes_say_what_and_where(converted: dict[str, Report]) -> None:
    by_code = {c.code: c for c in converted["all-of-them"].causes}
    team_cause = by_code["unknown-team"]
    assert team_cause.cause == (
        "team 'myteam' is referenced by 60 lines (channels 2–6, users 7–21, posts 22–61) and "
        "defined by none"
    )
    assert team_cause.fix == (
        "if the target server already has it, pass --existing-team myteam; otherwise add a "
        "team line for it before line 2"
    )
    emails = by_code["missing-field"]
    assert emails.cause == "2 users have no email: 'alice.smith' (line 7), 'bob.jones' (line 8)"
    assert "Slack exports omit the emails of bots and deleted users" in (emails.note or "")
    assert "--default-email-domain" in (emails.note or "")
    long = next(c for c in converted["all-of-them"].causes if "MaxPostSize" in c.cause)
    assert f"the longest has {LONG_MESSAGE_RUNES:,}" in long.cause
    assert "not a config setting" in (long.note or "")
    case = by_code["reference-case"]
    assert case.repair == "lowercase-references"
    assert "the source export or the converter" in case.fix
    missing = [c for c in converted["all-of-them"].causes if c.code == "attachment-missing"]
    assert "all under data/bulk-export-attachments/" in missing[0].cause
    assert "dropped because an earlier attachment" in missing[1].cause


def test_the_json_causes_are_the_issues_grouped(converted: dict[str, Report]) -> None:
    import orjson

    document = orjson.loads(report_json(converted["all-of-them"]))
    issues = document["issues"]
    causes = document["causes"]
    assert (
        sum(c["count"] for c in causes) == len(issues) == document["errors"] + document["warnings"]
    )
    for cause in causes:
        mine = [i for i in issues if i["code"] == cause["code"]]
        lines = {i["line"] for i in mine if i["line"] is not None}
        for runs in cause["lines"].values():
            for start, end in runs:
                assert set(range(start, end + 1)) <= lines
        assert {"cause", "code", "count", "lines", "fix"} <= set(cause)
    assert document["shapes"] == [
        {"shape": "no-team-lines", "message": converted["all-of-them"].shapes[0].message}
    ]


# --- shapes ----------------------------------------------------------------------------------


def test_shape_posts_without_their_users(tmp_path: Path) -> None:
    path = converter_export(tmp_path / "a.zip")
    lines = [line for line in _lines(path) if line["type"] != "user"]
    report = validate(_rewrite(tmp_path / "b.zip", lines, path), existing=_team())
    assert [s.shape for s in report.shapes] == ["no-user-lines"]
    assert "validate with --existing-user " in report.shapes[0].message


def test_shape_channels_referenced_but_never_defined(tmp_path: Path) -> None:
    path = converter_export(tmp_path / "a.zip")
    lines = [line for line in _lines(path) if line["type"] != "channel"]
    report = validate(_rewrite(tmp_path / "b.zip", lines, path), existing=_team())
    assert [s.shape for s in report.shapes] == ["no-channel-lines"]


def test_shape_users_in_no_team(tmp_path: Path) -> None:
    path = converter_export(tmp_path / "a.zip")
    lines = [team("myteam")] + [
        {"type": "user", "user": {**line["user"], "teams": []}} if line["type"] == "user" else line
        for line in _lines(path)
        if line["type"] not in ("post", "direct_post", "direct_channel")
    ]
    report = validate(_rewrite(tmp_path / "b.zip", lines, path))
    assert [s.shape for s in report.shapes] == ["users-in-no-team"]
    assert "none of the 15 users joins one" in report.shapes[0].message


def test_shape_attachments_zipped_outside_data(tmp_path: Path) -> None:
    path = converter_export(tmp_path / "a.zip")
    with zipfile.ZipFile(path) as zf:
        files = {n.removeprefix("data/"): zf.read(n) for n in zf.namelist() if n != "import.jsonl"}
    report = validate(_rewrite(tmp_path / "b.zip", _lines(path), files=files), existing=_team())
    assert [s.shape for s in report.shapes] == ["files-outside-data"]
    assert "--attachments-dir data" in report.shapes[0].message


def test_shape_attachments_not_zipped_at_all(tmp_path: Path) -> None:
    path = converter_export(tmp_path / "a.zip")
    report = validate(_rewrite(tmp_path / "b.zip", _lines(path), files={}), existing=_team())
    assert [s.shape for s in report.shapes] == ["files-not-included"]
    assert "zip -r export.zip import.jsonl data" in report.shapes[0].message


def test_shape_many_names_in_mixed_case(tmp_path: Path) -> None:
    report = validate(converter_export(tmp_path / "a.zip", uppercase_users=3), existing=_team())
    assert [s.shape for s in report.shapes] == ["mixed-case-references"]
    assert report.shapes[0].message.startswith(
        "3 names are referenced in mixed case ('Olivia.Brown', 'Rupert.Miller', 'Peggy.Garcia')"
    )


def test_a_valid_archive_has_no_shape_and_no_cause(tmp_path: Path) -> None:
    report = validate(converter_export(tmp_path / "a.zip"), existing=_team())
    assert (report.shapes, report.causes) == ([], [])
    assert report_text(report).splitlines()[1] == "summary: VALID — no problems found"


def _team() -> Any:
    from archivekit.check.references import Existing

    return Existing(teams=frozenset({"myteam"}))


def _lines(path: Path) -> list[dict[str, Any]]:
    return list(iter_lines(path))


def _rewrite(
    path: Path,
    lines: list[dict[str, Any]],
    source: Path | None = None,
    files: dict[str, bytes] | None = None,
) -> Path:
    if files is None:
        assert source is not None
        with zipfile.ZipFile(source) as zf:
            files = {n: zf.read(n) for n in zf.namelist() if n != "import.jsonl"}
    return make_archive(path, lines, files, version_line=False)


# --- the tally: exact, bounded, and the same however the issues are batched --------------------


def test_an_undefined_mixed_case_team_is_one_cause(tmp_path: Path) -> None:
    path = converter_export(tmp_path / "a.zip", team="Acme-Corp")
    report = validate(path)
    assert [(c.code, c.count) for c in report.causes] == [("unknown-team", 60)]
    (cause,) = report.causes
    assert "stored as" not in cause.cause
    assert cause.cause.startswith("team 'acme-corp' is referenced by 60 lines")
    assert cause.note == (
        "55 references write it 'Acme-Corp' where the server looks the name up exactly as "
        "written, so even once it exists they must say 'acme-corp' (the repair "
        "'lowercase-references')"
    )


def test_defined_later_moves_the_whole_cause(tmp_path: Path) -> None:
    lines = [
        user("alice", ["eng"]),
        post("eng", "town-square", "alice", "hi", 1_700_000_000_000),
        team("eng"),
    ]
    report = validate(make_archive(tmp_path / "a.zip", lines))
    (cause,) = report.causes
    assert (cause.code, cause.count, cause.lines) == (
        "defined-later",
        2,
        {"user": [(2, 2)], "post": [(3, 3)]},
    )
    assert cause.cause == "team 'eng' is used by 2 lines (user 2, post 3) before line 4 defines it"
    assert cause.fix.startswith("move line 4 (the team line) before line 2")


def test_runs_keep_the_first_lines_and_say_where_they_stop() -> None:
    runs = Runs()
    for line in [1, 2, 3, 5, 7, 9, 11, 13, 15, 17, 19, 20]:
        runs.add(line, line)
    assert runs.runs == [[1, 3], [5, 5], [7, 7], [9, 9], [11, 11], [13, 13], [15, 15], [17, 17]]
    assert runs.cut == 18  # 19 and 20 would have made a ninth run
    runs.add(4, 4)  # an earlier line still joins
    assert runs.runs[0] == [1, 5]


# Issues as the engine makes them: a code has one severity and effect.
_SEVERITY = {
    "unknown-user": (error, FAILS_IMPORT),
    "reference-case": (error, FAILS_IMPORT),
    "attachment-missing": (error, DROPS_DATA),
    "duplicate-user": (warning, None),
}
ISSUES = st.builds(
    lambda code, key, line, field: _SEVERITY[code][0](
        code,
        "m",
        field=field,
        values={"kind": "user", "name": key.upper() if line % 3 == 0 else key, "key": key},
        effect=_SEVERITY[code][1],
    ).at("import.jsonl", line),
    st.sampled_from(sorted(_SEVERITY)),
    st.sampled_from(["a", "b", "c", "d"]),
    st.integers(1, 80),
    st.sampled_from(["post.user", "user.teams[0].name", None]),
)


@given(
    issues=st.lists(ISSUES, max_size=120).map(lambda xs: sorted(xs, key=_line)),
    cuts=st.lists(st.integers(0, 120), max_size=6),
)
def test_batches_merge_as_if_added_one_by_one(issues: list[Issue], cuts: list[int]) -> None:
    # What a parallel run does: each batch's issues folded into their own tally, merged in
    # line order. Caps included (two causes in detail), the result is the sequential one.
    sequential = CauseTally(max_causes=2)
    for issue in issues:
        sequential.add(issue)
    merged = CauseTally(max_causes=2)
    for start, end in itertools.pairwise([0, *sorted(set(cuts)), len(issues)]):
        batch = CauseTally(max_causes=None)
        for issue in issues[start:end]:
            batch.add(issue)
        merged.merge(batch)
    assert _state(merged) == _state(sequential)
    assert sequential.total == len(issues)
    assert sum(c.count for c in sequential) + sum(sequential.others.values()) == len(issues)


def _line(issue: Issue) -> int:
    return issue.line or 0


def _state(tally: CauseTally) -> list[Any]:
    return [
        (c.key, c.count, c.lines, {k: (r.runs, r.cut) for k, r in c.runs.items()}, c.names)
        for c in tally
    ] + [sorted(tally.others.items())]


RECIPE_SOURCE = {"missing_emails": 1, "uppercase_users": 1, "missing_files": 1}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> ArchiveRecipe:
    path = converter_export(
        tmp_path_factory.mktemp("recipe") / "a.zip", users=8, posts=12, direct_posts=4,
        attachments=3, **RECIPE_SOURCE,
    )  # fmt: skip
    with zipfile.ZipFile(path) as zf:
        lines = tuple(zf.read("import.jsonl").splitlines())
        files = {n: zf.read(n) for n in zf.namelist() if n != "import.jsonl"}
    return ArchiveRecipe(lines, files)


@settings(deadline=None)
@given(data=st.data())
def test_causes_add_up_to_the_issues_whatever_the_cap(
    data: st.DataObject, recipe: ArchiveRecipe, tmp_path_factory: pytest.TempPathFactory
) -> None:
    mutations: tuple[RecordMutation, ...] = data.draw(record_mutations(recipe.lines, 6))
    path = MutatedArchive(recipe, records=mutations).write(tmp_path_factory.mktemp("p") / "a.zip")
    full = validate(path, max_issues=None)
    assert sum(c.count for c in full.causes) == len(full.issues) == full.errors + full.warnings
    by_code: Counter[str] = Counter()
    for cause in full.causes:
        by_code[cause.code] += cause.count
    assert by_code == Counter(full.issue_counts)
    # Every issue is in its cause, on its lines; each cause has exactly its issues.
    keys = Counter(cause_key(i) for i in full.issues)
    assert {c.key: c.count for c in full.causes} == dict(keys)
    for cause in full.causes:
        mine = [i for i in full.issues if cause_key(i) == cause.key]
        assert cause.line_count == len({i.line for i in mine if i.line is not None})
        for issue in mine:
            runs = cause.lines.get(line_type(issue), [])
            if issue.line is not None and (
                cause.lines_cut is None or issue.line <= cause.lines_cut
            ):
                assert any(a <= issue.line <= b for a, b in runs)
    # Keeping only the first issues changes none of it.
    capped = validate(path, max_issues=data.draw(st.integers(1, 5)))
    assert [c.to_dict() for c in capped.causes] == [c.to_dict() for c in full.causes]
    assert capped.shapes == full.shapes


def test_the_severity_order_puts_what_stops_the_import_first() -> None:
    from archivekit.report.causes import root_causes

    tally = CauseTally()
    for n in range(3):
        tally.add(warning("duplicate-user", "w", field="user.username").at("j", 10 + n))
    tally.add(error("attachment-missing", "m", effect=DROPS_DATA, values={"path": "a"}).at("j", 2))
    tally.add(error("json-decode", "d").at("j", 5))
    order = [(c.code, c.severity) for c in root_causes(tally)]
    assert order == [
        ("json-decode", Severity.ERROR),
        ("attachment-missing", Severity.ERROR),
        ("duplicate-user", Severity.WARNING),
    ]


def test_causes_beyond_the_cap_are_counted_per_code() -> None:
    from archivekit.report.causes import root_causes

    tally = CauseTally(max_causes=1)
    for n, name in enumerate(["a", "b", "c", "b"], 2):
        values = {"kind": "user", "name": name, "key": name}
        tally.add(error("unknown-user", "m", field="post.user", values=values).at("j", n))
    other, first = root_causes(tally)  # the most issues first
    assert (first.code, first.count, first.key) == ("unknown-user", 1, ("unknown-user", "user:a"))
    assert (other.code, other.count, other.key) == ("unknown-user", 3, None)
    assert other.cause == (
        "3 more unknown-user issues (not grouped: the archive has more than 1,000 distinct "
        "problems)"
    )
