"""`fix_archive`: the repaired archive validates without the issues a default repair covers;
untouched lines stay byte-identical and files keep their bytes; idempotent, deterministic;
unsafe repairs are reported, not guessed; the CLI's exit codes and JSON."""

from __future__ import annotations

import base64
import random
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any, Final

import orjson
import pytest
import zipfile_deflate64
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_filter import files as members
from test_filter import jsonl

from archivekit.check.rules.split import split_message
from archivekit.errors import ArchiveError, OutputError, UsageError
from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.issues import (
    CODES,
    MESSAGE_LENGTH_IDS,
    REPAIRABLE,
    REPAIRABLE_ERROR_IDS,
    REPAIRS,
    Issue,
    repair_for,
)
from archivekit.read import ReadLimits
from archivekit.report.render import report_json, report_text
from archivekit.testing.fuzz import scaled_examples
from archivekit.testing.synth import (
    Method,
    bot,
    channel,
    converter_export,
    direct_channel,
    direct_post,
    emoji,
    generate_export,
    make_archive,
    png_bytes,
    post,
    reaction,
    reply,
    role,
    scheme,
    team,
    user,
)
from archivekit.validate import validate
from archivekit.write.changes import Change
from archivekit.write.fix_report import render_fix
from archivekit.write.repairs import FixOptions
from archivekit.write.select import EXPORT_ORDER
from archivekit.write.zipwriter import MAX_WRITTEN_RATIO
from archivekit.writers import fix_archive

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_exports"
FIXTURE = REPO / "tests" / "fixtures" / "mattermost-server-tests-import_test.zip"
T0 = 1_704_153_600_000
PNG = png_bytes(4, 4)


def repairable(issues: list[Issue] | tuple[Issue, ...]) -> list[Issue]:
    return [i for i in issues if repair_for(i) is not None]


def fix(source: Path, output: Path, **kw: Any) -> tuple[list[dict[str, Any]], Any]:
    """Run fix; (every change as its dict, the result)."""
    result = fix_archive(source, output, **kw)
    try:
        return list(result.log), result
    finally:
        result.close()


def line_type(line: bytes) -> object:
    """A JSONL line's type, or None when it does not decode (broken samples have such lines)."""
    try:
        envelope = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return envelope.get("type") if isinstance(envelope, dict) else None


def base_lines() -> list[Any]:
    return [
        team("eng"),
        channel("eng", "dev"),
        user("alice", {"eng": ["dev"]}),
        user("bob", {"eng": ["dev"]}),
    ]


# --- the samples and the real fixture ----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["clean.zip", "broken.zip", "deflate64.zip", "over_limits.zip", "fixture"]
)
def test_after_fix_validate_reports_nothing_a_default_repair_covers(
    name: str, tmp_path: Path
) -> None:
    source = FIXTURE if name == "fixture" else SAMPLES / name
    out = tmp_path / "fixed.zip"
    fix(source, out)
    before = validate(source, max_issues=None)
    after = validate(out, max_issues=None)
    assert repairable(after.issues) == []
    # Nothing new: every code after was there before (fix repairs, it does not break), and no
    # code more often than before.
    assert set(after.issue_counts) <= set(before.issue_counts)
    assert all(after.issue_counts[c] <= before.issue_counts[c] for c in after.issue_counts)
    # The lines themselves: one version line, on line 1 (a second one is dropped, never moved
    # to line 2 — the import would stop there); every other input line kept or logged.
    versions = [n for n, line in enumerate(jsonl(out), 1) if line_type(line) == "version"]
    assert versions == [1]
    # Idempotent: fix of its own output changes nothing and writes the same lines.
    again = tmp_path / "again.zip"
    changes, _ = fix(out, again)
    assert changes == []
    assert again.read_bytes() == out.read_bytes()  # byte for byte (deflate64.zip: recompress)


def test_an_archive_with_nothing_to_repair_comes_out_line_for_line_and_file_for_file(
    tmp_path: Path,
) -> None:
    source = SAMPLES / "clean.zip"
    changes, result = fix(source, tmp_path / "out.zip")
    assert changes == []
    assert jsonl(tmp_path / "out.zip") == jsonl(source)
    assert members(tmp_path / "out.zip") == members(source)
    assert result.stats.lines_rewritten == 0


def test_fix_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    for out in (a, b):
        fix(SAMPLES / "broken.zip", out)
    # The content first, then the bytes: a failure says which of the two differs, and where.
    assert jsonl(a) == jsonl(b)
    assert members(a) == members(b)
    assert a.read_bytes() == b.read_bytes(), first_difference(a, b)


def first_difference(a: Path, b: Path) -> str:
    """Where two zips' bytes first differ: the offset and the member whose bytes hold it."""
    left, right = a.read_bytes(), b.read_bytes()
    at = next((i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y), None)
    if at is None:
        return f"sizes {len(left)} and {len(right)}, one a prefix of the other"
    with zipfile.ZipFile(a) as zf:
        entries = sorted(zf.infolist(), key=lambda i: i.header_offset)
    holder = [i for i in entries if i.header_offset <= at]
    where = holder[-1].filename if holder else "?"
    return f"first difference at byte {at:,} of {len(left):,}/{len(right):,}, in/after {where!r}"


def test_the_real_fixtures_files_are_moved_under_data(tmp_path: Path) -> None:
    changes, result = fix(FIXTURE, tmp_path / "out.zip")
    moved = [c for c in changes if c["repair"] == "move-into-data"]
    assert len(moved) == 3
    assert result.stats.members_moved == 3
    before, after = members(FIXTURE), members(tmp_path / "out.zip")
    for change in moved:
        old, new = orjson.loads(change["before"]), orjson.loads(change["after"])
        assert after[new] == before[old]  # raw copy: method, CRC, sizes, bytes
        assert old not in after
    assert jsonl(tmp_path / "out.zip") == jsonl(FIXTURE)


# --- each repair ---------------------------------------------------------------------------------


def test_untouched_lines_stay_byte_identical_and_changed_lines_are_logged(tmp_path: Path) -> None:
    lines = [
        *base_lines(),
        post("eng", "dev", "alice", "fine", T0),
        post("eng", "DEV", "Alice", "mixed case", T0 + 1),
        # Written with spaces: kept as it is, byte for byte, since nothing needs repair.
        b'{"type": "post", "post": {"team": "eng", "channel": "dev", "user": "bob", '
        b'"message": "spaced", "create_at": 1704153600009}}',
        post("eng", "dev", "bob", "nul \x00 here", T0 + 2),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, _ = fix(source, tmp_path / "out.zip")
    changed_lines = {c["line"] for c in changes}
    assert changed_lines == {7, 9}
    before, after = jsonl(source), jsonl(tmp_path / "out.zip")
    assert len(before) == len(after)
    for number, (old, new) in enumerate(zip(before, after, strict=True), start=1):
        assert (old == new) == (number not in changed_lines)
    fields = sorted((c["field"], c["after"]) for c in changes)
    assert fields == [
        ("post.channel", '"dev"'),
        ("post.message", '"nul  here"'),
        ("post.user", '"alice"'),
    ]
    assert repairable(validate(tmp_path / "out.zip", max_issues=None).issues) == []


@pytest.mark.parametrize(
    ("case", "field", "found", "name"),
    [
        ("user first", "user.username", "bo\x00b", "bob"),
        ("user later", "user.username", "bo\x00b", "bob"),
        ("two with NUL", "user.username", "b\x00ob", "bob"),
        ("channel", "channel.name", "de\x00v", "dev"),
        ("team", "team.name", "en\x00g", "eng"),
    ],
)
def test_nul_removal_never_merges_two_names(
    case: str, field: str, found: str, name: str, tmp_path: Path
) -> None:
    # `bo\0b` without its NUL is `bob`, another user: two users would become one. Not
    # repaired, reported with the values; the line kept as it was, and references to the name
    # too (cleaned, they would point at the other one).
    late = case == "user later"
    nul_user = user("bo\x00b", {"eng": ["dev"]})
    lines: list[Any] = {
        "user first": [*base_lines(), nul_user, post("eng", "dev", "bo\x00b", "hi", T0)],
        "user later": [
            *base_lines()[:3],
            nul_user,
            post("eng", "dev", "bo\x00b", "hi", T0),
            user("bob", {"eng": ["dev"]}),
        ],
        "two with NUL": [*base_lines()[:3], nul_user, user("b\x00ob", {"eng": ["dev"]})],
        "channel": [*base_lines(), channel("eng", "de\x00v")],
        "team": [*base_lines(), team("en\x00g")],
    }[case]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, _ = fix(source, tmp_path / "out.zip")
    refused = [c for c in changes if c["after"] is None]
    assert [(c["repair"], c["field"]) for c in refused][:1] == [("remove-nul", field)]
    assert refused[0]["values"]["name"] == name
    assert refused[0]["values"]["found"] == found
    assert f"would be {name!r}" in refused[0]["note"]
    # Nothing cleaned into the other name anywhere in the output.
    out = jsonl(tmp_path / "out.zip")
    names = [
        orjson.loads(line).get(t, {}).get(k)
        for line in out
        for t, k in (("user", "username"), ("channel", "name"), ("team", "name"))
    ]
    assert names.count(name) == 1  # the other one (two with NUL: the first, cleaned)
    assert found in names  # the name kept as it was
    if case in ("user first", "user later"):
        posts = [orjson.loads(line)["post"] for line in out if b'"post"' in line[:20]]
        assert [p["user"] for p in posts] == ["bo\x00b"]
        assert "reorder-blocks" in {c["repair"] for c in changes} or not late


@pytest.mark.parametrize("later", [False, True])
def test_nul_removal_never_gives_two_users_one_email(later: bool, tmp_path: Path) -> None:
    # Emails are unique on the server: `b\0ob@x.io` cleaned would be bob's, and the second user
    # would fail to save (duplicate-email). Refused, reported, the email kept as it was.
    bob = user("bob", {"eng": ["dev"]}, email="bob@x.io")
    carol = user("carol", {"eng": ["dev"]}, email="b\x00ob@x.io")
    lines = [*base_lines()[:3], *([carol, bob] if later else [bob, carol])]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, _ = fix(source, tmp_path / "out.zip")
    refused = [c for c in changes if c["after"] is None]
    assert [(c["repair"], c["field"]) for c in refused] == [("remove-nul", "user.email")]
    assert refused[0]["values"] == {"kind": "email", "found": "b\x00ob@x.io", "name": "bob@x.io"}
    assert "another user's email" in refused[0]["note"]
    codes = {i.code for i in validate(tmp_path / "out.zip", max_issues=None).issues}
    assert "duplicate-email" not in codes


def test_nul_removal_checks_collisions_only_in_fields_that_are_keys(tmp_path: Path) -> None:
    # A first name that happens to read like a NUL-holding username is free text: cleaned.
    nul_user = user("bo\x00b", {"eng": ["dev"]}, email="b1@x.io")
    lines = [*base_lines()[:3], nul_user, user("bob", email="b2@x.io", first_name="Bo\x00B")]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, _ = fix(source, tmp_path / "out.zip")
    done = [(c["line"], c["field"], c["after"]) for c in changes if c["repair"] == "remove-nul"]
    assert (5, "user.username", None) in done  # a key: refused (it would name bob)
    assert (6, "user.first_name", '"BoB"') in done


@pytest.mark.parametrize(
    ("kind", "later", "field", "code"),
    [
        ("emoji", False, "emoji.name", "duplicate-emoji"),
        ("emoji", True, "emoji.name", "duplicate-emoji"),
        ("scheme", False, "scheme.name", "duplicate-scheme"),
        ("role", False, "role.name", "duplicate-role"),
        ("role", True, "role.name", "duplicate-role"),
    ],
)
def test_nul_removal_never_merges_two_emoji_schemes_or_roles(
    kind: str, later: bool, field: str, code: str, tmp_path: Path
) -> None:
    # Emoji, schemes and roles are defined once by their exact name: `par\0ty` cleaned would
    # overwrite `party`. Refused like the other names; a scheme keeps its own roles' names too.
    make: Any = {"emoji": lambda n: emoji(n, "emoji/a.png"), "scheme": scheme, "role": role}[kind]
    name = {"emoji": "party", "scheme": "sch", "role": "custom_role"}[kind]
    found = name[:2] + "\x00" + name[2:]
    pair = [make(found), make(name)] if later else [make(name), make(found)]
    source = make_archive(tmp_path / "in.zip", [*pair, *base_lines()], {"data/emoji/a.png": PNG})
    changes, _ = fix(source, tmp_path / "out.zip")
    refused = [(c["field"], c["values"]) for c in changes if c["after"] is None]
    assert (field, {"kind": kind, "found": found, "name": name}) in refused
    if kind == "scheme":
        assert ("scheme.default_team_admin_role.name", "sch_team_admin") in [
            (f, v["name"]) for f, v in refused
        ]
    assert not [c for c in changes if (c["field"] or "").endswith(".name") and c["after"]]
    codes = {i.code for i in validate(tmp_path / "out.zip", max_issues=None).issues}
    assert code not in codes


def test_nul_removal_never_merges_two_keys_of_one_object(tmp_path: Path) -> None:
    # `a\0` without its NUL is `a`, which the props already have: a value would be lost.
    # Refused (the key kept, what is under it still cleaned); validate promises nothing there.
    props = {"a": 1, "a\x00": {"c": "x\x00y"}, "b\x00": 3}
    lines = [*base_lines(), post("eng", "dev", "alice", "hi", T0, props=props)]
    source = make_archive(tmp_path / "in.zip", lines)
    nul = [i for i in validate(source, max_issues=None).issues if i.code == "nul-character"]
    assert {i.field: repair_for(i) for i in nul} == {
        "post.props.a\x00": None,
        "post.props.a\x00.c": "remove-nul",
        "post.props.b\x00": "remove-nul",
    }
    changes, _ = fix(source, tmp_path / "out.zip")
    refused = [(c["field"], c["values"]) for c in changes if c["after"] is None]
    assert refused == [("post.props.a\x00", {"kind": "key", "found": "a\x00", "name": "a"})]
    out = orjson.loads(jsonl(tmp_path / "out.zip")[-1])["post"]["props"]
    assert out == {"a": 1, "a\x00": {"c": "xy"}, "b": 3}
    after = validate(tmp_path / "out.zip", max_issues=None).issues
    assert [i.field for i in after if i.code == "nul-character"] == ["post.props.a\x00"]
    assert repairable(after) == []


def test_validate_promises_remove_nul_only_where_fix_removes_it_for_certain(
    tmp_path: Path,
) -> None:
    # Free text: fix always cleans it. A name may be refused (it would be another one's):
    # validate, which does not weigh every definition, promises nothing there.
    lines = [*base_lines()[:3], user("bo\x00b", {"eng": ["dev"]}, nickname="n\x00k")]
    lines.append(user("bob", email="b2@x.io"))
    source = make_archive(tmp_path / "in.zip", lines)
    nul = [i for i in validate(source, max_issues=None).issues if i.code == "nul-character"]
    promised = {i.field: repair_for(i) for i in nul}
    assert promised["user.nickname"] == "remove-nul"
    assert "`archivekit fix` does this: remove-nul" in next(
        i.message for i in nul if i.field == "user.nickname"
    )
    assert promised["user.username"] is None
    changes, _ = fix(source, tmp_path / "out.zip")
    assert ("user.username", None) in [(c["field"], c["after"]) for c in changes]


def test_framing_bom_cr_blank_lines_and_text_after_the_json(tmp_path: Path) -> None:
    version = b'{"type":"version","version":1}'
    good = orjson.dumps(post("eng", "dev", "alice", "hi", T0))
    two = orjson.dumps(post("eng", "dev", "bob", "second", T0 + 1))
    lines = [
        b"\xef\xbb\xbf" + version,
        *(orjson.dumps(x) for x in base_lines()),
        good + b"\r",
        b"",
        b"   ",
        good.replace(b'"hi"', b'"hey"') + b" trailing",
        good.replace(b'"hi"', b'"one"') + two,
    ]
    source = make_archive(tmp_path / "in.zip", lines, version_line=False)
    assert validate(source, max_issues=None).errors
    changes, result = fix(source, tmp_path / "out.zip")
    repairs = sorted(c["repair"] for c in changes)
    assert repairs == [
        "drop-blank-line",
        "drop-blank-line",
        "remove-bom",
        "remove-cr",
        "remove-trailing-garbage",
        "remove-trailing-garbage",
    ]
    out = jsonl(tmp_path / "out.zip")
    assert out[0] == version
    assert out[5] == good
    assert out[6] == good.replace(b'"hi"', b'"hey"')
    assert out[7:] == [good.replace(b'"hi"', b'"one"'), two]  # glued lines come apart
    assert result.stats.lines_dropped == 2
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


def test_a_byte_order_mark_on_any_line_is_removed(tmp_path: Path) -> None:
    # Two exports joined with cat: the second one's BOM sits at the start of line 5.
    good = orjson.dumps(post("eng", "dev", "alice", "hi", T0))
    source = make_archive(tmp_path / "in.zip", [*base_lines(), b"\xef\xbb\xbf" + good])
    assert [i.line for i in validate(source, max_issues=None).issues if i.code == "bom"] == [6]
    changes, _ = fix(source, tmp_path / "out.zip")
    assert [(c["repair"], c["line"]) for c in changes] == [("remove-bom", 6)]
    assert jsonl(tmp_path / "out.zip")[5] == good
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


def test_a_definition_with_text_after_it_is_learned_when_lines_are_reordered(
    tmp_path: Path,
) -> None:
    lines = [
        post("Eng", "dev", "alice", "early", T0),  # uses the team before its line, mixed case
        orjson.dumps(team("eng")) + b" junk",
        channel("eng", "dev"),
        user("alice", {"eng": ["dev"]}),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, _ = fix(source, tmp_path / "out.zip")
    assert {"reorder-blocks", "remove-trailing-garbage", "lowercase-references"} <= {
        c["repair"] for c in changes
    }
    after = validate(tmp_path / "out.zip", max_issues=None)
    assert repairable(after.issues) == []
    assert after.errors == 0
    again, _ = fix(tmp_path / "out.zip", tmp_path / "again.zip")
    assert again == []  # idempotent


@pytest.mark.slow
@pytest.mark.parametrize("reorder", [False, True])
def test_a_line_over_16_mib_is_kept_as_it_is_and_reported(reorder: bool, tmp_path: Path) -> None:
    # A post whose message alone makes the line long: still not guessed at (not split).
    message = random.Random(14).randbytes(17 << 19).hex()  # 17 MiB; not a zip bomb
    long = orjson.dumps(post("eng", "dev", "alice", message, T0))
    early = [post("eng", "dev", "carol", "early", T0)] if reorder else []
    tail = [user("carol", {"eng": ["dev"]})] if reorder else []
    source = make_archive(tmp_path / "in.zip", [*base_lines(), *early, long, *tail])
    number = 6 + len(early)
    changes, result = fix(source, tmp_path / "out.zip")
    refused = [c for c in changes if c["after"] is None]
    assert [(c["repair"], c["line"]) for c in refused] == [("shorten-long-line", number)]
    assert result.log.refused == {"shorten-long-line": 1}
    assert result.stats.lines_dropped == 0
    assert result.stats.too_long == [number]
    assert result.stats.reordered is reorder
    out = jsonl(tmp_path / "out.zip")
    assert long in out  # byte-identical
    assert len(out) == len(jsonl(source))
    dry = fix_archive(source, dry_run=True)
    try:
        assert "shorten-long-line: line" in render_fix(dry)
        assert "nothing to repair" not in render_fix(dry)
        assert dry.summary()["not_repaired"] == {"shorten-long-line": 1}
    finally:
        dry.close()
    assert run_cli(str(source), "--dry-run").returncode == 1


def test_a_line_of_an_unknown_type_stays_with_the_lines_before_it(tmp_path: Path) -> None:
    mystery = b'{"type":"mystery","mystery":{}}'
    lines = [
        post("eng", "dev", "alice", "early", T0),
        user("alice", {"eng": ["dev"]}),
        team("eng"),
        mystery,
        channel("eng", "dev"),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    _changes, result = fix(source, tmp_path / "out.zip")
    assert result.stats.reordered
    types = [orjson.loads(line)["type"] for line in jsonl(tmp_path / "out.zip")]
    assert types == ["version", "team", "mystery", "channel", "user", "post"]


def test_a_leading_data_prefix_is_removed_when_the_file_is_then_found(tmp_path: Path) -> None:
    lines = [
        *base_lines(),
        user("carol", ["eng"], profile_image="data/img/carol.png"),
        emoji("party", "data/emoji/party.png"),
        post("eng", "dev", "alice", "a", T0, attachments=["data/files/a.png", "files/b.png"]),
        # data/ is right here: the file is stored as data/data/c.png.
        post("eng", "dev", "alice", "c", T0 + 1, attachments=["data/c.png"]),
    ]
    files = {
        "data/img/carol.png": PNG,
        "data/emoji/party.png": PNG,
        "data/files/a.png": PNG,
        "data/files/b.png": PNG,
        "data/data/c.png": PNG,
    }
    source = make_archive(tmp_path / "in.zip", lines, files)
    changes, _ = fix(source, tmp_path / "out.zip")
    assert sorted((c["field"], c["after"]) for c in changes) == [
        ("emoji.image", '"emoji/party.png"'),
        ("post.attachments[0].path", '"files/a.png"'),
        ("user.profile_image", '"img/carol.png"'),
    ]
    assert {c["repair"] for c in changes} == {"strip-data-prefix"}
    after = validate(tmp_path / "out.zip", max_issues=None)
    assert repairable(after.issues) == []
    assert after.errors == 0
    assert members(tmp_path / "out.zip") == members(source)


def test_validate_names_the_repair_exactly_where_fix_makes_it(tmp_path: Path) -> None:
    lines = [
        *base_lines(),
        user("carol", ["eng"], profile_image="data/img/carol.png"),  # data/ prefix
        user("dave", ["eng"], profile_image="img/dave.png"),  # stored at the root
        emoji("party", "data/emoji/party.png"),  # data/ prefix
        emoji("mycake", "emoji/cake.png"),  # in another folder
        post("eng", "dev", "alice", "moved", T0, attachments=["files/b.png"]),
        # A data/ prefix, and a reply attachment the server drops after it.
        post(
            "eng",
            "dev",
            "alice",
            "prefixed",
            T0 + 1,
            attachments=["data/files/a.png"],
            replies=[reply("bob", "r", T0 + 2, attachments=["files/c.png"])],
        ),
        orjson.dumps(post("eng", "dev", "bob", "glued", T0 + 3)) + b" junk",
        post("eng", "dev", "bob", "lost", T0 + 4, attachments=["files/nowhere.png"]),
    ]
    files = {
        "data/img/carol.png": PNG,
        "img/dave.png": PNG,
        "data/emoji/party.png": PNG,
        "old/emoji/cake.png": PNG,
        "export/files/b.png": PNG,
        "data/files/a.png": PNG,
        "data/files/c.png": PNG,
    }
    source = make_archive(tmp_path / "in.zip", lines, files)
    before = validate(source, max_issues=None)
    named = {(i.code, repair_for(i)) for i in before.issues if repair_for(i)}
    assert named >= {
        ("profile-image-missing", "strip-data-prefix"),
        ("profile-image-missing", "move-into-data"),
        ("emoji-image-missing", "strip-data-prefix"),
        ("emoji-image-missing", "move-into-data"),
        ("attachment-missing", "move-into-data"),
        ("attachment-data-prefix", "strip-data-prefix"),
        ("attachment-dropped", "strip-data-prefix"),
        ("json-decode", "remove-trailing-garbage"),
    }
    for issue in before.issues:
        if repair_for(issue) in ("strip-data-prefix", "move-into-data", "remove-trailing-garbage"):
            assert "`archivekit fix` does this" in issue.message
    # Not named where fix cannot: a file nowhere in the archive.
    lost = [i for i in before.issues if i.values.get("path") == "files/nowhere.png"]
    assert [(i.code, repair_for(i)) for i in lost] == [("attachment-missing", None)]
    fix(source, tmp_path / "out.zip")
    after = validate(tmp_path / "out.zip", max_issues=None)
    assert repairable(after.issues) == []
    left = {i.code for i in after.issues}
    assert left == {"attachment-missing"}  # files/nowhere.png only
    # The root causes say so too (a reply attachment dropped after a data/ prefix is a part of
    # that problem: fixed by the same repair).
    fixed = {c.code: c.fixed_by for c in before.causes if c.fixed_by}
    fixed.update({p.code: p.fixed_by for c in before.causes for p in c.parts if p.fixed_by})
    assert set(fixed) >= {code for code, _ in named}
    compound = [c for c in before.causes if c.parts]
    assert [(c.code, c.fixed_by) for c in compound] == [
        ("attachment-data-prefix", "strip-data-prefix")
    ]


def test_files_at_the_zip_root_or_in_another_folder_are_moved_under_data(tmp_path: Path) -> None:
    lines = [
        *base_lines(),
        user("carol", ["eng"], profile_image="carol.png"),  # at the zip root
        emoji("party", "emoji/party.png"),  # in another folder: old/emoji/party.png
        post(
            "eng",
            "dev",
            "alice",
            "a",
            T0,
            attachments=["data/files/a.png"],  # a data/ prefix and the file outside data/
            replies=[reply("bob", "r", T0 + 1, attachments=["attachments/r.png"])],
        ),
    ]
    files = {
        "carol.png": PNG,
        "old/emoji/party.png": PNG,
        "files/a.png": PNG,
        "attachments/r.png": PNG,  # the server's own test archive layout
    }
    source = make_archive(tmp_path / "in.zip", lines, files)
    assert validate(source, max_issues=None).errors > 0
    out = tmp_path / "out.zip"
    changes, result = fix(source, out)
    moved = {
        orjson.loads(c["before"]): orjson.loads(c["after"])
        for c in changes
        if c["repair"] == "move-into-data"
    }
    assert moved == {
        "carol.png": "data/carol.png",
        "old/emoji/party.png": "data/emoji/party.png",
        "files/a.png": "data/files/a.png",
        "attachments/r.png": "data/attachments/r.png",
    }
    assert [c["after"] for c in changes if c["repair"] == "strip-data-prefix"] == ['"files/a.png"']
    assert result.stats.members_moved == 4
    before, after = members(source), members(out)
    assert {moved[name]: data for name, data in before.items()} == after
    report = validate(out, max_issues=None)
    assert report.errors == 0
    assert repairable(report.issues) == []
    assert report.attachments.missing == 0
    again, _ = fix(out, tmp_path / "again.zip")
    assert again == []


def test_a_file_in_two_possible_places_is_reported_and_not_moved(tmp_path: Path) -> None:
    lines = [
        *base_lines(),
        post("eng", "dev", "alice", "one", T0, attachments=["pics/a.png"]),
        post("eng", "dev", "alice", "two", T0 + 1, attachments=["b.png"]),
    ]
    files = {"old/pics/a.png": PNG, "other/pics/a.png": PNG, "b.png": PNG}
    source = make_archive(tmp_path / "in.zip", lines, files)
    changes, result = fix(source, tmp_path / "out.zip")
    refused = [c for c in changes if c["after"] is None]
    assert len(refused) == 1
    assert refused[0]["repair"] == "move-into-data"
    assert "2 files outside data/" in refused[0]["note"]
    assert result.log.refused == {"move-into-data": 1}
    out = members(tmp_path / "out.zip")
    assert "old/pics/a.png" in out
    assert "other/pics/a.png" in out
    assert out["data/b.png"] == members(source)["b.png"]  # the one unambiguous file moved
    assert jsonl(tmp_path / "out.zip") == jsonl(source)


def test_references_are_lowercased_only_to_a_name_the_archive_defines(tmp_path: Path) -> None:
    lines = [
        team("eng"),
        channel("eng", "dev"),
        user("alice", {"eng": ["dev"]}),
        user("Bob", {"Eng": ["Dev"]}),  # defined in mixed case: stored as "bob"
        post("ENG", "Dev", "BOB", "hi", T0, flagged_by=["Alice"], replies=[reply("Bob", "r", T0)]),
        post("eng", "dev", "Mallory", "unknown user: left as it is", T0 + 1),
        direct_post(["Alice", "bob"], "Alice", "dm", T0 + 2),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, _ = fix(source, tmp_path / "out.zip")
    assert {c["repair"] for c in changes} == {"lowercase-references", "lowercase-definitions"}
    assert all(orjson.loads(c["after"]) == orjson.loads(c["before"]).lower() for c in changes)
    assert not any("Mallory" in c["before"] for c in changes)
    # The definition itself: the server stores "bob" anyway.
    assert [(c["line"], c["field"]) for c in changes if c["repair"] == "lowercase-definitions"] == [
        (5, "user.username")
    ]
    after = validate(tmp_path / "out.zip", max_issues=None)
    assert repairable(after.issues) == []
    assert after.issue_counts == {"unknown-user": 1}


def test_definitions_are_written_lowercase_as_the_server_stores_them(tmp_path: Path) -> None:
    lines = [
        team("Eng"),
        channel("ENG", "Dev"),
        user("Alice", {"eng": ["dev"]}),
        bot("Helper", "ALICE"),  # the owner: validated as written, looked up in any case
        bot("plugin-bot", "Com.Plugin"),  # no such user: a plugin id, stored as it is
        post("eng", "dev", "alice", "hi", T0),
        post("eng", "dev", "helper", "hi", T0 + 1),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    before = validate(source, max_issues=None)
    warnings = [i for i in before.issues if i.code == "apply-invalid"]
    assert [(i.field, repair_for(i)) for i in warnings] == [
        ("team.name", "lowercase-definitions"),
        ("channel.name", "lowercase-definitions"),
    ]
    out = tmp_path / "out.zip"
    changes, _ = fix(source, out)
    assert [(c["line"], c["repair"], c["field"], c["after"]) for c in changes] == [
        (2, "lowercase-definitions", "team.name", '"eng"'),
        (3, "lowercase-definitions", "channel.team", '"eng"'),
        (3, "lowercase-definitions", "channel.name", '"dev"'),
        (4, "lowercase-definitions", "user.username", '"alice"'),
        (5, "lowercase-definitions", "bot.username", '"helper"'),
        (5, "lowercase-references", "bot.owner", '"alice"'),
    ]
    after = validate(out, max_issues=None)
    assert list(after.issues) == [i for i in after.issues if i.field == "bot.owner"]
    assert [i.values.get("found") for i in after.issues] == ["Com.Plugin"]
    assert jsonl(out)[5:] == jsonl(source)[5:]  # the plugin bot and the posts: as they were
    again, _ = fix(out, tmp_path / "again.zip")
    assert again == []


def test_lines_used_before_their_definition_are_put_in_block_order(tmp_path: Path) -> None:
    lines = [
        post("eng", "dev", "alice", "early", T0),
        user("alice", {"eng": ["dev"]}),
        channel("eng", "dev"),
        team("eng"),
        post("eng", "dev", "alice", "late", T0 + 1),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    assert validate(source, max_issues=None).issue_counts.get("defined-later")
    changes, result = fix(source, tmp_path / "out.zip")
    # Every line moved out of place, logged: input line, its output position without → with
    # the reorder. Three moved up (the definitions); the early post only shifts down.
    moves = [(c["repair"], c["line"], c["before"], c["after"]) for c in changes]
    assert moves == [
        ("reorder-blocks", 5, '"output line 5"', '"output line 2"'),
        ("reorder-blocks", 4, '"output line 4"', '"output line 3"'),
        ("reorder-blocks", 3, '"output line 3"', '"output line 4"'),
    ]
    assert result.log.applied == {"reorder-blocks": 3}
    assert result.stats.reordered
    out = jsonl(tmp_path / "out.zip")
    types = [orjson.loads(line)["type"] for line in out]
    assert types == ["version", "team", "channel", "user", "post", "post"]
    assert sorted(out) == sorted(jsonl(source))  # the same lines, only moved
    assert b"early" in out[4]
    assert b"late" in out[5]
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


@pytest.mark.parametrize("reorder", [False, True])
def test_a_second_version_line_is_dropped_never_moved_to_line_2(
    reorder: bool, tmp_path: Path
) -> None:
    # Two exports joined: the second one's version line sits in the middle. The server accepts
    # a version line only as line 1 (elsewhere: unknown_line_type, the import stops), and it
    # carries nothing: dropped. A reorder must not move it to line 2.
    version = orjson.dumps({"type": "version", "version": 1})
    early = [post("eng", "dev", "alice", "early", T0)] if reorder else []
    lines = [version, *early, *base_lines(), version, post("eng", "dev", "bob", "second", T0)]
    source = make_archive(tmp_path / "in.zip", lines)
    stray = [i for i in validate(source, max_issues=None).issues if i.code == "version-not-first"]
    assert [i.line for i in stray] == [7 if reorder else 6]
    assert "move the first version line to line 1 and remove any other" in stray[0].message
    assert "drop-stray-version" in stray[0].message
    assert stray[0].values["repair"] == "drop-stray-version"
    assert repair_for(stray[0]) == "drop-stray-version"
    changes, result = fix(source, tmp_path / "out.zip")
    dropped = [(c["repair"], c["line"]) for c in changes if c["repair"] == "drop-stray-version"]
    assert dropped == [("drop-stray-version", 7 if reorder else 6)]
    out = jsonl(tmp_path / "out.zip")
    types = [orjson.loads(line)["type"] for line in out]
    assert types == ["version", "team", "channel", "user", "user", "post", *(["post"] * reorder)]
    assert out[0] == version
    assert out.count(version) == 1
    assert result.stats.lines_dropped == 1
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


@pytest.mark.parametrize("reorder", [False, True])
def test_the_first_version_line_moves_to_line_1_later_ones_are_dropped(
    reorder: bool, tmp_path: Path
) -> None:
    # The only version line sits after the definitions: moved to line 1 (a move, logged),
    # never dropped — with or without another reason to reorder.
    version = orjson.dumps({"type": "version", "version": 1})
    early = [post("eng", "dev", "alice", "early", T0)] if reorder else []
    lines = [*early, *base_lines(), version, post("eng", "dev", "bob", "b", T0), version]
    source = make_archive(tmp_path / "in.zip", lines, version_line=False)
    # validate sees one line at a time: its words hold whether the line is the first version
    # line (moved) or a later one (dropped).
    stray = [i for i in validate(source, max_issues=None).issues if i.code == "version-not-first"]
    assert len(stray) == 2
    assert all("move the first version line to line 1" in i.message for i in stray)
    changes, result = fix(source, tmp_path / "out.zip")
    out = jsonl(tmp_path / "out.zip")
    assert out[0] == version
    assert out.count(version) == 1
    # Both under the repair validate names: the first one moved (output line before -> 1),
    # the later one removed.
    stray_changes = [c for c in changes if c["repair"] == "drop-stray-version"]
    assert sorted((c["line"], c["after"]) for c in stray_changes) == [
        (len(lines) - 2, '"output line 1"'),
        (len(lines), '""'),
    ]
    assert len(lines) - 2 not in [c["line"] for c in changes if c["repair"] == "reorder-blocks"]
    assert result.stats.lines_dropped == 1
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []
    again, _ = fix(tmp_path / "out.zip", tmp_path / "again.zip")
    assert again == []


@pytest.mark.parametrize("later", ["versioned", "without a version", "none"])
def test_validate_names_the_move_of_a_later_version_line_on_version_missing(
    later: str, tmp_path: Path
) -> None:
    # Line 1 is another line. With a version line further down, fix moves the first one to
    # line 1: version-missing goes — if that line has a version. validate, which knows only
    # at the end, names the repair exactly then.
    stray = {
        "versioned": [orjson.dumps({"type": "version", "version": 1})],
        "without a version": [orjson.dumps({"type": "version"})],
        "none": [],
    }[later]
    lines = [*base_lines(), *stray, post("eng", "dev", "bob", "b", T0)]
    source = make_archive(tmp_path / "in.zip", lines, version_line=False)
    [missing] = [i for i in validate(source, max_issues=1).issues if i.code == "version-missing"]
    promised = later == "versioned"
    assert (repair_for(missing) == "drop-stray-version") is promised
    assert ("`archivekit fix` does this: drop-stray-version" in missing.message) is promised
    causes = [c for c in validate(source, max_issues=None).causes if c.code == "version-missing"]
    assert [c.fixed_by for c in causes] == ["drop-stray-version" if promised else None]
    changes, _ = fix(source, tmp_path / "out.zip")
    codes = {i.code for i in validate(tmp_path / "out.zip", max_issues=None).issues}
    assert ("version-missing" not in codes) is promised
    # fix names the move as validate does (any version line moved to line 1).
    moved = [(c["repair"], c["line"], c["after"]) for c in changes if c["line"] == 5]
    assert moved == ([("drop-stray-version", 5, '"output line 1"')] if stray else [])


@pytest.mark.parametrize("misplaced", ["late definition", "early post"])
def test_the_reorder_logs_only_the_lines_moved_out_of_place(misplaced: str, tmp_path: Path) -> None:
    # 2 misplaced lines among 24: 2 entries, not one per line that shifts because of them.
    posts = [post("eng", "dev", "alice", f"p{i}", T0 + i) for i in range(20)]
    carol = user("carol", {"eng": ["dev"]})
    if misplaced == "late definition":  # carol's line and the channel after the posts
        lines = [team("eng"), user("alice", {"eng": ["dev"]}), *posts[:1]]
        lines += [post("eng", "dev", "carol", "c", T0), *posts[1:]]
        lines += [channel("eng", "dev"), carol]
        expected = [25, 26]  # (the version line is line 1)
    else:  # two posts before every definition
        lines = [*posts[:2], team("eng"), channel("eng", "dev"), user("alice", {"eng": ["dev"]})]
        lines += posts[2:]
        expected = [2, 3]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, result = fix(source, tmp_path / "out.zip")
    assert result.stats.reordered
    assert sorted(c["line"] for c in changes) == expected
    assert {c["repair"] for c in changes} == {"reorder-blocks"}
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


@pytest.mark.parametrize("late", ["flagger", "reaction", "scheme"])
def test_every_kind_of_reference_used_early_leads_to_block_order(late: str, tmp_path: Path) -> None:
    early = {
        "flagger": post("eng", "dev", "alice", "p", T0, flagged_by=["carol"]),
        "reaction": post("eng", "dev", "alice", "p", T0, reactions=[reaction("carol", "+1", T0)]),
        "scheme": team("ops", scheme="ops_scheme"),
    }[late]
    definition = scheme("ops_scheme") if late == "scheme" else user("carol", {"eng": ["dev"]})
    source = make_archive(tmp_path / "in.zip", [*base_lines(), early, definition])
    assert "defined-later" in validate(source, max_issues=None).issue_counts
    changes, _ = fix(source, tmp_path / "out.zip")
    assert {c["repair"] for c in changes} == {"reorder-blocks"}
    # The definition moved up over the early line (which only shifts: not logged); a team
    # line after the channel and users moves up too.
    assert [c["line"] for c in changes] == ([7, 6] if late == "scheme" else [7])
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


def test_long_messages_are_split_into_replies_and_nothing_is_lost(tmp_path: Path) -> None:
    text = ("word " * 4000).strip()  # 19,999 characters
    lines = [
        *base_lines(),
        post("eng", "dev", "alice", text, T0, replies=[reply("bob", "x" * 40_000, T0 + 10)]),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, _ = fix(source, tmp_path / "out.zip")
    assert [c["repair"] for c in changes] == ["split-long-message"] * 2
    record = orjson.loads(jsonl(tmp_path / "out.zip")[-1])["post"]
    parts = [record["message"], *(r["message"] for r in record["replies"])]
    assert all(len(part) <= 16383 for part in parts)
    assert record["message"] + record["replies"][0]["message"] == text
    assert "".join(r["message"] for r in record["replies"][1:]) == "x" * 40_000
    assert [r["user"] for r in record["replies"]] == ["alice", "bob", "bob", "bob"]
    times = [r["create_at"] for r in record["replies"]]
    assert times == sorted(times)
    after = validate(tmp_path / "out.zip", max_issues=None)
    assert list(after.issues) == []
    # A smaller limit (the target's MaxPostSize) is where it cuts.
    fix(source, tmp_path / "small.zip", options=FixOptions(max_post_size=5000))
    record = orjson.loads(jsonl(tmp_path / "small.zip")[-1])["post"]
    assert len(record["message"]) <= 5000


def test_a_split_piece_never_takes_the_identity_of_a_reply_of_its_thread(tmp_path: Path) -> None:
    # The server knows a reply by (channel, create_at, message, root): a piece with the time
    # and text of an existing reply would be imported as that reply. It gets the next time.
    rest = "x" * 3_617
    existing = reply("bob", rest, T0 + 1)
    lines = [*base_lines(), post("eng", "dev", "alice", "x" * 20_000, T0, replies=[existing])]
    source = make_archive(tmp_path / "in.zip", lines)
    fix(source, tmp_path / "out.zip")
    replies = orjson.loads(jsonl(tmp_path / "out.zip")[-1])["post"]["replies"]
    times = [(r["user"], r["create_at"], len(r["message"])) for r in replies]
    assert times == [("alice", T0 + 2, 3_617), ("bob", T0 + 1, 3_617)]
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


@pytest.mark.slow
def test_a_split_that_would_take_the_line_over_16_mib_is_not_made(tmp_path: Path) -> None:
    # Each reply carrying a piece adds its own fields: a line just under the server's line
    # limit would go over it (line-too-long, the import stops). Reported, the line kept.
    limit = 16_777_215
    skeleton = len(orjson.dumps(post("eng", "dev", "alice", "", T0)))
    size = limit - skeleton - 10
    text = base64.b64encode(random.Random(0).randbytes(size))[:size].decode()  # no zip bomb
    line = orjson.dumps(post("eng", "dev", "alice", text, T0))
    source = make_archive(tmp_path / "in.zip", [*base_lines(), line])
    changes, _ = fix(source, tmp_path / "out.zip")
    assert [(c["repair"], c["after"]) for c in changes] == [("split-long-message", None)]
    assert changes[0]["values"] == {"found": changes[0]["values"]["found"], "limit": limit}
    assert changes[0]["values"]["found"] > limit
    assert "over the server's line limit" in changes[0]["note"]
    assert jsonl(tmp_path / "out.zip")[-1] == line
    codes = {i.code for i in validate(tmp_path / "out.zip", max_issues=None).issues}
    assert "line-too-long" not in codes


def test_no_split_whose_pieces_would_pass_the_largest_time(tmp_path: Path) -> None:
    top = 2**63 - 1
    lines = [*base_lines(), post("eng", "dev", "alice", "x" * 20_000, top)]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, _ = fix(source, tmp_path / "out.zip")
    assert [(c["repair"], c["after"]) for c in changes] == [("split-long-message", None)]
    assert changes[0]["values"] == {"found": top, "limit": top}
    assert jsonl(tmp_path / "out.zip")[-1] == orjson.dumps(lines[-1])


def _without(record: dict[str, Any], *path: Any) -> dict[str, Any]:
    """``record`` with the key at ``path`` (inside its post) removed."""
    holder = record["post"]
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    return record


# Each a post line whose long message fix does not split: validate must not promise it.
def _refused_split(case: str) -> bytes:
    top = 2**63 - 1
    if case == "time at the largest":
        return orjson.dumps(post("eng", "dev", "alice", "x" * 20_000, top))
    if case == "reply near the largest time":
        replies = [reply("bob", "y" * 20_000, top - 3)]
        return orjson.dumps(post("eng", "dev", "alice", "x", T0, replies=replies))
    if case == "post without create_at":
        return orjson.dumps(_without(post("eng", "dev", "alice", "x" * 20_000, T0), "create_at"))
    if case == "reply without create_at":
        replies = [reply("bob", "y" * 20_000, T0 + 1)]
        record = post("eng", "dev", "alice", "x", T0, replies=replies)
        return orjson.dumps(_without(record, "replies", 0, "create_at"))
    if case == "split line over 16 MiB":  # each reply adds its fields: over the line limit
        skeleton = len(orjson.dumps(post("eng", "dev", "alice", "", T0)))
        size = 16_777_215 - skeleton - 10
        text = base64.b64encode(random.Random(0).randbytes(size))[:size].decode()
        return orjson.dumps(post("eng", "dev", "alice", text, T0))
    assert case == "line over 16 MiB"  # never decoded: line-too-long, no message_length
    return orjson.dumps(post("eng", "dev", "alice", random.Random(1).randbytes(9 << 20).hex(), T0))


@pytest.mark.parametrize(
    "case",
    [
        "time at the largest",
        "reply near the largest time",
        "post without create_at",
        "reply without create_at",
        pytest.param("split line over 16 MiB", marks=pytest.mark.slow),
        pytest.param("line over 16 MiB", marks=pytest.mark.slow),
    ],
)
def test_validate_never_promises_a_split_fix_refuses(case: str, tmp_path: Path) -> None:
    line = _refused_split(case)
    source = make_archive(tmp_path / "in.zip", [*base_lines(), line])
    before = validate(source, max_issues=None).issues
    assert [i for i in before if i.line == 6]  # the line has its issue
    for issue in before:
        assert repair_for(issue) is None, issue.to_dict()
        assert "split-long-message" not in issue.message
    assert not [c for c in validate(source, max_issues=None).causes if c.fixed_by]
    changes, _ = fix(source, tmp_path / "out.zip")
    assert changes  # reported: split-long-message or shorten-long-line, not made
    assert all(c["after"] is None for c in changes), changes
    assert jsonl(tmp_path / "out.zip")[-1] == line


def test_validate_promises_a_split_where_the_time_leaves_room(tmp_path: Path) -> None:
    # Room for the pieces and a margin of two milliseconds per reply and piece: promised, made.
    top = 2**63 - 1
    line = post("eng", "dev", "alice", "x" * 20_000, top - 10, replies=[reply("bob", "r", top - 9)])
    source = make_archive(tmp_path / "in.zip", [*base_lines(), line])
    [issue] = validate(source, max_issues=None).issues
    assert repair_for(issue) == "split-long-message"
    assert issue.message.endswith("(`archivekit fix` does this: split-long-message)")
    fix(source, tmp_path / "out.zip")
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


@pytest.mark.parametrize(("size", "repair"), [(16_380, "remove-nul"), (20_000, "split")])
def test_a_message_too_long_with_its_nul_characters_is_promised_what_fix_does(
    size: int, repair: str, tmp_path: Path
) -> None:
    # fix removes NULs before it splits: within the limit without them, the message is not
    # split, and validate names remove-nul; over it, it is split without them.
    text = "a" * size + "\x00" * 8
    source = make_archive(
        tmp_path / "in.zip", [*base_lines(), post("eng", "dev", "alice", text, T0)]
    )
    [long] = [
        i
        for i in validate(source, max_issues=None).issues
        if i.server_error_id in MESSAGE_LENGTH_IDS
    ]
    changes, _ = fix(source, tmp_path / "out.zip")
    record = orjson.loads(jsonl(tmp_path / "out.zip")[-1])["post"]
    parts = [record["message"], *(r["message"] for r in record.get("replies", ()))]
    assert "".join(parts) == "a" * size
    if repair == "remove-nul":
        assert repair_for(long) == "remove-nul"
        assert "Without its NUL characters it is 16,380 characters long" in long.message
        assert long.message.endswith("(`archivekit fix` does this: remove-nul)")
        assert [c["repair"] for c in changes] == ["remove-nul"]
        assert len(parts) == 1
    else:
        assert repair_for(long) == "split-long-message"
        assert [c["repair"] for c in changes] == ["remove-nul", "split-long-message"]
        assert [len(part) for part in parts] == [16_383, 20_000 - 16_383]
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


_TIMES = st.one_of(
    st.just(None), st.integers(-(2**63), 2**63 - 1), st.integers(2**63 - 60, 2**63 - 1)
)


@st.composite
def _long_posts(draw: st.DrawFn) -> dict[str, Any]:
    """A post or direct post with messages around the limit, times anywhere (or none)."""

    def message() -> str:
        size = draw(st.sampled_from([5, 16_380, 16_383, 16_384, 20_000, 40_000]))
        text = draw(st.sampled_from(["x", "a b\n", "é"])) * size
        return text + "\x00" * draw(st.sampled_from([0, 0, 1, 4]))  # NULs fix removes first

    def one(record: dict[str, Any]) -> dict[str, Any]:
        created = draw(_TIMES)
        if created is None:
            del record["create_at"]
        else:
            record["create_at"] = created
        return record

    replies = [
        one(reply(draw(st.sampled_from(["bob", "alice"])), message(), T0))
        for _ in range(draw(st.integers(0, 3)))
    ]
    reactions = [reaction("bob", "smile", T0)] * draw(st.integers(0, 2))
    if draw(st.booleans()):
        body = post("eng", "dev", "alice", message(), T0, replies=replies, reactions=reactions)
    else:
        body = direct_post(["alice", "bob"], "alice", message(), T0, replies=replies)
    kind = body["type"]
    one(body[kind])
    return body


@settings(
    max_examples=scaled_examples(0.5),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=st.lists(_long_posts(), min_size=1, max_size=4))
def test_every_split_validate_promises_fix_makes_and_no_other(
    lines: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("split")
    source = make_archive(folder / "in.zip", [*base_lines(), *lines])
    issues = validate(source, max_issues=None).issues
    promised = {(i.line, i.field) for i in issues if repair_for(i) == "split-long-message"}
    # Too long only with its NULs: the promise is their removal, which fix makes.
    cleaned = {
        (i.line, i.field)
        for i in issues
        if i.server_error_id in MESSAGE_LENGTH_IDS and repair_for(i) == "remove-nul"
    }
    changes, _ = fix(source, folder / "out.zip")
    assert cleaned <= {(c["line"], c["field"]) for c in changes if c["repair"] == "remove-nul"}
    made = {(c["line"], c["field"]) for c in changes if c["repair"] == "split-long-message"}
    made_ok = {
        (c["line"], c["field"])
        for c in changes
        if c["repair"] == "split-long-message" and c["after"] is not None
    }
    assert promised <= made_ok  # every promise kept
    # What validate reports after: none of what it promised (the lines keep their numbers).
    after = validate(folder / "out.zip", max_issues=None).issues
    assert repairable(after) == []
    assert not {(i.line, i.field) for i in after} & (promised | cleaned)
    # What fix refused, validate did not promise.
    assert not (made - made_ok) & promised


@pytest.mark.slow
@pytest.mark.parametrize(
    ("size", "max_post_size"),
    [(20_000_000, 16_383), (16_000_000, 16_000_000)],
    ids=["20 MB line kept as it is", "16 MB message not split"],
)
def test_fixs_jsonl_never_expands_past_the_readers_zip_bomb_limit(
    size: int, max_post_size: int, tmp_path: Path
) -> None:
    # One character repeated deflates over 1,000 times: readers (archivekit's and the
    # server's zip-bomb limit) would refuse fix's own output. The writer stores such pieces.
    line = post("eng", "dev", "alice", "a" * size, T0)
    source = make_archive(tmp_path / "in.zip", [*base_lines(), line], method="stored")
    fix(source, tmp_path / "out.zip", options=FixOptions(max_post_size=max_post_size))
    info = zipfile.ZipFile(tmp_path / "out.zip").getinfo("import.jsonl")
    assert info.file_size / info.compress_size <= 500
    codes = {i.code for i in validate(tmp_path / "out.zip", max_issues=None).issues}
    assert "member-ratio" not in codes
    assert jsonl(tmp_path / "out.zip")[-1] == orjson.dumps(line)


def test_a_reply_moved_to_its_posts_time_never_takes_another_replys_identity(
    tmp_path: Path,
) -> None:
    # Two replies "same": one at the post's time, one older. Moved to the post's time it
    # would be the first one (time and text): it gets the next free millisecond.
    replies = [reply("bob", "same", T0), reply("bob", "same", T0 - 5)]
    lines = [*base_lines(), post("eng", "dev", "alice", "p", T0, replies=replies)]
    source = make_archive(tmp_path / "in.zip", lines)
    fix(source, tmp_path / "out.zip")
    out = orjson.loads(jsonl(tmp_path / "out.zip")[-1])["post"]["replies"]
    assert [r["create_at"] for r in out] == [T0, T0 + 1]


def test_split_message_cuts_on_line_breaks_then_spaces_then_anywhere() -> None:
    assert list(split_message("ab\ncd ef", 4)) == ["ab\n", "cd ", "ef"]
    assert list(split_message("abcdefghij", 4)) == ["abcd", "efgh", "ij"]
    assert list(split_message("short", 10)) == ["short"]


def test_replies_and_reactions_older_than_their_post_get_its_time(tmp_path: Path) -> None:
    lines = [
        *base_lines(),
        post(
            "eng",
            "dev",
            "alice",
            "p",
            T0 + 100,
            reactions=[reaction("bob", "smile", T0)],
            replies=[reply("bob", "early", T0 + 50), reply("bob", "late", T0 + 200)],
        ),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, _ = fix(source, tmp_path / "out.zip")
    assert sorted((c["field"], c["after"]) for c in changes) == [
        ("post.reactions[0].create_at", str(T0 + 100)),
        ("post.replies[0].create_at", str(T0 + 100)),
    ]
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


def test_a_member_that_cannot_be_read_is_copied_as_it_is_and_reported(tmp_path: Path) -> None:
    lines = [*base_lines(), post("eng", "dev", "alice", "a", T0, attachments=["a.bin"])]
    payload = bytes(range(256)) * 64
    source = make_archive(
        tmp_path / "in.zip", lines, {"data/a.bin": payload}, attachment_method="deflate64"
    )
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo("data/a.bin")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle] ^= 0xFF  # damaged: inflating fails or the CRC does not match
    source.write_bytes(bytes(data))
    changes, result = fix(source, tmp_path / "out.zip")
    refused = [c for c in changes if c["after"] is None]
    assert [c["repair"] for c in refused] == ["recompress"]
    assert "copied as it is" in refused[0]["note"]
    assert result.stats.members_recompressed == 0
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        copied = zf.getinfo("data/a.bin")
        assert zf.namelist() == ["import.jsonl", "data/a.bin"]
    assert (copied.CRC, copied.compress_size) == (info.CRC, info.compress_size)


def _zip_with(path: Path, jsonl_bytes: bytes, method: int, jsonl_method: int) -> Path:
    """An archive whose JSONL and attachment data/a.png are compressed with the given
    zipfile methods (bzip2 and LZMA: the standard library writes them)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("import.jsonl", jsonl_bytes, compress_type=jsonl_method)
        zf.writestr("data/a.png", PNG * 50, compress_type=method)
    return path


def _posted(tmp_path: Path, method: int, jsonl_method: int = zipfile.ZIP_DEFLATED) -> Path:
    """in.zip: the base lines and a post attaching a.png (data/a.png, written with the zipfile
    ``method``; the JSONL with ``jsonl_method``)."""
    lines = [*base_lines(), post("eng", "dev", "alice", "a", T0, attachments=["a.png"])]
    plain = make_archive(tmp_path / "plain.zip", lines)
    return _zip_with(tmp_path / "in.zip", b"\n".join(jsonl(plain)) + b"\n", method, jsonl_method)


def _seven_zip_with(seven_zip: str, path: Path, jsonl_bytes: bytes, method: str) -> Path:
    """The same, written by 7-Zip (its own bzip2 and LZMA encoders, its own flags)."""
    folder = path.parent / f"tree-{method}"
    (folder / "data").mkdir(parents=True)
    (folder / "import.jsonl").write_bytes(jsonl_bytes)
    (folder / "data" / "a.png").write_bytes(PNG * 50)
    subprocess.run(
        [seven_zip, "a", "-tzip", f"-mm={method}", str(path), "import.jsonl", "data"],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return path


@pytest.mark.parametrize(
    ("maker", "method"),
    [
        ("synth", zipfile_deflate64.ZIP_DEFLATED64),
        ("python", zipfile.ZIP_BZIP2),
        ("python", zipfile.ZIP_LZMA),
        ("7z", zipfile.ZIP_BZIP2),
        ("7z", zipfile.ZIP_LZMA),
    ],
)
def test_members_the_server_cannot_read_are_recompressed_with_deflate(
    maker: str, method: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    lines = [*base_lines(), post("eng", "dev", "alice", "a", T0, attachments=["a.png"])]
    text = b"".join(line + b"\n" for line in jsonl(make_archive(tmp_path / "plain.zip", lines)))
    if maker == "7z":
        seven_zip = request.getfixturevalue("seven_zip")
        name = "BZip2" if method == zipfile.ZIP_BZIP2 else "LZMA"
        source = _seven_zip_with(seven_zip, tmp_path / "in.zip", text, name)
    elif maker == "synth":  # deflate64: the writer of archivekit's test factory
        source = make_archive(
            tmp_path / "in.zip",
            jsonl(make_archive(tmp_path / "plain.zip", lines)),
            {"data/a.png": PNG * 50},
            method="deflate64",
            attachment_method="deflate64",
        )
    else:
        source = _zip_with(tmp_path / "in.zip", text, method, method)
    with zipfile.ZipFile(source) as zf:
        assert {i.compress_type for i in zf.infolist() if i.file_size} == {method}
    report = validate(source, max_issues=None)
    found = [i for i in report.issues if i.code.endswith("-unsupported-compression")]
    assert {i.code for i in found} == {
        "member-unsupported-compression",
        "jsonl-unsupported-compression",
    }
    assert all(repair_for(i) == "recompress" for i in found)
    assert all("`archivekit fix` does this: recompress" in i.message for i in found)
    changes, result = fix(source, tmp_path / "out.zip")
    assert [(c["repair"], c["after"]) for c in changes] == [("recompress", '"deflate"')] * 2
    assert result.stats.members_recompressed == 1
    out = members(tmp_path / "out.zip")
    assert out["data/a.png"][0] == zipfile.ZIP_DEFLATED
    assert out["data/a.png"][3] == PNG * 50
    assert jsonl(tmp_path / "out.zip") == text.split(b"\n")[:-1]
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


def test_fix_of_its_own_output_is_byte_identical_after_a_recompress(tmp_path: Path) -> None:
    # A re-compressed member carries its sizes in the local header (no data descriptor), as
    # the raw copy of the second run writes it; so does a file of an export folder.
    source = _posted(tmp_path, zipfile.ZIP_LZMA)
    folder = tmp_path / "export"
    with zipfile.ZipFile(source) as zf:
        zf.extractall(folder)
    for start in (source, folder):
        out, again = tmp_path / "out.zip", tmp_path / "again.zip"
        fix(start, out)
        with zipfile.ZipFile(out) as zf:
            assert not zf.getinfo("data/a.png").flag_bits & 0x08
        changes, _ = fix(out, again)
        assert changes == []
        assert again.read_bytes() == out.read_bytes()


ZEROS = bytes(8 << 20)  # a blank image, a sparse file: any method's best case


def _dense(tmp_path: Path, method: int) -> Path:
    """in.zip: the base lines and a post attaching z.bin, 8 MiB of zeros in ``method``
    (deflate64 by the test factory's writer; bzip2 and LZMA by the standard library's)."""
    lines = [*base_lines(), post("eng", "dev", "alice", "a", T0, attachments=["z.bin"])]
    if method == zipfile_deflate64.ZIP_DEFLATED64:
        files, methods = {"data/z.bin": ZEROS}, {"data/z.bin": "deflate64"}
        return make_archive(tmp_path / "in.zip", lines, files, file_methods=methods)
    text = b"\n".join(jsonl(make_archive(tmp_path / "plain.zip", lines))) + b"\n"
    with zipfile.ZipFile(tmp_path / "in.zip", "w") as zf:
        zf.writestr("import.jsonl", text, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("data/z.bin", ZEROS, compress_type=method)
    return tmp_path / "in.zip"


@pytest.mark.parametrize(
    "method", [zipfile_deflate64.ZIP_DEFLATED64, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
)
def test_a_member_expanding_past_the_readers_ratio_limit_is_recompressed_within_it(
    method: int, tmp_path: Path
) -> None:
    # Past the 1,000:1 the readers stop at as a zip bomb: fix reads it up to the size it
    # declares (no further) and deflates it within the ratio, so validate's promise holds.
    source = _dense(tmp_path, method)
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo("data/z.bin")
    assert info.file_size > ReadLimits().max_ratio * info.compress_size
    promised = validate(source, max_issues=None).issues
    assert {(i.code, repair_for(i)) for i in promised} == {
        ("member-unsupported-compression", "recompress")
    }
    out, again = tmp_path / "out.zip", tmp_path / "again.zip"
    changes, result = fix(source, out)
    assert [(c["repair"], c["after"]) for c in changes] == [("recompress", '"deflate"')]
    assert result.stats.members_recompressed == 1
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo("data/z.bin")
        assert zf.read("data/z.bin") == ZEROS
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert info.file_size <= MAX_WRITTEN_RATIO * info.compress_size
    # Every file read in full, with the readers' limits: nothing to report.
    assert list(validate(out, max_issues=None, verify_files=True).issues) == []
    changes, _ = fix(out, again)
    assert changes == []
    assert again.read_bytes() == out.read_bytes()


def test_the_zip_bomb_guards_bound_what_fix_inflates_to_recompress(tmp_path: Path) -> None:
    # A member past the ratio limit is read to the size it declares: --max-member-size (as
    # validate's) caps that, and the member is then reported and copied as it is.
    source = _dense(tmp_path, zipfile.ZIP_BZIP2)
    done = run_cli(
        str(source),
        "-o",
        str(tmp_path / "out.zip"),
        "--max-member-size",
        "1000000",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    document = orjson.loads(done.stdout)
    assert (document["members_recompressed"], document["not_repaired"]) == (0, {"recompress": 1})
    (refused,) = document["change_log"]
    assert (refused["repair"], refused["after"]) == ("recompress", None)
    assert "over the limit of 1,000,000" in refused["note"]
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.getinfo("data/z.bin").compress_type == zipfile.ZIP_BZIP2


def test_every_temporary_file_of_a_run_is_beside_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The change log, the reorder's spool and a re-compressed member wait on the output's
    # disk, never in the system's temporary folder.
    import tempfile

    folders: list[object] = []
    real = tempfile.TemporaryFile

    def spy(*args: Any, **kw: Any) -> Any:
        folders.append(kw.get("dir"))
        return real(*args, **kw)

    monkeypatch.setattr(tempfile, "TemporaryFile", spy)
    early = post("eng", "dev", "alice", "early", T0, attachments=["a.png"])
    plain = make_archive(tmp_path / "plain.zip", [early, *base_lines()], version_line=True)
    source = _zip_with(tmp_path / "in.zip", b"\n".join(jsonl(plain)) + b"\n", 12, 8)
    (tmp_path / "out").mkdir()
    _changes, result = fix(source, tmp_path / "out" / "fixed.zip")
    assert result.stats.reordered
    assert result.stats.members_recompressed == 1
    assert folders
    assert {Path(str(f)) for f in folders} == {tmp_path / "out"}


def _flag_encrypted(path: Path, name: str) -> None:
    """Set the encryption bit of member ``name`` (local and central headers) of ``path``."""
    data = bytearray(path.read_bytes())
    needle = name.encode()
    for signature, flags, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = data.find(signature)
        while at >= 0:
            if data[at + name_at : at + name_at + len(needle)] == needle:
                data[at + flags] |= 0x1
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_a_stored_member_flagged_encrypted_whose_bytes_are_plain_loses_the_flag(
    tmp_path: Path,
) -> None:
    # Stored, compressed size == size, and the CRC-32 of its bytes is its header's: plain
    # data (a ZipCrypto member has a 12-byte header more, and its CRC is the plaintext's).
    source = _posted(tmp_path, 0)
    _flag_encrypted(source, "data/a.png")
    flagged = [i for i in validate(source, max_issues=None).issues if i.code == "member-encrypted"]
    assert any("clears the flag when the CRC-32" in i.message for i in flagged)
    assert all(repair_for(i) is None for i in flagged)  # a hint, not a promise
    changes, _ = fix(source, tmp_path / "out.zip")
    assert [(c["repair"], c["field"], c["after"]) for c in changes] == [
        ("clear-encryption-flag", "data/a.png", '"stored"')
    ]
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        info = zf.getinfo("data/a.png")
        assert not info.flag_bits & 0x1
        assert zf.read("data/a.png") == PNG * 50
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []
    again, _ = fix(tmp_path / "out.zip", tmp_path / "again.zip")
    assert again == []
    assert (tmp_path / "again.zip").read_bytes() == (tmp_path / "out.zip").read_bytes()


@pytest.mark.parametrize("reorder", [False, True])
def test_a_stored_jsonl_flagged_encrypted_whose_bytes_are_plain_is_repaired(
    reorder: bool, tmp_path: Path
) -> None:
    # The JSONL itself: the server cannot open it (nor can validate), fix reads it as the
    # plain data it is and writes it without the flag (it was exit 3).
    early = [post("eng", "dev", "carol", "early", T0)] if reorder else []
    late = [user("carol", {"eng": ["dev"]})] if reorder else []
    lines = [*base_lines(), *early, post("eng", "dev", "alice", "a", T0), *late]
    source = make_archive(tmp_path / "in.zip", lines, method="stored")
    _flag_encrypted(source, "import.jsonl")
    with pytest.raises(ArchiveError) as stopped:
        validate(source, max_issues=None)
    assert stopped.value.issue.code == "jsonl-unsupported-compression"
    assert "clears the flag when the CRC-32" in stopped.value.issue.message
    assert repair_for(stopped.value.issue) is None  # a hint: validate reads no bytes here
    changes, result = fix(source, tmp_path / "out.zip")
    cleared = [(c["repair"], c["field"], c["after"]) for c in changes if c["line"] is None]
    assert cleared == [("clear-encryption-flag", "import.jsonl", '"deflate"')]
    assert result.stats.reordered is reorder
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert not zf.getinfo("import.jsonl").flag_bits & 0x1
    assert len(jsonl(tmp_path / "out.zip")) == len(lines) + 1
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []
    again, _ = fix(tmp_path / "out.zip", tmp_path / "again.zip")
    assert again == []


def test_a_flagged_jsonl_that_is_not_provably_plain_still_stops_fix(tmp_path: Path) -> None:
    # Deflated (or its CRC-32 not its bytes'): nothing proves it plain — exit 3 as before.
    source = make_archive(tmp_path / "in.zip", base_lines())
    _flag_encrypted(source, "import.jsonl")
    with pytest.raises(ArchiveError) as stopped:
        fix(source, tmp_path / "out.zip")
    assert stopped.value.issue.code == "jsonl-unsupported-compression"
    assert "clears the flag" not in stopped.value.issue.message
    assert not (tmp_path / "out.zip").exists()


def test_a_really_encrypted_member_is_copied_as_it_is_and_reported(
    seven_zip: str, tmp_path: Path
) -> None:
    # ZipCrypto by 7-Zip, stored (-mx=0): 12 bytes more than its size; never "cleared".
    lines = [*base_lines(), post("eng", "dev", "alice", "a", T0, attachments=["a.png"])]
    plain = make_archive(tmp_path / "plain.zip", lines)
    folder = tmp_path / "tree"
    (folder / "data").mkdir(parents=True)
    (folder / "import.jsonl").write_bytes(b"\n".join(jsonl(plain)) + b"\n")
    (folder / "data" / "a.png").write_bytes(PNG * 50)
    source = tmp_path / "in.zip"
    for args in (["import.jsonl"], ["-psecret", "-mem=ZipCrypto", "data"]):
        subprocess.run(
            [seven_zip, "a", "-tzip", "-mx=0", str(source), *args],
            cwd=folder,
            check=True,
            capture_output=True,
        )
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo("data/a.png")
    assert info.flag_bits & 0x1
    assert info.compress_type == zipfile.ZIP_STORED
    assert info.compress_size == info.file_size + 12
    flagged = [i for i in validate(source, max_issues=None).issues if i.code == "member-encrypted"]
    assert flagged
    assert not any("clear-encryption-flag" in i.message for i in flagged)
    changes, _ = fix(source, tmp_path / "out.zip")
    refused = [c for c in changes if c["repair"] == "clear-encryption-flag"]
    assert [c["after"] for c in refused] == [None]
    assert "ZipCrypto" in refused[0]["note"]
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        copied = zf.getinfo("data/a.png")
    assert copied.flag_bits & 0x1
    assert (copied.CRC, copied.compress_size) == (info.CRC, info.compress_size)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_bzip2_and_lzma_piped_get_the_files_verdict(method: int, tmp_path: Path) -> None:
    # The streamed reader (read/stream.py) decodes them as the file's reader does: the
    # attachment's image is measured, the JSONL read, the same report.
    from test_stream import _validate_both

    lines = [*base_lines(), post("eng", "dev", "alice", "a", T0, attachments=["a.png"])]
    text = b"".join(line + b"\n" for line in jsonl(make_archive(tmp_path / "plain.zip", lines)))
    _validate_both(_zip_with(tmp_path / "in.zip", text, method, method))


def test_a_method_archivekit_cannot_read_is_not_claimed_and_copied_as_it_is(
    tmp_path: Path,
) -> None:
    # zstd (93): no decoder here either, so no message may promise the repair.
    source = _posted(tmp_path, 0)
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo("data/a.png")
    # Method 93 in the local header and the central directory entry (the data stays stored).
    for at in (info.header_offset + 8, data.rindex(b"PK\x01\x02") + 10):
        data[at : at + 2] = (93).to_bytes(2, "little")
    source.write_bytes(bytes(data))
    report = validate(source, max_issues=None)
    found = [i for i in report.issues if i.code == "member-unsupported-compression"]
    assert found
    assert all(repair_for(i) is None and "archivekit fix" not in i.message for i in found)
    assert all(c.fixed_by is None for c in report.causes if c.code == found[0].code)
    changes, result = fix(source, tmp_path / "out.zip")
    assert [(c["repair"], c["after"]) for c in changes] == [("recompress", None)]
    assert result.stats.members_recompressed == 0


def test_one_definition_each_of_what_the_server_and_archivekit_read() -> None:
    # The server reads stored and deflate; archivekit also deflate64, bzip2 and LZMA, which
    # fix re-compresses. Each set is defined once, where its reader is.
    import archivekit.issues
    from archivekit.gosem.archive import SERVER_METHODS
    from archivekit.read.inflate import READABLE_METHODS

    assert frozenset({0, 8}) == SERVER_METHODS
    assert SERVER_METHODS < READABLE_METHODS == frozenset({0, 8, 9, 12, 14})
    assert not hasattr(archivekit.issues, "RECOMPRESSIBLE_METHODS")


def twice(path: Path, attachment: str, name: str) -> Path:
    """An archive whose post attaches ``attachment``, with two members ``name``: b"first",
    then the PNG."""
    from archivekit.testing.synth import ZipMember, write_zip

    body = b"".join(
        orjson.dumps(x) + b"\n"
        for x in [
            {"type": "version", "version": 1},
            *base_lines(),
            post("eng", "dev", "alice", "a", T0, attachments=[attachment]),
        ]
    )
    return write_zip(
        path,
        [
            ZipMember("import.jsonl", body, "deflate"),
            ZipMember(name, b"first", "stored"),
            ZipMember(name, PNG, "stored"),
        ],
    )


def test_of_members_sharing_a_name_the_last_is_kept(tmp_path: Path) -> None:
    source = twice(tmp_path / "in.zip", "a.png", "data/a.png")
    assert "member-duplicate-name" in validate(source, max_issues=None).issue_counts
    changes, _result = fix(source, tmp_path / "out.zip")
    assert [c["repair"] for c in changes] == ["drop-shadowed-member"]
    assert members(tmp_path / "out.zip")["data/a.png"][3] == PNG
    assert repairable(validate(tmp_path / "out.zip", max_issues=None).issues) == []


def test_members_sharing_a_name_outside_data_are_one_candidate(tmp_path: Path) -> None:
    # Two entries att/y.png: the server reads one name once (the last entry), so the path
    # y.png has one file to move to — moved, the earlier entry left out; a fix of the output
    # changes nothing.
    source = twice(tmp_path / "in.zip", "y.png", "att/y.png")
    changes, _result = fix(source, tmp_path / "out.zip")
    assert sorted(c["repair"] for c in changes) == ["drop-shadowed-member", "move-into-data"]
    out = members(tmp_path / "out.zip")
    assert out["data/y.png"][3] == PNG
    assert "att/y.png" not in out
    assert repairable(validate(tmp_path / "out.zip", max_issues=None).issues) == []
    again, _ = fix(tmp_path / "out.zip", tmp_path / "again.zip")
    assert again == []


# --- opt-in repairs ------------------------------------------------------------------------------


def test_opt_in_repairs_only_with_their_flag(tmp_path: Path) -> None:
    lines = [
        *base_lines(),
        user("nomail", ["eng"], email=""),
        post("eng", "dev", "alice", "a", T0, attachments=["gone.png", "here.png"]),
        # Its image is not in the archive: the server fails the import on this line.
        emoji("lost", "emoji/lost.png"),
        emoji("kept", "emoji/kept.png"),
    ]
    files = {"data/here.png": PNG, "data/emoji/kept.png": PNG}
    source = make_archive(tmp_path / "in.zip", lines, files)
    assert "emoji-image-missing" in validate(source, max_issues=None).issue_counts
    changes, _ = fix(source, tmp_path / "default.zip")
    assert changes == []
    options = FixOptions(drop_missing_files=True, default_email_domain="example.org")
    changes, result = fix(source, tmp_path / "out.zip", options=options)
    assert sorted((c["repair"], c["line"], c["field"]) for c in changes) == [
        ("default-email", 6, "user.email"),
        ("drop-missing-file", 7, "post.attachments[0].path"),
        ("drop-missing-file", 8, "emoji.image"),  # the emoji's line left out
    ]
    assert result.stats.lines_dropped == 1
    records = [orjson.loads(line) for line in jsonl(tmp_path / "out.zip")]
    assert records[5]["user"]["email"] == "nomail@example.org"
    assert records[6]["post"]["attachments"] == [{"path": "here.png"}]
    assert [r["emoji"]["name"] for r in records if r["type"] == "emoji"] == ["kept"]
    assert validate(tmp_path / "out.zip", max_issues=None).errors == 0


def test_truncating_long_fields_and_dropping_skipped_channels_are_opt_in(tmp_path: Path) -> None:
    lines = [
        # 400 bytes: the server's limit for a team description is 255 bytes.
        team("eng", display_name="E" * 70, description="é" * 200),
        channel("eng", "dev", header="h" * 1100, purpose="p" * 300),
        user("alice", {"eng": ["dev"]}, nickname="n" * 65, position="é" * 130),
        user("bob", {"eng": ["dev"]}),
        direct_channel(["alice"]),
        direct_channel(["alice", "bob"]),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    codes = validate(source, max_issues=None).issue_counts
    assert codes["invalid-field"] == 3  # the first failure of each line
    assert codes["direct-channel-skipped"] == 1
    changes, _ = fix(source, tmp_path / "default.zip")
    assert changes == []
    options = FixOptions(truncate_long_fields=True, drop_skipped=True)
    changes, result = fix(source, tmp_path / "out.zip", options=options)
    assert sorted(c["field"] for c in changes if c["repair"] == "truncate-field") == [
        "channel.header",
        "channel.purpose",
        "team.description",
        "team.display_name",
        "user.nickname",
        "user.position",
    ]
    assert [c["line"] for c in changes if c["repair"] == "drop-skipped"] == [6]
    assert result.stats.lines_dropped == 1
    records = [orjson.loads(line) for line in jsonl(tmp_path / "out.zip")]
    assert records[3]["user"]["position"] == "é" * 128
    assert records[1]["team"]["description"] == "é" * 127  # 254 bytes: no half character
    assert list(validate(tmp_path / "out.zip", max_issues=None).issues) == []


def opt_in_archive(tmp_path: Path) -> Path:
    """An archive only opt-in repairs can repair: one problem for each of them."""
    lines = [
        team("eng", display_name="E" * 70),
        channel("eng", "dev"),
        user("alice", {"eng": ["dev"]}),
        user("bob", {"eng": ["dev"]}),
        user("nomail", ["eng"], email=""),
        user("alice", {"eng": ["dev"]}, nickname="again"),  # a duplicate definition
        post("eng", "dev", "alice", "a", T0, attachments=["gone.png"]),
        direct_channel(["alice"]),
    ]
    return make_archive(tmp_path / "in.zip", lines)


OPT_IN_EXPECTED = {
    "truncate-field": "--truncate-long-fields",
    "default-email": "--default-email-domain DOMAIN",
    "dedupe": "--dedupe",
    "drop-missing-file": "--drop-missing-files",
    "drop-skipped": "--drop-skipped",
}


def test_validate_names_the_option_of_an_opt_in_repair(tmp_path: Path) -> None:
    report = validate(opt_in_archive(tmp_path), max_issues=None)
    named = {(c.opt_in, c.fix_option) for c in report.causes if c.opt_in}
    assert named == set(OPT_IN_EXPECTED.items())
    assert all(c.fixed_by is None for c in report.causes if c.opt_in)
    document = orjson.loads(report_json(report))
    assert {(c["opt_in_repair"], c["fix_option"]) for c in document["causes"]} >= named
    text = report_text(report)
    for repair, option in OPT_IN_EXPECTED.items():
        assert f"`archivekit fix {option}` does this ({repair}" in text
    # A problem a default repair removes names that one only.
    assert all(c.opt_in is None for c in report.causes if c.fixed_by)


def test_a_dry_run_names_the_opt_in_repairs_it_leaves_off(tmp_path: Path) -> None:
    source = opt_in_archive(tmp_path)
    result = fix_archive(source, dry_run=True)
    try:
        offered = dict(result.log.offered)
        assert result.log.total == 0
        assert result.summary()["opt_in"] == {
            repair: {"option": OPT_IN_EXPECTED[repair], "changes": count}
            for repair, count in sorted(offered.items())
        }
    finally:
        result.close()
    assert set(offered) == set(OPT_IN_EXPECTED)
    # Each count is what the option then does (dedupe: the later definitions it leaves out).
    options = FixOptions(
        drop_missing_files=True,
        default_email_domain="example.org",
        truncate_long_fields=True,
        drop_skipped=True,
        dedupe=True,
    )
    changes, result = fix(source, tmp_path / "out.zip", options=options)
    made = Counter(c["repair"] for c in changes if c["after"] is not None)
    dropped = [c for c in changes if c["repair"] == "dedupe" and "line removed" in c["note"]]
    assert {**made, "dedupe": len(dropped)} == offered
    assert result.log.offered == {}
    done = run_cli(str(source), "--dry-run")
    assert done.returncode == 1, done.stderr
    out = done.stdout.decode()
    assert "nothing to repair with these options" in out
    for repair, option in OPT_IN_EXPECTED.items():
        assert f"{repair} ({option})" in out


def test_the_truncated_fields_are_the_catalogues() -> None:
    from archivekit.issues import TRUNCATABLE_FIELDS
    from archivekit.write.repairs import TRUNCATED, TRUNCATED_BYTES

    cut = {
        f"{kind}.{name}"
        for table in (TRUNCATED, TRUNCATED_BYTES)
        for kind, fields in table.items()
        for name, _ in fields
    }
    assert cut == TRUNCATABLE_FIELDS


# --- generated archives and injected defects -----------------------------------------------------


def test_a_converter_style_archive_comes_out_without_repairable_issues(tmp_path: Path) -> None:
    source = converter_export(tmp_path / "in.zip", uppercase_users=3, long_messages=2)
    before = validate(source, max_issues=None, existing=None)
    assert repairable(before.issues)
    fix(source, tmp_path / "out.zip")
    assert repairable(validate(tmp_path / "out.zip", max_issues=None).issues) == []


DEFECTS = (
    "recase",
    "data-prefix",
    "nul",
    "old-reply",
    "long",
    "blank",
    "crlf",
    "late",
    "bom",
    "trailing",
    "profile-prefix",
    "emoji-prefix",
    "outside",
    "recase-definition",
    "old-reaction",
    "version",
    "dense",
)
# The `dense` defect's files: zeros in deflate64, past the readers' ratio limit.
DENSE: Final = bytes(2 << 20)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    path = tmp_path_factory.mktemp("gen") / "gen.zip"
    generate_export(path, seed=3, posts=60, direct_posts=20, attachments=6, users=8)
    return jsonl(path), members(path)  # type: ignore[return-value]


def _inject(line: bytes, defect: str, at: int, files: dict[str, bytes]) -> bytes:
    """``line`` with ``defect`` (at input index ``at``); ``files`` changed to match."""
    if defect == "blank":
        return line + b"\n"
    if defect == "crlf":
        return line + b"\r"
    if defect == "bom":  # any line: files joined together
        return b"\xef\xbb\xbf" + line
    if defect == "trailing":  # definitions too
        return line + b" junk"
    if defect == "version":  # a second export joined after this line
        return line + b"\n" + orjson.dumps({"type": "version", "version": 1})
    if defect == "emoji-prefix":
        files[f"data/emoji/e{at}.png"] = PNG
        return line + b"\n" + orjson.dumps(emoji(f"e{at}", f"data/emoji/e{at}.png"))
    record = orjson.loads(line)
    kind = record["type"]
    body = record.get(kind)
    if defect == "recase-definition" and kind in ("team", "channel", "user"):
        key = "username" if kind == "user" else "name"
        body[key] = body[key].upper()
    elif defect == "profile-prefix" and kind == "user":
        files[f"data/img/{body['username']}.png"] = PNG
        body["profile_image"] = f"data/img/{body['username']}.png"
    if kind not in POST_LINE_TYPES:
        return orjson.dumps(record)
    if defect == "recase":
        body["user"] = body["user"].upper()
    elif defect == "data-prefix" and body.get("attachments"):
        body["attachments"][0]["path"] = "data/" + body["attachments"][0]["path"]
    elif defect == "outside" and body.get("attachments"):
        path = body["attachments"][0]["path"]  # the file stored in an old folder instead
        if "data/" + path in files:
            files["old/" + path] = files.pop("data/" + path)
    elif defect == "nul":
        body["message"] += "\x00"
    elif defect == "old-reply" and body.get("replies"):
        body["replies"][0]["create_at"] = body["create_at"] - 5
    elif defect == "old-reaction":
        author = body["user"] if kind == "post" else body["channel_members"][0]
        body["reactions"] = [reaction(author, "smile", body["create_at"] - 5)]
    elif defect == "long":
        body["message"] = "z" * 17_000
    elif defect == "dense":  # written in deflate64 (`_dense_methods`)
        files[f"data/dense{at}.bin"] = DENSE
        body["attachments"] = [*(body.get("attachments") or ()), {"path": f"dense{at}.bin"}]
    return orjson.dumps(record)


def _dense_methods(files: dict[str, bytes]) -> dict[str, Method]:
    """The files of the `dense` defect in deflate64 (the others stored)."""
    return {name: "deflate64" for name in files if name.startswith("data/dense")}


def _injected(
    lines: list[bytes], files: dict[str, bytes], picks: list[tuple[int, str]]
) -> list[bytes]:
    """The generated lines with one defect each at the picked lines (the others as they are)."""
    lines = list(lines)
    touched: set[int] = set()
    late: list[bytes] = []
    for index, defect in picks:
        if index in touched:
            continue
        touched.add(index)
        if defect == "late":
            if lines[index].startswith((b'{"type":"user"', b'{"type":"team"')):
                late.append(lines[index])  # defined after the lines that use it
                lines[index] = b""
        else:
            lines[index] = _inject(lines[index], defect, index, files)
    return [line for line in lines if line] + late


# Half the profile's examples (50 under CI, ~7 s): each builds, fixes and validates an archive.
@settings(
    max_examples=scaled_examples(0.5),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_injected_defects_are_all_repaired(
    data: st.DataObject, generated: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    lines, members_in = generated
    files = {k: v[3] for k, v in members_in.items()}
    picks = data.draw(
        st.lists(
            st.tuples(st.integers(1, len(lines) - 1), st.sampled_from(DEFECTS)),
            min_size=1,
            max_size=6,
        )
    )
    lines = _injected(lines, files, picks)
    folder = tmp_path_factory.mktemp("inj")
    source = make_archive(folder / "in.zip", lines, files, file_methods=_dense_methods(files))
    fix(source, folder / "out.zip")
    after = validate(folder / "out.zip", max_issues=None)
    assert repairable(after.issues) == [], [i.to_dict() for i in repairable(after.issues)]
    assert after.errors == 0
    changes, _ = fix(folder / "out.zip", folder / "again.zip")
    assert changes == []
    assert (folder / "again.zip").read_bytes() == (folder / "out.zip").read_bytes()


@pytest.mark.parametrize("late_user", [False, True])
def test_posts_and_direct_posts_in_one_run_keep_their_bytes_and_their_blocks(
    late_user: bool, tmp_path: Path
) -> None:
    # Plain post and direct-post lines alternating (one run of the C batch scanner, both
    # types): every line byte-identical; with a reorder, each in its own block, in order.
    mixed = [
        post("eng", "dev", "alice", f"p{i}", T0 + i)
        if i % 3
        else direct_post(["alice", "bob"], "bob", f"d{i}", T0 + i)
        for i in range(30)
    ]
    carol = user("carol", {"eng": ["dev"]})
    late = [post("eng", "dev", "carol", "late", T0)] if late_user else []
    lines = [*base_lines(), direct_channel(["alice", "bob"]), *mixed, *late, carol]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, result = fix(source, tmp_path / "out.zip")
    assert result.stats.reordered is late_user
    out = jsonl(tmp_path / "out.zip")
    if not late_user:
        assert changes == []
        assert out == jsonl(source)
        return
    types = [orjson.loads(line)["type"] for line in out]
    order = {kind: i for i, kind in enumerate(EXPORT_ORDER)}
    assert [order[t] for t in types] == sorted(order[t] for t in types)
    for kind in ("post", "direct_post"):
        prefix = b'{"type":"%s"' % kind.encode()
        assert [x for x in out if x.startswith(prefix)] == [
            x for x in jsonl(source) if x.startswith(prefix)
        ]


def test_a_reorder_through_a_tiny_spill_budget_keeps_order_and_bytes(
    generated: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, members_in = generated
    files = {k: v[3] for k, v in members_in.items()}
    teams = [i for i, line in enumerate(lines) if line.startswith(b'{"type":"team"')]
    lines = _injected(lines, files, [(teams[0], "late"), (5, "trailing")])
    source = make_archive(tmp_path / "in.zip", lines, files)
    fix(source, tmp_path / "memory.zip")
    monkeypatch.setattr("archivekit.write.fix.SPILL_BUDGET", 64)  # every few lines to disk
    changes, result = fix(source, tmp_path / "spilled.zip")
    assert result.stats.reordered
    out = jsonl(tmp_path / "spilled.zip")
    assert out == jsonl(tmp_path / "memory.zip")
    types = [orjson.loads(line)["type"] for line in out]
    order = {kind: i for i, kind in enumerate(EXPORT_ORDER)}
    assert [order[t] for t in types] == sorted(order[t] for t in types)
    # Lines of a type keep their input order, byte for byte (the posts were not touched).
    posts = [line for line in lines if line.startswith(b'{"type":"post"')]
    assert [line for line in out if line.startswith(b'{"type":"post"')] == posts
    assert (
        sum(c["repair"] == "reorder-blocks" for c in changes)
        == result.log.applied["reorder-blocks"]
    )


# --- the catalogue ---------------------------------------------------------------------------


def test_every_repairable_code_and_repair_is_catalogued() -> None:
    assert set(REPAIRABLE) <= set(CODES)
    assert set(REPAIRABLE.values()) <= set(REPAIRS)
    assert set(REPAIRABLE_ERROR_IDS.values()) <= set(REPAIRS)


def test_a_change_reads_as_repair_place_before_and_after() -> None:
    change = Change("remove-nul", 4, "post.message", '"a\\u0000"', '"a"')
    assert change.text() == 'remove-nul: line 4 post.message: "a\\u0000" → "a"'


def test_a_long_value_is_shown_cut_with_its_own_length_in_characters() -> None:
    from archivekit.write.changes import shown_json

    # 20,000 characters (runes, as the server counts a message), not the JSON text's 20,002
    # (its quotes) nor its escapes.
    assert shown_json("é\n" * 10_000).endswith("… (20,000 characters)")
    assert shown_json(["x" * 200]).endswith("… (204 characters)")  # not a string: its JSON


# --- bad input and the CLI -----------------------------------------------------------------------


def test_bad_input_and_bad_outputs(tmp_path: Path) -> None:
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(ArchiveError):
        fix_archive(tmp_path / "junk.zip", tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()
    source = SAMPLES / "clean.zip"
    with pytest.raises(UsageError):
        fix_archive(source)
    with pytest.raises(OutputError):
        fix_archive(source, source)
    # A folder that does not exist: the output's error (exit 2), even with changes to log.
    with pytest.raises(OutputError, match="does not exist"):
        fix_archive(SAMPLES / "broken.zip", tmp_path / "nowhere" / "out.zip")


def run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "archivekit", "fix", *args], capture_output=True, check=False
    )


def test_cli_dry_run_json_and_exit_codes(tmp_path: Path) -> None:
    broken = SAMPLES / "broken.zip"
    done = run_cli(str(broken), "--dry-run", "--format", "json")
    assert done.returncode == 1, done.stderr
    document = orjson.loads(done.stdout)
    result = fix_archive(broken, dry_run=True)
    try:
        assert document == orjson.loads(orjson.dumps(result.to_dict()))
    finally:
        result.close()
    assert document["changes"] == len(document["change_log"]) - sum(
        document["not_repaired"].values()
    )
    assert not list(tmp_path.iterdir())
    done = run_cli(str(SAMPLES / "clean.zip"), "--dry-run")
    assert done.returncode == 0
    assert b"nothing to repair" in done.stdout
    done = run_cli(str(broken), "-o", str(tmp_path / "out.zip"))
    assert done.returncode == 0, done.stderr
    assert b"lowercase-references" in done.stdout
    assert (tmp_path / "out.zip").exists()
    assert run_cli(str(broken)).returncode == 2
    assert run_cli(str(broken), "-o", str(broken)).returncode == 2
    (tmp_path / "junk.zip").write_bytes(b"junk")
    done = run_cli(str(tmp_path / "junk.zip"), "-o", str(tmp_path / "j.zip"))
    assert done.returncode == 3
    assert b"Traceback" not in done.stderr


@settings(
    max_examples=scaled_examples(0.1),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fix_of_a_mutated_archive_ends_cleanly_and_is_idempotent(
    data: st.DataObject, generated: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever the mutation: a result or an archivekit error (never another exception), and
    when written, fix of the output changes nothing and keeps its lines (with --dedupe too)."""
    from archivekit.errors import ArchiveKitError
    from archivekit.testing.fuzz import ArchiveRecipe, MutatedArchive, archive_mutations

    lines, files = generated
    recipe = ArchiveRecipe(tuple(lines[:40]), {k: v[3] for k, v in list(files.items())[:2]})
    mutated: MutatedArchive = data.draw(archive_mutations(recipe))
    folder = tmp_path_factory.mktemp("mut")
    path = mutated.write(folder / "in.zip")
    options = FixOptions(dedupe=data.draw(st.booleans()))
    try:
        fix(path, folder / "out.zip", options=options)
    except ArchiveKitError:
        return
    changes, _ = fix(folder / "out.zip", folder / "again.zip", options=options)
    assert [c for c in changes if c["after"] is not None] == []
    assert (folder / "again.zip").read_bytes() == (folder / "out.zip").read_bytes()


def test_cli_max_post_size_is_where_messages_are_split(tmp_path: Path) -> None:
    lines = [*base_lines(), post("eng", "dev", "alice", "y" * 5000, T0)]
    source = make_archive(tmp_path / "in.zip", lines)
    assert run_cli(str(source), "--dry-run").returncode == 0  # under the default limit
    done = run_cli(str(source), "-o", str(tmp_path / "out.zip"), "--max-post-size", "2000")
    assert done.returncode == 0, done.stderr
    record = orjson.loads(jsonl(tmp_path / "out.zip")[-1])["post"]
    assert [len(r["message"]) for r in record["replies"]] == [2000, 1000]
    assert len(record["message"]) == 2000


@pytest.mark.parametrize("name", ["broken.zip", "clean.zip"])
def test_the_json_is_written_streaming_byte_for_byte_as_the_document(name: str) -> None:
    import io

    from archivekit.write.manifest import json_bytes

    result = fix_archive(SAMPLES / name, dry_run=True)
    try:
        out = io.BytesIO()
        result.write_json(out)
        assert out.getvalue() == json_bytes(result.to_dict()) + b"\n"
    finally:
        result.close()
