"""validate() end to end: the envelope of each line (version line, types, payloads, framing),
the order of the report's issues, `valid`, and --max-issues truncation (reference §2.1, §3)."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable

import orjson
import pytest

from archivekit.check.engine import RULES
from archivekit.gosem.decode import PAYLOAD_TYPES
from archivekit.issues import Severity
from archivekit.read import MAX_LINE_BYTES
from archivekit.read.framing import iter_shared_batches
from archivekit.report.model import Report
from archivekit.testing.synth import channel, post, team, user, version

INVALID_VERSION = "app.import.process_import_data_file_version_line.invalid_version.error"
UNSUPPORTED_VERSION = "app.import.bulk_import.unsupported_version.error"
UNKNOWN_TYPE = "app.import.import_line.unknown_line_type.error"
JSON_DECODE = "app.import.bulk_import.json_decode.error"
FILE_SCAN = "app.import.bulk_import.file_scan.error"

Found = tuple[str, int | None, str | None, str | None]
ValidateLines = Callable[..., Report]


def found(report: Report) -> list[Found]:
    """(code, line, field, server error id) of every issue, in report order."""
    return [(i.code, i.line, i.field, i.server_error_id) for i in report.issues]


def test_a_valid_archive_has_no_issues(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            team("eng"),
            channel("eng", "general"),
            user("alice", {"eng": ["general"]}),
            post("eng", "general", "alice", "hello", 1_700_000_000_000),
        ]
    )
    assert report.issues == []
    assert report.valid
    assert (report.errors, report.warnings, report.lines) == (0, 0, 5)
    assert report.jsonl == "import.jsonl"


# --- version line ------------------------------------------------------------------------------


def test_first_line_not_a_version_line(validate_lines: ValidateLines) -> None:
    report = validate_lines([team("eng"), team("ops")], version_line=False)
    assert found(report) == [("version-missing", 1, "type", INVALID_VERSION)]
    assert not report.valid
    # The other lines are still checked and counted.
    assert report.counts.teams == 2


def test_a_first_line_of_unknown_type_is_both_no_version_and_unknown(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(['{"type":"nope"}', '{"type":"team"}'], version_line=False)
    assert found(report) == [
        ("version-missing", 1, "type", INVALID_VERSION),
        ("unknown-line-type", 1, "type", UNKNOWN_TYPE),
        ("payload-missing", 2, "team", "app.import.import_line.null_team.error"),
    ]


def test_every_line_type_the_decoder_knows_has_its_rules() -> None:
    # The envelope dispatches exactly the types Go's decoder knows (the decode spec).
    assert set(RULES) == PAYLOAD_TYPES


def test_version_line_without_its_number(validate_lines: ValidateLines) -> None:
    report = validate_lines(['{"type":"version"}', team("eng")])
    assert found(report) == [("version-missing", 1, "version", INVALID_VERSION)]


def test_version_2_is_unsupported(validate_lines: ValidateLines) -> None:
    report = validate_lines(['{"type":"version","version":2}', team("eng")])
    assert found(report) == [("version-unsupported", 1, "version", UNSUPPORTED_VERSION)]
    assert "version 2" in report.issues[0].message


def test_version_1_with_info_is_accepted(validate_lines: ValidateLines) -> None:
    report = validate_lines([version(generator="mattermost-server", version="9.11.0"), team("eng")])
    assert report.issues == []


def test_a_second_version_line_is_an_unknown_type(validate_lines: ValidateLines) -> None:
    report = validate_lines([team("eng"), version(), team("ops")])
    assert found(report) == [("version-not-first", 3, "type", UNKNOWN_TYPE)]


def test_a_version_line_only_after_another_line(validate_lines: ValidateLines) -> None:
    report = validate_lines([team("eng"), version()], version_line=False)
    assert found(report) == [
        ("version-missing", 1, "type", INVALID_VERSION),
        ("version-not-first", 2, "type", UNKNOWN_TYPE),
    ]


# --- types and payloads ------------------------------------------------------------------------


def test_unknown_line_type_and_the_lines_after_it_are_still_checked(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(['{"type":"webhook","webhook":{}}', channel("ghost", "general")])
    assert found(report) == [
        ("unknown-line-type", 2, "type", UNKNOWN_TYPE),
        ("unknown-team", 3, "channel.team", "app.import.import_channel.team_not_found.error"),
    ]
    assert "'webhook'" in report.issues[0].message


def test_line_types_are_case_sensitive(validate_lines: ValidateLines) -> None:
    report = validate_lines(['{"type":"Team","Team":{"name":"eng"}}'])
    assert found(report) == [("unknown-line-type", 2, "type", UNKNOWN_TYPE)]


@pytest.mark.parametrize(
    ("line_type", "crashes"),
    [
        ("role", False),
        ("scheme", False),
        ("team", False),
        ("channel", False),
        ("direct_channel", False),
        ("post", True),
        ("direct_post", True),
        ("user", True),
        ("emoji", True),
        ("bot", True),
    ],
)
def test_a_known_type_without_its_payload(
    validate_lines: ValidateLines, line_type: str, crashes: bool
) -> None:
    report = validate_lines([f'{{"type":"{line_type}"}}', f'{{"type":"{line_type}","x":null}}'])
    server_id = f"app.import.import_line.null_{line_type}.error"
    assert found(report) == [
        ("payload-missing", 2, line_type, server_id),
        ("payload-missing", 3, line_type, server_id),
    ]
    assert ("crash" in report.issues[0].message) is crashes


def test_an_explicit_null_payload_is_missing(validate_lines: ValidateLines) -> None:
    report = validate_lines(['{"type":"team","team":null}'])
    assert found(report) == [
        ("payload-missing", 2, "team", "app.import.import_line.null_team.error")
    ]


# --- framing -----------------------------------------------------------------------------------


def test_an_empty_jsonl_is_valid_but_imports_nothing(validate_lines: ValidateLines) -> None:
    report = validate_lines([], version_line=False)
    assert found(report) == [("empty-archive", None, None, None)]
    assert report.issues[0].severity is Severity.WARNING
    assert report.valid
    assert report.lines == 0


def test_a_blank_line_fails_to_decode_and_the_next_line_is_still_checked(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines([team("eng"), "", channel("ghost", "general")])
    assert found(report) == [
        ("line-empty", 3, None, JSON_DECODE),
        ("unknown-team", 4, "channel.team", "app.import.import_channel.team_not_found.error"),
    ]
    assert report.lines == 4


def _team_line_of(length: int) -> bytes:
    """A valid team line padded (with a key the server ignores) to exactly ``length`` bytes."""
    head = orjson.dumps(team("eng"))[:-1] + b',"padding":"'
    line = head + b"a" * (length - len(head) - 2) + b'"}'
    assert len(line) == length
    return line


def test_a_line_over_the_scanner_limit(
    validate_lines: ValidateLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    # validate() frames with the reader's default limit (in its record stream); a small one
    # keeps the test fast.
    limit = 200
    records_module = importlib.import_module("archivekit.read.records")
    monkeypatch.setattr(
        records_module,
        "iter_shared_batches",
        functools.partial(iter_shared_batches, max_line=limit),
    )
    report = validate_lines([_team_line_of(limit), _team_line_of(limit + 1), team("ops")])
    assert found(report) == [("line-too-long", 3, None, FILE_SCAN)]
    assert f"{limit + 1:,} bytes" in report.issues[0].message
    assert report.lines == 4


@pytest.mark.slow
def test_a_line_of_16_mib_is_too_long_and_one_byte_less_is_not(
    validate_lines: ValidateLines,
) -> None:
    # Stored: a 16 MiB run of one byte deflates beyond the zip-bomb ratio guard.
    at_limit = validate_lines([_team_line_of(MAX_LINE_BYTES), team("ops")], method="stored")
    assert at_limit.issues == []
    over = validate_lines([_team_line_of(MAX_LINE_BYTES + 1), team("ops")], method="stored")
    assert found(over) == [("line-too-long", 2, None, FILE_SCAN)]
    assert over.counts.teams == 1


# --- the report as a whole ---------------------------------------------------------------------


def test_issues_come_in_line_order_between_archive_and_archive_wide_findings(
    validate_lines: ValidateLines,
) -> None:
    # The duplicate post (line 5) is only found at the end of the stream, after the error of
    # line 6; the report still lists it in line order.
    report = validate_lines(
        [
            team("eng"),
            user("alice", ["eng"]),
            post("eng", "town-square", "alice", "same", 1),
            post("eng", "town-square", "alice", "same", 1),
            post("eng", "town-square", "mallory", "other", 2),
        ],
        {"notes/readme.txt": b"not under data/", "data/unused.bin": b"\x00"},
        attachment_method="deflate64",
    )
    assert [(i.code, i.line) for i in report.issues] == [
        ("member-unsupported-compression", None),  # found when the zip is opened
        ("member-unsupported-compression", None),
        ("duplicate-post", 5),
        ("unknown-user", 6),
        ("attachment-unreferenced", None),  # archive-wide, after the last line
        ("attachment-outside-data", None),
    ]
    assert [i.member for i in report.issues] == [
        "notes/readme.txt",
        "data/unused.bin",
        "import.jsonl",
        "import.jsonl",
        "data/unused.bin",
        "notes/readme.txt",
    ]


def test_valid_means_no_error_whatever_the_warnings(validate_lines: ValidateLines) -> None:
    warned = validate_lines([team("eng"), team("eng")])
    assert [(i.code, i.severity) for i in warned.issues] == [("duplicate-team", Severity.WARNING)]
    assert warned.valid
    assert (warned.errors, warned.warnings) == (0, 1)

    failed = validate_lines([team("eng"), team("eng"), channel("ghost", "general")])
    assert not failed.valid
    assert (failed.errors, failed.warnings) == (1, 1)
    assert failed.to_dict()["valid"] is False


def _many_issues() -> list[object]:
    return [
        team("eng"),
        team("eng"),  # warning
        channel("ghost", "a"),  # error
        channel("ghost", "b"),  # error
        user("alice", ["nope"]),  # error
        "",  # error
    ]


def test_max_issues_keeps_the_first_issues_and_exact_counts(
    validate_lines: ValidateLines,
) -> None:
    everything = validate_lines(_many_issues())
    capped = validate_lines(_many_issues(), max_issues=2)
    assert len(everything.issues) == 5
    assert not everything.truncated
    assert capped.issues == everything.issues[:2]
    assert capped.truncated
    assert (
        capped.issue_counts
        == everything.issue_counts
        == {
            "duplicate-team": 1,
            "unknown-team": 3,
            "line-empty": 1,
        }
    )
    assert (capped.errors, capped.warnings) == (everything.errors, everything.warnings) == (4, 1)
    assert not capped.valid


def test_max_issues_at_the_number_of_issues_is_not_truncated(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(_many_issues(), max_issues=5)
    assert len(report.issues) == 5
    assert not report.truncated


def test_max_issues_counts_stay_exact_for_references_defined_later(
    validate_lines: ValidateLines,
) -> None:
    lines = [
        team("eng"),
        post("eng", "town-square", "alice", "a", 1),
        post("eng", "town-square", "bob", "b", 2),
        user("alice", ["eng"]),
        user("bob", ["eng"]),
    ]
    assert validate_lines(lines).issue_counts == {"defined-later": 2}
    assert validate_lines(lines, max_issues=1).issue_counts == {"defined-later": 2}
