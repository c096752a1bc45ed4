"""The `archivekit` command through click's CliRunner: exit codes, output formats and their
contract with the library, stdout/stderr discipline, and the target configuration sources."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from archivekit.check.facts import COUNT_KEYS
from archivekit.cli import cli
from archivekit.inspect import inspect
from archivekit.report.render import report_text
from archivekit.testing.synth import ZipMember, channel, post, team, user, write_zip
from archivekit.validate import validate

Build = Callable[..., Path]

REPORT_KEYS = [
    "archive",
    "valid",
    "jsonl",
    "lines",
    "counts",
    "attachment_stats",
    "errors",
    "warnings",
    "issue_counts",
    "shapes",
    "causes",
    "issues",
    "truncated",
    "limits",
    "what_to_change",
    "revert",
    "upload_seconds",
    "target_explicit",
]
ISSUE_KEYS = [
    "severity",
    "code",
    "message",
    "member",
    "line",
    "field",
    "server_error_id",
    "effect",
    "values",
]
T = 1_700_000_000_000


@pytest.fixture(autouse=True)
def no_server_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """MM_* variables of the machine running the tests must not change the target."""
    for name in list(os.environ):
        if name.upper().startswith("MM_"):
            monkeypatch.delenv(name)


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def valid_zip(build: Build) -> Path:
    return build([team("eng"), user("alice", ["eng"]), user("bob", ["eng"])], name="valid.zip")


@pytest.fixture
def invalid_zip(build: Build) -> Path:
    return build(
        [
            team("eng"),
            team("eng"),  # warning
            user("alice", ["eng"]),
            post("eng", "town-square", "mallory", "who?", T),  # error
            channel("ghost", "general"),  # error
        ],
        name="invalid.zip",
    )


# --- exit codes --------------------------------------------------------------------------------


def test_a_valid_archive_exits_0(valid_zip: Path) -> None:
    result = run("validate", str(valid_zip))
    assert result.exit_code == 0
    assert "result:  VALID — 0 error(s), 0 warning(s)" in result.stdout


def test_an_archive_with_errors_exits_1(invalid_zip: Path) -> None:
    result = run("validate", str(invalid_zip))
    assert result.exit_code == 1
    assert "result:  INVALID — 2 error(s), 1 warning(s)" in result.stdout


def test_warnings_alone_exit_0(build: Build) -> None:
    result = run("validate", str(build([team("eng"), team("eng")])))
    assert result.exit_code == 0
    assert "summary: VALID — 1 problem (1 warning): 1 is a warning" in result.stdout
    assert "  1. Duplicate team (team.name): 'eng' (line 3) — fix:" in result.stdout


def test_an_unknown_option_exits_2(valid_zip: Path) -> None:
    result = run("validate", "--no-such-option", str(valid_zip))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "No such option" in result.stderr


def test_an_unknown_format_exits_2(valid_zip: Path) -> None:
    assert run("validate", "--format", "xml", str(valid_zip)).exit_code == 2


def test_a_target_config_that_is_not_json_exits_2(valid_zip: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"TeamSettings": {')
    result = run("validate", "--target-config", str(config), str(valid_zip))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "not valid JSON" in result.stderr


def test_a_missing_target_config_exits_2(valid_zip: Path, tmp_path: Path) -> None:
    result = run("validate", "--target-config", str(tmp_path / "nope.json"), str(valid_zip))
    assert result.exit_code == 2
    assert "nope.json" in result.stderr


def test_not_a_zip_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(b"this is not a zip archive at all")
    result = run("validate", str(path))
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith("archivekit: ")
    assert "Traceback" not in result.stderr


def test_a_truncated_zip_exits_3(valid_zip: Path, tmp_path: Path) -> None:
    half = tmp_path / "half.zip"
    half.write_bytes(valid_zip.read_bytes()[: valid_zip.stat().st_size // 2])
    result = run("validate", str(half))
    assert result.exit_code == 3
    assert "ends early" in result.stderr


def test_a_zip_without_jsonl_exits_3(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "export.zip", [ZipMember("data/a.png", b"x")])
    result = run("validate", str(path))
    assert result.exit_code == 3
    assert "No .jsonl file at the root" in result.stderr


# --- output formats ----------------------------------------------------------------------------


def test_json_is_one_document_with_the_contract_keys(invalid_zip: Path) -> None:
    result = run("validate", "--format", "json", str(invalid_zip))
    assert result.exit_code == 1
    document = json.loads(result.stdout)  # one document: json.loads refuses trailing data
    assert list(document) == REPORT_KEYS
    assert document["archive"] == str(invalid_zip)
    assert document["valid"] is False
    assert list(document["counts"]) == list(COUNT_KEYS)
    assert len(COUNT_KEYS) == 13
    assert document["truncated"] is False
    assert [list(issue) for issue in document["issues"]] == [ISSUE_KEYS] * 3
    assert [(i["code"], i["line"], i["field"]) for i in document["issues"]] == [
        ("duplicate-team", 3, "team.name"),
        ("unknown-user", 5, "post.user"),
        ("unknown-team", 6, "channel.team"),
    ]
    # Values beside the text: what tables and root-cause grouping use, never the message.
    assert [i["values"] for i in document["issues"]] == [
        {"kind": "team", "name": "eng", "first_line": 2},
        {"kind": "user", "name": "mallory", "key": "mallory"},
        {"kind": "team", "name": "ghost", "key": "ghost"},
    ]
    # The same issues grouped by root cause, in the order to fix them.
    assert [(c["code"], c["count"], c["lines"], c["values"]) for c in document["causes"]] == [
        ("unknown-user", 1, {"post": [[5, 5]]}, {"kind": "user", "key": "mallory"}),
        ("unknown-team", 1, {"channel": [[6, 6]]}, {"kind": "team", "key": "ghost"}),
        ("duplicate-team", 1, {"team": [[3, 3]]}, {"kind": "team"}),
    ]
    assert document["causes"][0]["fix"] == (
        "pass --existing-user mallory if the target has it, or add a user line before line 5"
    )


def test_json_equals_the_library_report(invalid_zip: Path) -> None:
    result = run("validate", "--format", "json", str(invalid_zip))
    assert json.loads(result.stdout) == validate(invalid_zip).to_dict()


def test_jsonl_is_one_issue_per_line_then_a_summary(invalid_zip: Path) -> None:
    result = run("validate", "--format", "jsonl", str(invalid_zip))
    assert result.exit_code == 1
    assert result.stdout.endswith("\n")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    library = validate(invalid_zip).to_dict()
    assert [r["type"] for r in records] == ["issue"] * 3 + ["cause"] * 3 + ["summary"]
    assert [{k: v for k, v in r.items() if k != "type"} for r in records[:3]] == library["issues"]
    assert [{k: v for k, v in r.items() if k != "type"} for r in records[3:-1]] == library["causes"]
    summary = records[-1]
    assert list(summary) == ["type"] + [k for k in REPORT_KEYS if k not in ("issues", "causes")]
    assert summary["valid"] is False
    assert summary["issue_counts"] == library["issue_counts"]


def test_text_has_the_causes_the_issues_and_the_summary(invalid_zip: Path) -> None:
    text = run("validate", str(invalid_zip)).stdout
    lines = text.splitlines()
    # Not on a terminal: wrapped at 100 columns, continuation lines hanging.
    assert all(len(line) <= 100 for line in lines if " " in line.strip())
    unwrapped = report_text(validate(invalid_zip), width=None)
    assert unwrapped.startswith(
        f"archive: {invalid_zip} (import.jsonl, 6 lines)\n"
        "summary: INVALID — 3 problems (2 errors, 1 warning): 1–2 stop the import, 3 is a "
        "warning; fix 1 first\n"
        "  1. user 'mallory' is referenced by line 5 and defined by none — fix: pass "
        "--existing-user mallory if the target has it, or add a user line before line 5.\n"
    )
    assert "  1. [stops the import] unknown-user: 1 error on post 5\n" in unwrapped
    assert "     line 5  post.user: user 'mallory' is not defined" in unwrapped
    assert "counts:  teams 2, channels 1, users 1, bots 0," in text
    assert "files:   0 referenced (0 B), 0 missing, 0 unreferenced (0 B)" in text
    assert text.endswith(
        "result:  INVALID — 2 error(s), 1 warning(s); the import would fail or lose data\n"
    )


def test_a_setting_that_is_no_config_key_has_none_in_its_help() -> None:
    text = " ".join(run("validate", "--help").stdout.split())
    assert "(config -" not in text
    assert "MaxPostSize from the client config. (default 16383)" in text
    assert "(config TeamSettings.MaxUsersPerTeam; default 50)" in text


def test_the_text_report_takes_the_terminals_width(monkeypatch: pytest.MonkeyPatch) -> None:
    from archivekit import cli as module

    class Terminal:
        def isatty(self) -> bool:
            return True

    # shutil is imported where the width is asked for (only on a terminal): patched at home.
    monkeypatch.setattr("shutil.get_terminal_size", lambda _=None: os.terminal_size((72, 24)))
    monkeypatch.setattr(module.sys, "stdout", Terminal())
    assert module._text_width(None) == 72
    assert module._text_width("report.txt") == 100  # a file: not the terminal's width


def test_stdout_has_only_data_when_not_on_a_terminal(invalid_zip: Path) -> None:
    result = run("validate", "--format", "json", str(invalid_zip))
    assert result.stderr == ""  # no progress indicator: stderr is not a terminal
    json.loads(result.stdout)


def test_forced_progress_goes_to_stderr_only(invalid_zip: Path) -> None:
    result = run("validate", "--progress", "--format", "json", str(invalid_zip))
    assert "reading JSONL" in result.stderr
    assert json.loads(result.stdout) == validate(invalid_zip).to_dict()


def test_max_issues_truncates_the_list_not_the_counts(invalid_zip: Path) -> None:
    result = run("validate", "--format", "json", "--max-issues", "1", str(invalid_zip))
    document = json.loads(result.stdout)
    assert len(document["issues"]) == 1
    assert document["truncated"] is True
    assert document["issue_counts"] == {"duplicate-team": 1, "unknown-team": 1, "unknown-user": 1}
    assert (document["errors"], document["warnings"]) == (2, 1)
    assert result.exit_code == 1


def test_max_issues_0_keeps_every_issue(build: Build) -> None:
    # 1,001 duplicate teams: one over the default cap of 1,000.
    archive = build([team("eng")] * 1002)
    default = json.loads(run("validate", "--format", "json", str(archive)).stdout)
    assert (len(default["issues"]), default["truncated"]) == (1000, True)
    unlimited = json.loads(
        run("validate", "--format", "json", "--max-issues", "0", str(archive)).stdout
    )
    assert (len(unlimited["issues"]), unlimited["truncated"]) == (1001, False)


def test_inspect_json_equals_the_library(invalid_zip: Path) -> None:
    result = run("inspect", "--format", "json", str(invalid_zip))
    assert result.exit_code == 0
    assert result.stderr == ""
    assert json.loads(result.stdout) == inspect(invalid_zip).to_dict()


def test_inspect_text_lists_teams(invalid_zip: Path) -> None:
    result = run("inspect", str(invalid_zip))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"archive: {invalid_zip} (zip, ")
    assert "\nghost " in result.stdout  # a team only referenced by a channel line is listed too


def test_inspect_of_not_a_zip_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(b"nope")
    assert run("inspect", str(path)).exit_code == 3


# --- the target server -------------------------------------------------------------------------


def _config(tmp_path: Path, max_users_per_team: int) -> Path:
    path = tmp_path / f"config-{max_users_per_team}.json"
    path.write_text(json.dumps({"TeamSettings": {"MaxUsersPerTeam": max_users_per_team}}))
    return path


def test_a_target_config_makes_limit_hits_errors(valid_zip: Path, tmp_path: Path) -> None:
    # valid_zip puts two users in team eng.
    at_limit = run("validate", "--target-config", str(_config(tmp_path, 2)), str(valid_zip))
    assert at_limit.exit_code == 0
    assert "limits:  all met (given target)" in at_limit.stdout

    over = run(
        "validate",
        "--format",
        "json",
        "--target-config",
        str(_config(tmp_path, 1)),
        str(valid_zip),
    )
    assert over.exit_code == 1
    document = json.loads(over.stdout)
    assert document["target_explicit"] is True
    assert [(i["code"], i["severity"], i["line"]) for i in document["issues"]] == [
        ("limit-exceeded", "error", 4)
    ]
    assert document["what_to_change"] == ["mmctl config set TeamSettings.MaxUsersPerTeam 2"]


def test_without_a_target_limit_hits_are_warnings(build: Build) -> None:
    users = [user(f"user{i}", ["eng"]) for i in range(51)]  # one over the default of 50
    result = run("validate", "--format", "json", str(build([team("eng"), *users])))
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert [(i["code"], i["severity"], i["line"]) for i in document["issues"]] == [
        ("limit-exceeded", "warning", 53)
    ]


def test_the_server_environment_variable_sets_the_target(valid_zip: Path) -> None:
    result = run("validate", str(valid_zip), env={"MM_TEAMSETTINGS_MAXUSERSPERTEAM": "1"})
    assert result.exit_code == 1
    assert "MaxUsersPerTeam is 1 (from MM_TEAMSETTINGS_MAXUSERSPERTEAM)" in result.stdout
    assert "export MM_TEAMSETTINGS_MAXUSERSPERTEAM=2" in result.stdout


def test_an_option_overrides_the_environment(valid_zip: Path) -> None:
    result = run(
        "validate",
        "--max-users-per-team",
        "2",
        str(valid_zip),
        env={"MM_TEAMSETTINGS_MAXUSERSPERTEAM": "1"},
    )
    assert result.exit_code == 0


def test_a_bare_jsonl_is_validated_without_files(build: Build, tmp_path: Path) -> None:
    archive = build([team("eng")])
    jsonl = tmp_path / "import.jsonl"
    with zipfile.ZipFile(archive) as zf:
        jsonl.write_bytes(zf.read("import.jsonl"))
    result = run("validate", "--format", "json", str(jsonl))
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert [i["code"] for i in document["issues"]] == ["jsonl-not-zipped"]


def test_verbose_lists_every_line_of_a_problem(build: Build) -> None:
    path = build([post("eng", "town-square", "mallory", f"m{i}", T + i) for i in range(5)])
    text = run("validate", str(path)).stdout
    assert text.count("post.team: team 'eng' is not defined") == 3
    assert "     … and 2 more (--verbose lists them)" in text
    verbose = run("validate", "--verbose", str(path)).stdout
    assert verbose.count("post.team: team 'eng' is not defined") == 5
    assert "more (" not in verbose
