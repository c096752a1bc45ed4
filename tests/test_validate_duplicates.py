"""validate() end to end: the same object defined twice (reference §6), and the bounded-memory
duplicate-post detector behind it. Line 1 of every archive is the version line."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from archivekit.check import duplicates as dedupe
from archivekit.check.duplicates import Deduper, encode_identity, post_identity
from archivekit.check.engine import LineProcessor
from archivekit.check.fast import fastpath
from archivekit.issues import Severity
from archivekit.report.model import Report
from archivekit.testing.synth import (
    bot,
    channel,
    direct_post,
    emoji,
    png_bytes,
    post,
    role,
    scheme,
    team,
    user,
)

Found = tuple[str, int | None, str | None]
ValidateLines = Callable[..., Report]

WORLD = [team("eng"), channel("eng", "general"), user("alice", ["eng"]), user("bob", ["eng"])]
T = 1_700_000_000_000


def found(report: Report) -> list[Found]:
    """(code, line, field) of every issue, in report order."""
    return [(i.code, i.line, i.field) for i in report.issues]


# --- definitions -------------------------------------------------------------------------------


def test_a_team_defined_twice_in_any_case(validate_lines: ValidateLines) -> None:
    report = validate_lines([team("eng"), team("ops"), team("eng", display_name="Again")])
    assert found(report) == [("duplicate-team", 4, "team.name")]
    assert "already defined on line 2" in report.issues[0].message
    assert report.issues[0].severity is Severity.WARNING
    assert report.valid
    # The importer updates; mmctl import validate calls it an error, and the message says so.
    assert (
        'mmctl import validate reports a repeat written the same way as an error ("duplicate '
        'entry, previous was in line: 2")'
    ) in report.issues[0].message


def test_a_channel_defined_twice_in_the_same_team(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            team("eng"),
            team("ops"),
            channel("eng", "general"),
            channel("ops", "general"),  # another team: another channel
            channel("eng", "general", purpose="again"),
        ]
    )
    assert found(report) == [("duplicate-channel", 6, "channel.name")]
    assert "already defined on line 4" in report.issues[0].message


def test_a_username_defined_twice_in_any_case_or_as_a_bot(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            team("eng"),
            user("alice", ["eng"]),
            user("Alice", ["eng"], email="alice2@example.com"),
            user("bob", ["eng"]),
            bot("bob", "alice"),
        ]
    )
    assert found(report) == [
        ("duplicate-user", 4, "user.username"),
        ("duplicate-user", 6, "bot.username"),
    ]
    assert "already defined on line 3" in report.issues[0].message
    assert "already defined on line 5" in report.issues[1].message
    assert "new random password" in report.issues[0].message
    assert "previous was in line: 3" in report.issues[0].message
    # mmctl knows no bot lines: nothing to say about it there.
    assert "mmctl" not in report.issues[1].message


def test_an_emoji_defined_twice(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [emoji("party", "e/p.png"), emoji("party", "e/p.png")], {"data/e/p.png": png_bytes(2, 2)}
    )
    assert found(report) == [("duplicate-emoji", 3, "emoji.name")]


def test_schemes_and_roles_defined_twice(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            scheme("team_scheme"),
            scheme("team_scheme", description="again"),
            role("custom_role"),
            role("custom_role"),
        ]
    )
    assert found(report) == [
        ("duplicate-scheme", 3, "scheme.name"),
        ("duplicate-role", 5, "role.name"),
    ]
    assert {i.severity for i in report.issues} == {Severity.WARNING}
    assert "previous was in line: 2" in report.issues[0].message
    assert "mmctl" not in report.issues[1].message


# --- posts -------------------------------------------------------------------------------------


def test_duplicate_posts_name_the_first_line(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            *WORLD,
            post("eng", "general", "alice", "same", T),
            post("eng", "general", "bob", "same", T),  # the author is not part of the identity
            post("eng", "general", "alice", "same", T + 1),
            post("eng", "general", "alice", "Same", T),
            post("eng", "town-square", "alice", "same", T),
            post("eng", "general", "alice", "same", T),
        ]
    )
    assert found(report) == [("duplicate-post", 7, None), ("duplicate-post", 11, None)]
    assert all("as line 6" in i.message for i in report.issues)
    assert {i.severity for i in report.issues} == {Severity.WARNING}


def test_direct_post_duplicates_are_found_by_member_set(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            team("eng"),
            user("alice", ["eng"]),
            user("bob", ["eng"]),
            user("carol", ["eng"]),
            direct_post(["alice", "bob"], "alice", "hi", T),
            direct_post(["bob", "alice"], "bob", "hi", T),
            direct_post(["alice", "bob", "carol"], "alice", "hi", T),
            direct_post(["alice", "bob"], "alice", "hi", T + 1),
        ]
    )
    assert found(report) == [("duplicate-post", 7, None)]
    assert "as line 6" in report.issues[0].message


def test_a_post_and_a_direct_post_are_never_duplicates(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [*WORLD, post("eng", "general", "alice", "hi", T), direct_post(["alice"], "alice", "hi", T)]
    )
    assert "duplicate-post" not in report.issue_counts


# --- the detector ------------------------------------------------------------------------------


def _spread(i: int) -> int:
    """A distinct 64-bit value per i, spread over every bucket (multiplicative hashing)."""
    return (i * 0x9E3779B97F4A7C15) & 0xFFFF_FFFF_FFFF_FFFF


def test_deduper_in_memory_for_a_few_posts() -> None:
    deduper = Deduper()
    for line, text in enumerate(["a", "b", "a", "c", "a", "b"], start=1):
        deduper.add(post_identity("post", "eng", "general", T, text), line)
    assert deduper.duplicates() == ([(3, 1), (5, 1), (6, 2)], 3)


def test_deduper_keeps_the_lowest_lines_up_to_its_limit_and_counts_all() -> None:
    deduper = Deduper()
    for line in range(1, 11):
        deduper.add(post_identity("post", "eng", "general", T, "same"), line)
    assert deduper.duplicates(limit=3) == ([(2, 1), (3, 1), (4, 1)], 9)


def test_deduper_spills_300k_identities_to_disk_buckets_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    deduper = Deduper()
    total = 320_000
    # Lines are 1-based; a few copies are planted on both sides of the first spill to disk
    # (after 2**18 = 262,144 identities) and within the in-memory tail.
    copies = {100_000: 7, 262_144: 7, 262_145: 50, 300_000: 300_001, 319_999: 262_200}
    for line in range(1, total + 1):
        deduper.add(_spread(copies.get(line, line)), line)
    (run,) = tmp_path.iterdir()
    assert run.name.startswith("archivekit-run-")  # recognisable if the run is killed
    (spilled,) = run.iterdir()
    assert len(list(spilled.iterdir())) == 256  # one file per bucket
    assert deduper.duplicates() == (
        [(100_000, 7), (262_144, 7), (262_145, 50), (300_001, 300_000), (319_999, 262_200)],
        5,
    )
    assert list(tmp_path.iterdir()) == []  # the buckets are removed


@settings(max_examples=60, deadline=None)
@given(
    identities=st.lists(st.integers(0, 6), max_size=60),
    limit=st.integers(1, 10),
)
def test_small_archives_find_the_same_duplicates_without_numpy(
    identities: list[int], limit: int
) -> None:
    # Few identities are compared in plain Python (no numpy import); more go through numpy.
    found = []
    for small in (dedupe._SMALL, -1):
        deduper = Deduper()
        for line, identity in enumerate(identities, start=1):
            deduper.add(_spread(identity), line)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(dedupe, "_SMALL", small)
            found.append(deduper.duplicates(limit=limit))
    assert found[0] == found[1]


# --- the identity digest: one value in every process, in C and in Python ----------------------


def test_posts_differing_only_by_create_at_minus_one_and_minus_two_are_not_duplicates(
    validate_lines: ValidateLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CPython's hash(-1) == hash(-2): the tuple hash made these two posts "duplicates".
    lines = [
        *WORLD,
        post("eng", "general", "alice", "hi", -1),
        post("eng", "general", "bob", "hi", -2),
    ]
    assert "duplicate-post" not in validate_lines(lines).issue_counts
    monkeypatch.setattr(LineProcessor, "fast", False)  # the general path computes it too
    assert "duplicate-post" not in validate_lines(lines).issue_counts
    assert post_identity("post", "eng", "general", -1, "hi") != post_identity(
        "post", "eng", "general", -2, "hi"
    )


def test_the_identity_encoding_is_pinned() -> None:
    # A change of encoding or digest changes every value: it must be deliberate.
    assert encode_identity("post", -1) == b"s" + (4).to_bytes(8, "little") + b"post" + b"i" + (
        b"\xff" * 8
    )
    assert post_identity("post", "eng", "general", 1_700_000_000_000, "hi") == (
        xxhash.xxh64_intdigest(encode_identity("post", "eng", "general", 1_700_000_000_000, "hi"))
    )
    # XXH64's own test vector (seed 0, empty input), from xxHash's specification.
    assert xxhash.xxh64_intdigest(b"") == 0xEF46DB3751D8E999
    # Parts are length-prefixed: moving text from one part to the next changes the identity.
    assert post_identity("post", "ab", "c", 1, "m") != post_identity("post", "a", "bc", 1, "m")
    assert post_identity("direct", "a", "b", 1, "m") != post_identity("direct", "a", 1, "m")


IDENTITY_CASES: list[tuple[str | int, ...]] = [
    ("post", "eng", "general", T, "hi"),
    ("post", "eng", "general", -1, ""),
    ("post", "eng", "general", -(2**63), "é😀 " * 100),
    ("direct", "alice", "bob", 2**63 - 1, "x" * 1000),
]


def _identities(cases: list[tuple[str | int, ...]]) -> list[int]:
    return [post_identity(*parts) for parts in cases]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_the_identity_is_the_same_in_forked_and_spawned_processes(method: str) -> None:
    import multiprocessing

    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    with multiprocessing.get_context(method).Pool(1) as pool:
        assert pool.apply(_identities, (IDENTITY_CASES,)) == _identities(IDENTITY_CASES)


@pytest.mark.skipif(fastpath.NATIVE is None, reason="the C scanner is not built")
def test_the_c_digest_is_xxh64_bit_for_bit() -> None:
    from archivekit.check.fast import _scan

    rng = random.Random(7)
    # Every length around the 32-byte stripes and the 8/4/1-byte tails, then random ones.
    lengths = [*range(0, 300), 1023, 1024, 1025, *rng.sample(range(5000), 30)]
    for n in lengths:
        data = rng.randbytes(n)
        assert _scan.identity_digest(data) == xxhash.xxh64_intdigest(data), n


@pytest.mark.skipif(fastpath.NATIVE is None, reason="the C scanner is not built")
@pytest.mark.parametrize(
    "message", ["hi", "", 'caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\n', "x" * 700, "\\u00e9" * 200]
)
@pytest.mark.parametrize("create_at", [-2, -1, 1, 2**63 - 1])
def test_the_c_scanner_digests_the_identity_like_python(message: str, create_at: int) -> None:
    users = {"alice": 1, "bob": 2}
    raw = (
        '{"type":"post","post":{"team":"eng","channel":"general","user":"alice",'
        f'"message":"{message}","create_at":{create_at}}}}}'
    ).encode()
    text = orjson.loads(raw)["post"]["message"]
    native = fastpath.NATIVE
    assert native is not None
    found = native(
        raw, False, users, {"eng": 1}, {("eng", "general"): 1}, lambda _: True, 16383, None
    )
    assert found is not None
    assert found[0] == post_identity("post", "eng", "general", create_at, text)
    dm = (
        '{"type":"direct_post","direct_post":{"channel_members":["bob","alice"],"user":"bob",'
        f'"message":"{message}","create_at":{create_at}}}}}'
    ).encode()
    found = native(dm, True, users, {}, {}, lambda _: True, 16383, None)
    assert found is not None
    assert found[0] == post_identity("direct", "alice", "bob", create_at, text)
