"""JSON bombs, one per line: each gives the right issue at the right line, in bounded time and
memory, through the CLI (a subprocess with a 1 GiB address-space limit).

Every archive is five valid lines, the hostile line 6, then a valid post at line 7 that must
stay free of issues (the bomb does not spill onto its neighbours).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archivekit.read import MAX_LINE_BYTES
from archivekit.testing.fuzz import check_validate_contract
from archivekit.testing.synth import Method, channel, make_archive, post, team, user

BOMB_LINE = 6
SECONDS = 10.0
MEMORY = 1 << 30
HEAD = [
    team("team1"),
    channel("team1", "town-square"),
    channel("team1", "chan1"),
    user("alice", teams={"team1": ["chan1"]}),
]
AFTER = post("team1", "chan1", "alice", "after the bomb", 1_700_000_000_001)
POST_START = b'{"type":"post","post":{"team":"team1","channel":"chan1","user":"alice",'


def post_line(fields: bytes) -> bytes:
    """A post line with the given raw JSON members after team/channel/user."""
    return POST_START + fields + b"}}"


def validate_bomb(
    tmp_path: Path, line: bytes, method: Method = "deflate"
) -> list[tuple[str, int | None, str | None]]:
    """Validate HEAD + ``line`` + AFTER; (code, line, field) of every issue."""
    archive = make_archive(tmp_path / "export.zip", [*HEAD, line, AFTER], method=method)
    result = check_validate_contract(archive, timeout=60, memory=MEMORY)
    assert result.seconds < SECONDS
    assert result.report is not None
    # check_validate_contract has checked the exit code against the issues' severities.
    return [(i["code"], i["line"], i["field"]) for i in result.report["issues"]]


def test_the_frame_is_valid(tmp_path: Path) -> None:
    fine = post_line(b'"message":"hi","create_at":1700000000000')
    assert validate_bomb(tmp_path, fine) == []


def test_100k_deep_nesting_inside_props(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    line = post_line(b'"message":"m","create_at":1,"props":{"x":' + deep + b"}")
    assert validate_bomb(tmp_path, line) == [("json-decode", BOMB_LINE, None)]


def test_100k_deep_nesting_at_the_top_level(tmp_path: Path) -> None:
    line = b"[" * 100_000 + b"]" * 100_000
    assert validate_bomb(tmp_path, line) == [("json-decode", BOMB_LINE, None)]


def test_100k_unclosed_objects(tmp_path: Path) -> None:
    line = b'{"a":' * 100_000
    assert validate_bomb(tmp_path, line) == [("json-decode", BOMB_LINE, None)]


def test_nesting_at_go_s_depth_limit_is_accepted(tmp_path: Path) -> None:
    # Go's maxNestingDepth is 10000 values deep: props sits at depth 3, so 9997 more fit.
    deep = b"[" * 9_997 + b"]" * 9_997
    line = post_line(b'"message":"m","create_at":1,"props":{"x":' + deep + b"}")
    assert validate_bomb(tmp_path, line) == []


def test_nesting_one_past_go_s_depth_limit(tmp_path: Path) -> None:
    deep = b"[" * 9_998 + b"]" * 9_998
    line = post_line(b'"message":"m","create_at":1,"props":{"x":' + deep + b"}")
    assert validate_bomb(tmp_path, line) == [("json-decode", BOMB_LINE, None)]


def test_a_100k_digit_integer(tmp_path: Path) -> None:
    line = post_line(b'"message":"m","create_at":' + b"9" * 100_000)
    assert validate_bomb(tmp_path, line) == [("json-type", BOMB_LINE, "post.create_at")]


def test_a_100k_digit_number_in_props(tmp_path: Path) -> None:
    line = post_line(b'"message":"m","create_at":1,"props":{"n":' + b"9" * 100_000 + b"}")
    assert validate_bomb(tmp_path, line) == [("json-type", BOMB_LINE, "post.props")]


def test_a_100k_digit_exponent(tmp_path: Path) -> None:
    line = post_line(b'"message":"m","create_at":1,"props":{"n":1e' + b"9" * 100_000 + b"}")
    assert validate_bomb(tmp_path, line) == [("json-type", BOMB_LINE, "post.props")]


def padded_post(length: int) -> bytes:
    frame = post_line(b'"message":"","create_at":1700000000000')
    line = post_line(b'"message":"' + b"a" * (length - len(frame)) + b'","create_at":1700000000000')
    assert len(line) == length
    return line


# A line of repeated "a" deflates ~1000:1 and would stop on the zip-bomb ratio: stored.
@pytest.mark.slow
def test_a_line_of_exactly_the_scanner_limit_is_read(tmp_path: Path) -> None:
    issues = validate_bomb(tmp_path, padded_post(MAX_LINE_BYTES), method="stored")
    assert issues == [("invalid-field", BOMB_LINE, "post.message")]  # too long, not a framing error


@pytest.mark.slow
def test_a_line_one_byte_over_the_scanner_limit(tmp_path: Path) -> None:
    issues = validate_bomb(tmp_path, padded_post(MAX_LINE_BYTES + 1), method="stored")
    # The server stops the whole import there: nothing after it is checked.
    assert issues == [("line-too-long", BOMB_LINE, None)]


def test_megabytes_of_whitespace_inside_a_line(tmp_path: Path) -> None:
    spaces = b" \t\r" * 1_500_000  # 4.5 MB of space, tab and CR (a newline would split the line)
    line = post_line(b'"message":"m",' + spaces + b'"create_at":' + spaces + b"1700000000000")
    assert validate_bomb(tmp_path, line, method="stored") == []


def test_a_line_of_nothing_but_megabytes_of_whitespace(tmp_path: Path) -> None:
    assert validate_bomb(tmp_path, b" " * 4_000_000, method="stored") == [
        ("line-empty", BOMB_LINE, None)
    ]


def test_invalid_utf8_in_a_message_is_a_warning(tmp_path: Path) -> None:
    line = post_line(b'"message":"caf\xe9 \xff\xfe \xed\xa0\x80","create_at":1700000000000')
    assert validate_bomb(tmp_path, line) == [("invalid-utf8", BOMB_LINE, None)]


def test_an_escaped_nul_in_a_message(tmp_path: Path) -> None:
    line = post_line(b'"message":"a\\u0000b","create_at":1700000000000')
    assert validate_bomb(tmp_path, line) == [("nul-character", BOMB_LINE, "post.message")]


def test_a_raw_nul_byte_in_a_message_is_not_json(tmp_path: Path) -> None:
    line = post_line(b'"message":"a\x00b","create_at":1700000000000')
    assert validate_bomb(tmp_path, line) == [("json-decode", BOMB_LINE, None)]


def many_keys(n: int, same: bool = False) -> bytes:
    members = (b'"k":%d' % i if same else b'"k%d":%d' % (i, i) for i in range(n))
    return b"{" + b",".join(members) + b"}"


def test_10k_keys_in_one_object(tmp_path: Path) -> None:
    line = post_line(b'"message":"m","create_at":1700000000000,"props":' + many_keys(10_000))
    assert validate_bomb(tmp_path, line) == []


def test_10k_repeats_of_one_key(tmp_path: Path) -> None:
    line = post_line(b'"message":"m","create_at":1700000000000,"props":' + many_keys(10_000, True))
    assert validate_bomb(tmp_path, line) == []


def test_10k_unknown_keys_on_the_payload(tmp_path: Path) -> None:
    line = post_line(b'"message":"m","create_at":1700000000000,' + many_keys(10_000)[1:-1])
    assert validate_bomb(tmp_path, line) == []


def test_a_million_element_array_is_measured_not_crashed_on(tmp_path: Path) -> None:
    items = b",".join([b"0"] * 1_000_000)
    line = post_line(b'"message":"m","create_at":1700000000000,"props":{"a":[' + items + b"]}")
    # 2 MB of props JSON: over the server's 800,000-character props limit.
    assert validate_bomb(tmp_path, line) == [("invalid-field", BOMB_LINE, "post.props")]


def test_a_string_of_a_million_escapes(tmp_path: Path) -> None:
    escapes = b"\\u00e9" * 1_000_000
    line = post_line(b'"message":"m","create_at":1,"props":{"s":"' + escapes + b'"}')
    assert validate_bomb(tmp_path, line) == [("invalid-field", BOMB_LINE, "post.props")]
