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

from archivekit.check.causes import CauseKey, CauseTally, Runs, cause_key, line_type
from archivekit.issues import DROPS_DATA, FAILS_IMPORT, Issue, Severity, error, warning
from archivekit.report.model import Report
from archivekit.report.render import report_json, report_text
from archivekit.testing.fuzz import ArchiveRecipe, MutatedArchive, RecordMutation, record_mutations
from archivekit.testing.synth import (
    LONG_MESSAGE_RUNES,
    channel,
    converter_export,
    iter_lines,
    make_archive,
    post,
    team,
    user,
)
from archivekit.validate import validate

GOLDEN = Path(__file__).resolve().parent / "golden" / "converter"
# The first screen: the first 15 lines of the text report at 100 columns.
FIRST_SCREEN = 15
COLUMNS = 100

# Converter-shaped archives: each adds one problem to mmetl's shape (no team line); the last
# has all of them, with enough names to fill a screen had each name been its own problem.
SHAPES: dict[str, dict[str, Any]] = {
    "no-team-line": {},
    "missing-emails": {"missing_emails": 3},
    "long-message": {"long_messages": 1},
    "group-of-nine": {"group_of": 9},
    "uppercase-users": {"users": 30, "uppercase_users": 12},
    "deleted-users": {"users": 30, "deleted_users": 8},
    "reply-attachments": {"missing_files": 2, "reply_attachments": 2},
    "all-of-them": {
        "users": 30,
        "missing_emails": 2,
        "long_messages": 1,
        "group_of": 9,
        "uppercase_users": 12,
        "deleted_users": 8,
        "missing_files": 2,
        "reply_attachments": 2,
    },
}
# The problems each archive has, in the order to fix them: (code, issues, parts).
EXPECTED: dict[str, list[tuple[str, int, int]]] = {
    "no-team-line": [("unknown-team", 60, 0)],
    "missing-emails": [("unknown-team", 60, 0), ("missing-field", 3, 0)],
    "long-message": [("unknown-team", 60, 0), ("invalid-field", 1, 0)],
    # The group's post stops the import and its direct channel line is skipped: one problem.
    "group-of-nine": [("unknown-team", 60, 0), ("invalid-field", 2, 2)],
    # Ten of the twelve mixed-case users are referenced: one problem, ten names.
    "uppercase-users": [("unknown-team", 75, 0), ("reference-case", 39, 10)],
    "deleted-users": [("unknown-team", 67, 0), ("unknown-user", 88, 8)],
    # The posts' missing files and the replies' files dropped after them: one problem.
    "reply-attachments": [("unknown-team", 60, 0), ("attachment-missing", 4, 2)],
    "all-of-them": [
        ("unknown-team", 67, 0),
        ("unknown-user", 69, 8),
        ("reference-case", 39, 10),
        ("missing-field", 2, 0),
        ("invalid-field", 2, 2),
        ("invalid-field", 1, 0),
        ("attachment-missing", 4, 2),
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


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces as one space (a wrapped text unwrapped)."""
    return " ".join(text.split())


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
    screen = report_text(report, width=COLUMNS).splitlines()[:FIRST_SCREEN]
    assert all(len(line) <= COLUMNS for line in screen), screen
    assert screen[1].startswith(f"summary: INVALID — {len(report.causes)} problem")
    assert ": 1 stops the import" in screen[1] or ": 1–" in screen[1]
    shown = flat("\n".join(screen))
    for number, cause in enumerate(report.causes, 1):
        line = f"{number}. {flat(cause.cause)}"
        assert line in shown, f"problem {number} ({cause.code}) is not on the first screen"
        assert f"— fix: {flat(cause.fix)}" in shown, f"the fix of problem {number} is not"
    # The converter's shape, said in the problem it explains, with the option to use.
    assert "1. team 'myteam' is referenced by" in shown
    assert "defined by none (a converter's output) — fix: pass --existing-team myteam" in shown


def test_the_first_screen_of_thirty_users_with_every_problem(
    converted: dict[str, Report],
) -> None:
    # Twelve mixed-case users (ten referenced) and eight users left out: two problems, not
    # eighteen, and every other problem still on the first screen, with its fix.
    screen = report_text(converted["all-of-them"]).splitlines()[:FIRST_SCREEN]
    assert screen == [
        "archive: all-of-them.zip (import.jsonl, 84 lines)",
        "summary: INVALID — 7 problems (184 errors): 1–6 stop the import, 7 loses data; fix 1 "
        "first",
        "  1. team 'myteam' is referenced by 67 lines (2–68) and defined by none (a converter's "
        "output) —",
        "     fix: pass --existing-team myteam if the target has it, or add a team line before "
        "line 2.",
        "  2. 8 users are referenced by 37 lines (30–83) but defined nowhere: 'niaj.jones', "
        "'rupert.miller'",
        "     and 6 more (left out: deleted users, or a partial export) — fix: add their user "
        "lines, or pass",
        "     --existing-user for each the target has.",
        "  3. 10 usernames are referenced in mixed case by 25 lines (31–83): 'Walter.Moore', "
        "'Frank.Wilson'",
        "     and 8 more — fix: lowercase them at the source (the export or the converter).",
        "  4. 2 users have no email: 'alice.smith' (line 7), 'bob.jones' (line 8) — fix: give "
        "each an email.",
        "  5. conversations of more than 8 users: 1 direct post stops the import, 1 direct "
        "channel line is",
        "     skipped — fix: make each a private channel, or leave members out.",
        "  6. 1 message has 20,725 characters, over MaxPostSize (16,383) — fix: split it into "
        "several posts.",
        "  7. 2 attachments are not in the archive, and the server drops 2 reply attachments "
        "after them —",
        "     fix: add each file at data/<its JSONL path>, or remove the reference.",
    ]


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_converter_problem_is_one_cause(name: str, converted: dict[str, Report]) -> None:
    causes = converted[name].causes
    assert [(c.code, c.count, len(c.parts)) for c in causes] == EXPECTED[name]


def test_the_causes_say_what_and_where(converted: dict[str, Report]) -> None:
    causes = converted["all-of-them"].causes
    team_cause = causes[0]
    assert team_cause.cause == (
        "team 'myteam' is referenced by 67 lines (2–68) and defined by none"
    )
    assert team_cause.where == "channels 2–6, users 7–28, posts 29–68"
    assert team_cause.fix == (
        "pass --existing-team myteam if the target has it, or add a team line before line 2"
    )
    emails = next(c for c in causes if c.code == "missing-field")
    assert emails.cause == "2 users have no email: 'alice.smith' (line 7), 'bob.jones' (line 8)"
    assert "Slack exports omit the emails of bots and deleted users" in (emails.note or "")
    assert "--default-email-domain" in (emails.note or "")
    long = next(c for c in causes if "MaxPostSize" in c.cause)
    assert f"1 message has {LONG_MESSAGE_RUNES:,} characters" in long.cause
    assert "not a config setting" in (long.note or "")
    case = next(c for c in causes if c.code == "reference-case")
    assert case.repair == "lowercase-references"
    assert "at the source (the export or the converter)" in case.fix
    assert [part.label for part in case.parts][:2] == ["'Walter.Moore'", "'Frank.Wilson'"]
    files = causes[-1]
    assert "all are under data/bulk-export-attachments/" in (files.note or "")


def test_many_names_with_one_fix_are_one_problem_listing_them(
    converted: dict[str, Report],
) -> None:
    report = converted["all-of-them"]
    left_out = next(c for c in report.causes if c.code == "unknown-user")
    assert left_out.cause.startswith(
        "8 users are referenced by 37 lines (30–83) but defined nowhere: 'niaj.jones', "
        "'rupert.miller' and 6 more"
    )
    assert left_out.fix == "add their user lines, or pass --existing-user for each the target has"
    # Each name is a part, with its own lines; the problem adds them up.
    assert len({part.key for part in left_out.parts}) == 8
    assert left_out.count == sum(part.count for part in left_out.parts)
    assert left_out.key == CauseKey("unknown-user", "user:*")
    # The shape says why: users left out of the export.
    shape = next(s for s in report.shapes if s.shape == "users-left-out")
    assert shape.code == "unknown-user"
    assert shape.message.startswith("The archive defines 22 users, but the lines name 8 more")
    assert "deleted or deactivated users dropped from the export, or a partial export" in (
        shape.message
    )
    details = flat(report_text(report))
    assert "'niaj.jones': 19 errors on posts 30, 37, 39, 45, 49, 63, 67," in details


def test_two_effects_of_one_cause_are_one_problem(converted: dict[str, Report]) -> None:
    group = converted["group-of-nine"].causes[1]
    assert group.cause == (
        "conversations of more than 8 users: 1 direct post stops the import, 1 direct channel "
        "line is skipped"
    )
    assert [(p.code, p.effect) for p in group.parts] == [
        ("invalid-field", "fails-import"),
        ("direct-channel-skipped", "drops-data"),
    ]
    files = converted["reply-attachments"].causes[1]
    assert files.cause == (
        "2 attachments are not in the archive, and the server drops 2 reply attachments after them"
    )
    assert [p.code for p in files.parts] == ["attachment-missing", "attachment-dropped"]
    assert "their files are in the archive" in files.parts[1].cause
    # The summary counts problems, not effects.
    assert report_text(converted["reply-attachments"]).splitlines()[1] == (
        "summary: INVALID — 2 problems (64 errors): 1 stops the import, 2 loses data; fix 1 first"
    )


def test_the_files_line_counts_dropped_files_once(converted: dict[str, Report]) -> None:
    # The replies' files are in the zip and referenced: dropped by the server, neither
    # missing nor unreferenced.
    report = converted["reply-attachments"]
    assert report.attachments.to_dict() == {
        "referenced": 6,
        "bytes": report.attachments.bytes,
        "missing": 2,
        "dropped": 2,
        "unreferenced": 0,
        "unreferenced_bytes": 0,
    }
    text = report_text(report, width=None)
    assert "files:   6 referenced (" in text
    assert "), 2 missing, 2 dropped by the server (reply attachments after a failed one), 0 " in (
        text
    )
    assert "attachment-unreferenced" not in report.issue_counts


def test_the_json_causes_are_the_issues_grouped(converted: dict[str, Report]) -> None:
    import orjson

    document = orjson.loads(report_json(converted["all-of-them"]))
    issues = document["issues"]
    causes = document["causes"]
    assert (
        sum(c["count"] for c in causes) == len(issues) == document["errors"] + document["warnings"]
    )
    for cause in causes:
        assert {"cause", "code", "count", "lines", "where", "fix", "parts"} <= set(cause)
        for part in cause["parts"] or [cause]:
            mine = [i for i in issues if i["code"] == part["code"]]
            lines = {i["line"] for i in mine if i["line"] is not None}
            for runs in part["lines"].values():
                for start, end in runs:
                    assert set(range(start, end + 1)) <= lines
        if cause["parts"]:
            assert cause["count"] == sum(p["count"] for p in cause["parts"])
    assert [s["shape"] for s in document["shapes"]] == ["no-team-lines", "users-left-out"]
    assert document["shapes"][0]["reason"] == "a converter's output"


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


def test_a_valid_archive_has_no_shape_and_no_cause(tmp_path: Path) -> None:
    report = validate(converter_export(tmp_path / "a.zip"), existing=_team())
    assert (report.shapes, report.causes) == ([], [])
    assert report_text(report, width=None).splitlines()[1] == "summary: VALID — no problems found"


def _team(name: str = "myteam") -> Any:
    from archivekit.check.references import Existing

    return Existing(teams=frozenset({name}))


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


# --- the text report --------------------------------------------------------------------------


def test_the_summary_never_hides_another_code_behind_the_cap(
    converted: dict[str, Report],
) -> None:
    from archivekit.report.causes import root_causes
    from archivekit.report.render import CAUSES_AT_TOP

    tally = CauseTally()
    line = 2
    for n in range(CAUSES_AT_TOP + 1):  # eleven problems of one code, the most lines first
        for _ in range(20 - n):
            tally.add(error("invalid-field", "m", field="post.props", server_error_id=f"id{n}")
                      .at("j", line))  # fmt: skip
            line += 1
    tally.add(warning("duplicate-user", "w", field="user.username").at("j", line))
    report = dataclasses.replace(converted["no-team-line"], causes=root_causes(tally), shapes=[])
    text = flat(report_text(report))
    summary = text.split("the problems in detail")[0]
    assert summary.count("— fix:") == CAUSES_AT_TOP + 1  # problems 1-10 and 12
    assert (
        f"12. Duplicate user (user.username) on line {line} — fix: keep one line per name" in text
    )
    assert " 11. " not in summary
    assert (
        "… and 1 more problem of the codes above (11: 1 invalid-field), in the details below"
        in (text)
    )
    # In the details, the problem the summary left out says what it is and its fix.
    assert "11. [stops the import] invalid-field: 10 errors on posts" in text
    assert "10 posts have props the server refuses — fix: correct post.props on these lines" in text


def test_lines_not_kept_are_not_promised_to_verbose(tmp_path: Path) -> None:
    path = converter_export(tmp_path / "a.zip")
    capped = validate(path, max_issues=3)
    text = flat(report_text(capped))
    assert (
        "… and 57 more (not kept: rerun with --max-issues 0 to keep them all, --format jsonl "
        "for one a line)"
    ) in text
    assert "--verbose lists" not in text
    assert "… and 57 more (not kept:" in flat(report_text(capped, verbose=True))
    some = validate(path, max_issues=10)
    assert "… and 57 more (--verbose lists 7; 50 not kept: rerun with --max-issues 0" in flat(
        report_text(some)
    )
    assert "… and 57 more (--verbose lists them)" in report_text(validate(path))


def test_a_generic_problem_has_one_fix_for_all_and_names_its_subjects(tmp_path: Path) -> None:
    lines = [
        team("eng"),
        user("alice", ["eng"], email="bad-email"),
        user("bob", ["eng"], email=" bob@x.com"),
        user("carol", ["eng"], email="<carol@x.com>"),
    ]
    report = validate(make_archive(tmp_path / "a.zip", lines))
    (cause,) = report.causes
    assert cause.cause == (
        "3 users have an email the server refuses: 'alice' (line 3: 'bad-email'), 'bob' "
        "(line 4: ' bob@x.com') and 1 more"
    )
    assert cause.fix == (
        "correct user.email on these lines (the details give the rule the server applies when "
        "it saves each)"
    )
    assert all(issue.message not in cause.fix for issue in report.issues)
    assert [n.name for n in cause.names] == ["alice", "bob", "carol"]


def test_a_bare_jsonl_gets_the_fix_not_the_message(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a.zip", [team("eng")])
    jsonl = tmp_path / "import.jsonl"
    with zipfile.ZipFile(archive) as zf:
        jsonl.write_bytes(zf.read("import.jsonl"))
    (cause,) = validate(jsonl).causes
    assert cause.fix == "zip it with its data folder: zip -r import.zip import.jsonl data"
    assert cause.cause.startswith("the archive is a bare JSONL, not a zip")


def test_the_text_names_the_fix_repair_where_it_removes_the_problem(
    converted: dict[str, Report],
) -> None:
    report = converted["uppercase-users"]
    case = report.causes[1]
    assert case.repair == "lowercase-references"
    assert case.fixed_by == "lowercase-references"
    assert case.to_dict()["fixed_by"] == "lowercase-references"
    assert "repair: `archivekit fix` does this (lowercase-references)." in report_text(report)
    # Users defined nowhere: lowercasing alone would not make them import.
    missing = next(c for c in converted["all-of-them"].causes if c.code == "unknown-user")
    assert missing.fixed_by is None


def test_the_html_report_says_which_problems_fix_repairs(tmp_path: Path) -> None:
    from archivekit.triage import triage_html

    page = triage_html(converter_export(tmp_path / "a.zip", uppercase_users=2))
    assert "usernames are referenced in mixed case" in page
    assert "<code>archivekit fix</code> does this (lowercase-references)" in page


def test_the_text_report_is_wrapped_with_hanging_indents(converted: dict[str, Report]) -> None:
    report = converted["all-of-them"]
    for width in (100, 72):
        lines = report_text(report, verbose=True, width=width).splitlines()
        assert all(len(line) <= width or " " not in line.strip() for line in lines)
    # Continuation lines of a problem hang under its text, past its number.
    wrapped = report_text(report, width=72).splitlines()
    first = wrapped.index(next(line for line in wrapped if line.startswith("  1. ")))
    assert wrapped[first + 1].startswith("     ")
    assert not wrapped[first + 1][5].isspace()
    # Unwrapped, every problem is one line.
    unwrapped = report_text(report, width=None).splitlines()
    assert sum(1 for line in unwrapped if line[:5].strip().rstrip(".").isdigit()) >= 7


def test_a_warning_is_titled_as_a_warning(tmp_path: Path) -> None:
    lines = [team("Eng"), channel("eng", "town-square")]
    (cause,) = validate(make_archive(tmp_path / "a.zip", lines)).causes
    assert cause.severity is Severity.WARNING
    assert cause.cause == (
        "1 team name has uppercase letters: 'Eng' (line 2); current servers save it lowercased, "
        "older ones refuse it"
    )
    assert "Fails" not in cause.cause


def test_duplicate_posts_are_located_as_posts(tmp_path: Path) -> None:
    lines = [
        team("eng"),
        user("alice", ["eng"]),
        *[post("eng", "town-square", "alice", "hi", 1_700_000_000_000) for _ in range(3)],
    ]
    (cause,) = validate(make_archive(tmp_path / "a.zip", lines)).causes
    assert (cause.code, cause.where) == ("duplicate-post", "posts 5–6")


# --- the tally: exact, bounded, and the same however the issues are batched --------------------


def test_an_undefined_mixed_case_team_is_named_as_written_with_both_fixes(
    tmp_path: Path,
) -> None:
    path = converter_export(tmp_path / "a.zip", team="Acme-Corp")
    report = validate(path)
    assert [(c.code, c.count) for c in report.causes] == [("unknown-team", 60)]
    (cause,) = report.causes
    assert "stored as" not in cause.cause
    # As the archive writes it; the summary's fix says both what to pass and what to lowercase.
    assert cause.cause == "team 'Acme-Corp' is referenced by 60 lines (2–61) and defined by none"
    assert cause.fix == (
        "pass --existing-team acme-corp if the target has it, or add a team line before line 2; "
        "either way, 55 references write it 'Acme-Corp', which the server looks up exactly: make "
        "them say 'acme-corp' at the source (the export or the converter)"
    )
    assert f"— fix: {cause.fix}." in flat(report_text(report))
    assert "'Acme-Corp'" in report.shapes[0].message
    assert "lowercase the references too" in report.shapes[0].message
    # What the next run, with the team declared, finds is what that fix announced.
    again = validate(path, existing=_team("acme-corp"))
    assert [(c.code, c.count) for c in again.causes] == [("reference-case", 55)]


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
    assert cause.cause == "team 'eng' is used by 2 lines (2–3) before line 4 defines it"
    assert cause.where == "user 2, post 3"
    assert cause.fix.startswith("move line 4 (the team line) before line 2")


def test_a_mixed_case_reference_defined_later_is_named_as_written(tmp_path: Path) -> None:
    lines = [
        user("alice", ["eng"]),
        post("Eng", "town-square", "alice", "hi", 1_700_000_000_000),
        team("eng"),
    ]
    report = validate(make_archive(tmp_path / "a.zip", lines))
    (later,) = [i for i in report.issues if i.code == "defined-later" and i.line == 3]
    assert later.message.startswith("team 'Eng' is only defined on line 4, after this line")
    assert "once it exists the reference must say 'eng'" in later.message
    (cause,) = [c for c in report.causes if c.code == "defined-later"]
    # One fix is offered (move the line), so the lowercase one comes "also", not "either way".
    assert "; also, 1 reference writes it 'Eng'" in cause.fix
    assert "either way" not in cause.fix


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
    leaves = [part for cause in full.causes for part in cause.leaves()]
    assert {c.key: c.count for c in leaves} == dict(keys)
    for cause in leaves:
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
    (problem,) = root_causes(tally)  # one problem: the same code and kind, the same fix
    other, first = problem.parts  # the most issues first
    assert (first.code, first.count, first.key) == (
        "unknown-user",
        1,
        CauseKey("unknown-user", "user", "a"),
    )
    assert (other.code, other.count, other.key) == ("unknown-user", 3, None)
    assert problem.count == 4
    assert problem.cause == (
        "1 user is referenced by at least 1 line (2–…) but defined nowhere: 'a', and 3 "
        "references to further ones (past 1,000 problems, the names are not kept)"
    )


# --- review of issue 16: fixes for every code, distinct lines, one problem per fix -------------


def test_every_catalogued_code_has_a_real_fix() -> None:
    from archivekit.issues import CODES
    from archivekit.report.causes import FIXES, NO_FIX, root_causes

    assert set(FIXES) == set(CODES)
    for code in CODES:
        for issue in (
            error(code, "m", field="post.message").at("import.jsonl", 5),
            error(code, "m").at("import.jsonl", None),
        ):
            tally = CauseTally()
            tally.add(issue)
            (cause,) = root_causes(tally)
            assert cause.fix not in ("", NO_FIX), code
            assert "as the details say" not in cause.fix, code
            assert "{" not in cause.fix.replace('{"type"', ""), (code, cause.fix)
            assert " 1 issue" not in cause.cause, cause.cause
            assert " 1 lines" not in cause.cause, cause.cause


def test_an_archive_level_problem_is_worded_for_its_member(tmp_path: Path) -> None:
    path = make_archive(tmp_path / "empty.zip", [], version_line=False)
    (cause,) = validate(path).causes
    assert cause.cause == "Empty JSONL: 'import.jsonl'"
    assert cause.fix == "export again: the JSONL has no line to import"


def test_a_problem_counts_the_lines_its_parts_share_once(tmp_path: Path) -> None:
    from archivekit.report.causes import distinct_lines
    from archivekit.report.html import verdict

    # Two unknown users on the same two posts: 4 issues on 2 lines, not 4.
    lines = [team("eng"), channel("eng", "general"), user("alice", {"eng": ["general"]})]
    lines += [
        post("eng", "general", name, "hi", 1_700_000_000_000 + n, flagged_by=[other])
        for n, (name, other) in enumerate([("ghost", "phantom"), ("ghost", "phantom")])
    ]
    report = validate(make_archive(tmp_path / "a.zip", lines))
    (problem,) = report.causes
    assert (problem.code, problem.count, len(problem.parts)) == ("unknown-user", 4, 2)
    assert problem.line_count == 2
    assert distinct_lines(problem.parts) == (2, True)
    assert "referenced by 2 lines (5–6)" in problem.cause
    _, _, sentences = verdict(report)
    assert sentences[0].startswith("1 distinct problem (4 issues on 2 lines)")


def test_the_order_counts_distinct_lines_not_issues() -> None:
    from archivekit.report.causes import root_causes

    tally = CauseTally()
    for n in range(4):  # two users, both on each of lines 2-5: 8 issues on 4 lines
        for name in ("a", "b"):
            values = {"kind": "user", "name": name, "key": name}
            tally.add(error("unknown-user", "m", field="post.user", values=values).at("j", n + 2))
    for n in range(5):  # one team on lines 10-14: 5 issues on 5 lines
        values = {"kind": "team", "name": "t", "key": "t"}
        tally.add(error("unknown-team", "m", field="post.team", values=values).at("j", n + 10))
    first, second = root_causes(tally)
    assert (first.code, first.line_count) == ("unknown-team", 5)
    assert (second.code, second.count, second.line_count) == ("unknown-user", 8, 4)


def test_names_in_the_wrong_case_of_any_kind_are_one_problem(tmp_path: Path) -> None:
    lines = [
        team("eng"),
        channel("eng", "town-square"),
        user("alice", ["Eng"]),
        post("eng", "Town-Square", "alice", "hi", 1_700_000_000_000),
    ]
    report = validate(make_archive(tmp_path / "a.zip", lines))
    (problem,) = [c for c in report.causes if c.code == "reference-case"]
    assert problem.cause.startswith(
        "2 names are referenced in mixed case by 2 lines (4–5): team 'Eng', channel "
        "'eng/Town-Square'"
    )
    assert [p.label for p in problem.parts] == ["team 'Eng'", "channel 'eng/Town-Square'"]
    assert dict(problem.values)["kind"] == "*"


def test_a_data_prefixed_path_and_its_file_are_one_problem(tmp_path: Path) -> None:
    lines = [
        team("eng"),
        channel("eng", "general"),
        user("alice", {"eng": ["general"]}),
        post("eng", "general", "alice", "hi", 1_700_000_000_000, attachments=["data/a/r.csv"]),
    ]
    report = validate(make_archive(tmp_path / "a.zip", lines, {"data/a/r.csv": b"x"}))
    (problem,) = report.causes  # the file is not also "unreferenced"
    assert problem.code == "attachment-data-prefix"
    assert "its file is in the archive: only the path is wrong" in problem.cause
    stats = report.attachments
    assert (stats.missing, stats.unreferenced) == (1, 0)
    assert "1 missing (1 in the archive, named with a data/ prefix), 0 unreferenced" in flat(
        report_text(report)
    )


def test_a_line_of_the_wrong_json_type_names_its_subject(tmp_path: Path) -> None:
    lines = [team("sales", allow_open_invite="yes")]
    report = validate(make_archive(tmp_path / "a.zip", lines))
    (cause,) = report.causes
    assert cause.code == "json-type"
    assert cause.cause == (
        "1 team has an allow_open_invite of the wrong JSON type: 'sales' (line 2)"
    )
    assert report.issues[0].values["subject"] == "sales"


def test_the_summary_says_which_problem_to_fix_first(converted: dict[str, Report]) -> None:
    summary = report_text(converted["missing-emails"]).splitlines()[1]
    assert summary.endswith("; fix 1 first")
    assert "fix 1 first" not in report_text(converted["no-team-line"]).splitlines()[1]


def test_the_html_limits_never_call_max_post_size_a_setting(tmp_path: Path) -> None:
    from archivekit.triage import triage_html

    page = triage_html(converter_export(tmp_path / "a.zip", long_messages=1))
    assert "these are the settings it needs changed" not in page
    assert "Limits no setting changes: the archive must fit them." in page
    assert "posts.message column" in page


def test_the_text_report_shows_control_characters_escaped(tmp_path: Path) -> None:
    # A NUL or an ESC in a value (here a username, shown beside its line) never reaches the
    # text report raw: it would cut a ticket or drive the terminal. Escaped as JSON does.
    lines = [
        team("eng"),
        channel("eng", "dev"),
        user("bo\x00b\x1b", {"eng": ["dev"]}),
    ]
    report = validate(make_archive(tmp_path / "in.zip", lines), max_issues=None)
    assert "nul-character" in report.issue_counts
    text = report_text(report)
    assert not any(ch in text for ch in "\x00\x1b\x9b")
    assert "bo\\u0000b\\u001b" in text
    assert all(line.isprintable() for line in text.splitlines())


# --- memory of unresolved references ------------------------------------------------------------

# Long targets: a channel key past `SHORT_KEY` characters (team/channel), a long undefined team.
_LONG_TEAM = "engineering-and-product-" + "t" * 46
_LONG_CHANNEL = "release-planning-and-retrospectives-" + "c" * 24


def _long_references() -> list[Any]:
    """Posts naming long targets that later lines define (some several times, some never)."""
    at = itertools.count(1_700_000_000_000)
    lines: list[Any] = [team("eng"), user("alice", ["eng"])]
    for n in range(6):
        lines.append(post("eng", f"{_LONG_CHANNEL}-{n % 3}", "alice", "hi", next(at)))
        lines.append(post(f"{_LONG_TEAM}-{n % 2}", "town-square", "alice", "hi", next(at)))
        lines.append(post("eng", f"{_LONG_CHANNEL}-never", "alice", "hi", next(at)))
    lines += [channel("eng", f"{_LONG_CHANNEL}-{n}") for n in range(3)]
    lines.append(team(f"{_LONG_TEAM}-1"))
    return lines


@pytest.mark.parametrize(("workers", "max_issues"), [(1, None), (1, 4), (2, 4)])
def test_long_targets_wait_by_digest_with_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int, max_issues: int | None
) -> None:
    """A pending target past SHORT_KEY is kept by a digest of its key: the issues that waited
    for it (kept, left out by the cap or by a worker) turn "defined-later" exactly as when
    the collector keeps the key itself."""
    import archivekit.report.model as model

    archive = make_archive(tmp_path / "a.zip", _long_references())
    assert min(len(f"eng/{_LONG_CHANNEL}-0"), len(_LONG_TEAM)) > model.SHORT_KEY
    run: dict[str, Any] = {"workers": workers, "block_size": 1024, "max_issues": max_issues}
    by_digest = validate(archive, **run).to_dict()
    assert by_digest["issue_counts"]["defined-later"] == 9  # 6 channel posts, 3 team posts
    monkeypatch.setattr(model, "SHORT_KEY", 10**9)
    assert validate(archive, **run).to_dict() == by_digest


def test_undefined_long_names_cost_a_fixed_amount_each() -> None:
    """Memory per undefined target does not grow with its name: past the root causes' cap
    (each keeps its name once, for the report), 2,000 more distinct 20 kB names (40 MB) keep
    ~0.3 kB each (the pending digest), not 20 kB (the name) or more."""
    import tracemalloc

    from archivekit.check.causes import MAX_CAUSES
    from archivekit.check.references import POST_CHANNEL_NOT_FOUND, References
    from archivekit.report.model import IssueCollector

    refs, collector = References(), IssueCollector(max_issues=5)
    refs.define_team("eng", 2)
    size = 20_000

    def reference(n: int) -> None:
        name = f"{n:08d}".ljust(size, "x")
        reported = refs.ref_channel("eng", name, "post.channel", server_id=POST_CHANNEL_NOT_FOUND)
        assert reported is not None
        issue, target = reported
        collector.add(issue.at("import.jsonl", n + 3), target)

    tracemalloc.start()
    try:
        for n in range(MAX_CAUSES):
            reference(n)
        causes_held, _ = tracemalloc.get_traced_memory()
        for n in range(MAX_CAUSES, MAX_CAUSES + 2_000):
            reference(n)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(collector.causes.causes) == MAX_CAUSES
    assert collector.by_code["unknown-channel"] == MAX_CAUSES + 2_000
    # One copy of each name per cause (was four: name, key, message, cause key) ...
    assert causes_held < 1.3 * MAX_CAUSES * size
    # ... and a few hundred bytes per further name (was one copy of it: 20 kB).
    assert (held - causes_held) / 2_000 < 500
