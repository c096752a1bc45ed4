"""The accept-only fast path for post lines must never change a report.

Every archive here is validated twice, with `LineProcessor.fast` on and off, and the two
reports must be identical; the property test does the same for mutated post-heavy archives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from archivekit.check.engine import LineProcessor
from archivekit.check.fast import fastpath
from archivekit.check.fast.fastpath import STRING, check_post, no_repeated_keys
from archivekit.check.target import TargetConfig
from archivekit.read import Archive
from archivekit.testing.fuzz import apply_record_mutations, dump_json_line, load_fuzz_profile
from archivekit.testing.fuzz import record_mutations as record_mutation_lists
from archivekit.testing.synth import (
    channel,
    direct_channel,
    direct_post,
    generate_export,
    gif_bytes,
    jpeg_header_bytes,
    make_archive,
    png_bytes,
    post,
    reaction,
    reply,
    team,
    user,
)
from archivekit.validate import validate

load_fuzz_profile()
REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "sample_exports").glob("*.zip"))
REAL = REPO / "tests" / "fixtures" / "mattermost-server-tests-import_test.zip"

LINES: list[dict[str, Any]] = [
    team("team1"),
    channel("team1", "chan1"),
    user("alice", teams={"team1": ["chan1"]}),
    user("bob", teams={"team1": ["chan1"]}),
    post(
        "team1",
        "chan1",
        "alice",
        "hello **world** ✓",
        1_700_000_000_000,
        replies=[
            reply(
                "bob",
                "hi",
                1_700_000_000_001,
                reactions=[reaction("alice", "+1", 1_700_000_000_005)],
            ),
        ],
        reactions=[reaction("bob", "smile", 1_700_000_000_002)],
        flagged_by=["bob"],
        thread_followers=[{"user": "bob", "last_viewed": 1_700_000_000_009}],
        is_pinned=True,
    ),
    post(
        "team1",
        "town-square",
        "bob",
        "second",
        1_700_000_000_100,
        type="custom_x",
        props={"from_bot": "true", "score": 1.5, "n": 3, "flag": False, "none": None},
    ),
    direct_channel(["alice", "bob"]),
    direct_post(["alice", "bob"], "bob", "psst", 1_700_000_000_003, flagged_by=["alice"]),
]


@pytest.fixture(params=["c-batch", "c-line", "python"])
def scanner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each way of running the fast path: the C scanner over runs of lines (the default), the
    C scanner line by line, and the Python scanner (installs without a compiler)."""
    mode: str = request.param
    if mode != "python" and fastpath.NATIVE is None:
        pytest.skip("the C scanner is not built (test_native_scan.py fails for that)")
    if mode != "c-batch":
        monkeypatch.setattr(LineProcessor, "batch_scanner", None)
    if mode == "python":
        monkeypatch.setattr(LineProcessor, "scanner", staticmethod(fastpath.scan_python))
    return mode


def both_ways(path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> dict[str, Any]:
    with monkeypatch.context() as patch:
        patch.setattr(LineProcessor, "fast", False)
        slow = validate(path, max_issues=None, **options).to_dict()
    fast = validate(path, max_issues=None, **options).to_dict()
    assert fast == slow
    return fast


@pytest.mark.parametrize("archive", [*SAMPLES, REAL], ids=lambda p: p.name)
def test_samples_report_the_same_with_and_without_the_fast_path(
    archive: Path, monkeypatch: pytest.MonkeyPatch, scanner: str
) -> None:
    both_ways(archive, monkeypatch)


def test_a_generated_export_reports_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scanner: str
) -> None:
    path = tmp_path / "gen.zip"
    generate_export(path, seed=3, posts=600, direct_posts=120)
    report = both_ways(path, monkeypatch, workers=1)
    assert report["counts"]["posts"] == 600


def general_lines(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, the numbers of the lines the general path handles."""
    general: list[int] = []
    original = LineProcessor._general

    def spy(self: LineProcessor, line: int, raw: Any) -> None:
        general.append(line)
        original(self, line, raw)

    monkeypatch.setattr(LineProcessor, "_general", spy)
    return general


def test_the_clean_lines_are_accepted_by_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scanner: str
) -> None:
    path = make_archive(tmp_path / "a.zip", LINES)
    report = validate(path, max_issues=None).to_dict()
    general = general_lines(monkeypatch)
    assert validate(path, max_issues=None).to_dict() == report
    assert report["valid"]
    # Line 1 is the version line; 6, 7 and 9 (both posts and the direct post) go fast.
    assert general == [1, 2, 3, 4, 5, 8]


def test_a_group_direct_post_listing_a_user_twice_goes_to_the_general_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scanner: str
) -> None:
    # The server refuses the group (createGroupChannel's bad_user); only the general path
    # says so, so no scanner may vouch for the line. Two entries of one user are a self-DM.
    lines = [
        *LINES[:4],
        user("carol", teams={"team1": []}),
        direct_post(["alice", "bob", "alice"], "bob", "psst", 1_700_000_000_003),
        direct_post(["carol", "carol"], "carol", "note to self", 1_700_000_000_004),
    ]
    report = both_ways(make_archive(tmp_path / "a.zip", lines), monkeypatch)
    assert [(i["code"], i["line"], i["field"]) for i in report["issues"]] == [
        ("apply-invalid", 7, "direct_post.channel_members[2]")
    ]


POST_FIELDS = b'"channel":"c","user":"u","message":"m","create_at":1}}'


def fast_verdict(raw: bytes) -> bool:
    import orjson

    doc = orjson.loads(raw)
    tally = check_post(doc["post"], {"u": 1}, {"t": 1}, {("t", "c"): 1}, 16383)
    return tally >= 0 and no_repeated_keys(raw, tally + 2 + STRING)


def test_a_plain_line_is_vouched_for() -> None:
    assert fast_verdict(b'{"type":"post","post":{"team":"t",' + POST_FIELDS)
    assert fast_verdict(b'{"type":"post","post":{"team" : "t",' + POST_FIELDS)


@pytest.mark.parametrize(
    "raw",
    [
        # Repeated keys: Go decodes the second into the first (and type-checks both).
        b'{"type":"post","post":{"team":"t","team":"t",' + POST_FIELDS,
        b'{"type":"post","post":{"team":7,"team":"t",' + POST_FIELDS,
        # The same with a backslash in the line (the other counting method)...
        b'{"type":"post","post":{"team":"t","team":"t","type":"custom_\\u0041",' + POST_FIELDS,
        # ...where white space before a colon would hide a repeated key from the count.
        b'{"type":"post","post":{"team":"t","team" :"t","type":"custom_\\u0041",' + POST_FIELDS,
        # An escaped NUL: PostgreSQL refuses it.
        b'{"type":"post","post":{"team":"t","type":"custom_\\u0000",' + POST_FIELDS,
    ],
)
def test_lines_the_counts_cannot_vouch_for_are_declined(raw: bytes) -> None:
    assert not fast_verdict(raw)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=record_mutation_lists([dump_json_line(line) for line in LINES], max_mutations=4))
def test_mutated_post_lines_report_the_same_either_way(
    mutations: Any,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    scanner: str,
) -> None:
    lines = apply_record_mutations([dump_json_line(line) for line in LINES], mutations)
    path = make_archive(tmp_path_factory.mktemp("m") / "m.zip", lines)
    both_ways(path, monkeypatch)


def test_props_near_the_limit_are_left_to_the_general_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scanner: str
) -> None:
    big = {"text": "<" * 133_400}  # Go writes each "<" as 6 bytes: 800,400 runes
    lines = [*LINES[:4], post("team1", "chan1", "alice", "big", 1_700_000_000_200, props=big)]
    report = both_ways(make_archive(tmp_path / "big.zip", lines), monkeypatch)
    assert [i["server_error_id"] for i in report["issues"]] == [
        "app.import.validate_post_import_data.props_too_large.error"
    ]


def test_a_duplicate_is_found_whichever_path_read_each_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scanner: str
) -> None:
    # The first copy goes fast; the second carries a file, so the general path reads it: both
    # must compute the same identity.
    plain = post("team1", "chan1", "alice", "same words", 1_700_000_000_500)
    with_file = post(
        "team1", "chan1", "alice", "same words", 1_700_000_000_500, attachments=[{"path": "f.txt"}]
    )
    dm = direct_post(["bob", "alice"], "bob", "again", 1_700_000_000_600)
    dm_with_file = direct_post(
        ["alice", "bob"], "bob", "again", 1_700_000_000_600, attachments=[{"path": "f.txt"}]
    )
    lines = [*LINES[:4], plain, with_file, direct_channel(["alice", "bob"]), dm, dm_with_file]
    path = make_archive(tmp_path / "dup.zip", lines, {"data/f.txt": b"x"})
    report = both_ways(path, monkeypatch)
    duplicates = [(i["code"], i["line"]) for i in report["issues"] if "duplicate" in i["code"]]
    assert duplicates == [("duplicate-post", 7), ("duplicate-post", 10)]


@pytest.mark.parametrize(
    ("raw", "direct"),
    [(b'{"type":"post","Post":{}}', False), (b'{"type":"direct_post","x":1}', True)],
)
def test_the_python_scanner_declines_an_envelope_without_its_payload(
    raw: bytes, direct: bool
) -> None:
    # Found by the differential tests: these raised KeyError.
    assert fastpath.scan_python(raw, direct, {}, {}, {}, lambda _: True, 16383) is None


# --- attachments: resolved on the fast path exactly as the general path resolves them --------

T = 1_700_000_000_000
NFC_NAME = "data/caf\u00e9.txt"
FILES: dict[str, bytes] = {
    "data/a.txt": b"a" * 10,
    "data/b.log": b"b" * 30,
    "data/c.pdf": b"c" * 30,
    "data/d/e.bin": b"",
    "data/Upper.TXT": b"u",
    NFC_NAME: b"nfc",
    "data/caf\u0065\u0301d.txt": b"nfd",  # an NFD name
    "data/\u212a.txt": b"kelvin",  # KELVIN SIGN: its key is data/K.txt
    "data/shot.PNG": b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # an image: pixels are measured
    "data/dir/": b"",
    "data/unused.txt": b"never referenced",
    # Images: the server reads their headers (MaxImageResolution: 33,177,600 pixels).
    "data/big.png": png_bytes(8000, 5000),  # over the limit
    "data/photo.JPG": jpeg_header_bytes(640, 480),
    "data/twin.gif": gif_bytes(480, 640),  # as many pixels as photo.JPG
    "data/broken.jpeg": b"\xff\xd8 not really",  # no dimensions
    "data/\u00fcber/gro\u00df.png": png_bytes(9000, 4000),  # non-ASCII, over the limit
    "data/caf\u00e9.gif": gif_bytes(10, 10),  # an NFC name
    "data/x.g\u0130f": gif_bytes(20, 20),  # Go lowercases .gİf to .gif: an image
    "outside.txt": b"outside data/",
    **{f"data/many/{i}.txt": bytes(i) for i in range(12)},
}
MANY = [f"many/{i}.txt" for i in range(11)]


def replies_first(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its payload's replies before its attachments (the server's order of
    resolving them is the same: the post's own files first)."""
    payload = record[record["type"]]
    payload = {"replies": payload.pop("replies"), **payload}
    return {"type": record["type"], record["type"]: payload}


IMAGE_LINES: list[Any] = [
    post("team1", "chan1", "alice", "photo", T + 40, attachments=["photo.JPG", "a.txt"]),
    post("team1", "chan1", "bob", "same photo", T + 41, attachments=["photo.JPG", "photo.JPG"]),
    post("team1", "chan1", "alice", "twin", T + 42, attachments=["twin.gif"]),
    post("team1", "chan1", "alice", "big", T + 43, attachments=["big.png", "broken.jpeg"]),
    post(
        "team1", "chan1", "alice", "reply image", T + 44,
        replies=[reply("bob", "r", T + 45, attachments=["a.txt", "big.png"])],
    ),
    replies_first(
        post(
            "team1", "chan1", "alice", "order", T + 46, attachments=["twin.gif", "big.png"],
            replies=[reply("bob", "r", T + 47, attachments=["\u00fcber/gro\u00df.png"])],
        )
    ),
    direct_post(["alice", "bob"], "bob", "dm image", T + 48, attachments=["big.png"]),
    post("team1", "chan1", "alice", "non-ascii", T + 49, attachments=["\u00fcber/gro\u00df.png"]),
    post("team1", "chan1", "alice", "nfd image", T + 50, attachments=["cafe\u0301.gif"]),
    # KELVIN SIGN: its NFC key is data/K.txt, which names the entry data/\u212a.txt.
    post("team1", "chan1", "alice", "kelvin path", T + 50, attachments=["\u212a.txt"]),
    post("team1", "chan1", "alice", "dotted", T + 51, attachments=["x.g\u0130f"]),
    post("team1", "chan1", "alice", "nfd missing", T + 52, attachments=["nai\u0308ve.png"]),
    post(
        "team1", "chan1", "alice", "image fails", T + 53, attachments=["big.png", "gone.png"],
        replies=[reply("bob", "dropped", T + 54, attachments=["photo.JPG"])],
    ),
    post("team1", "chan1", "alice", "many images", T + 55, attachments=["photo.JPG"] * 11),
    post("team1", "chan1", "alice", "image traversal", T + 56, attachments=["../big.png"]),
]  # fmt: skip
ATTACHMENT_LINES: list[Any] = [
    *LINES[:4],
    direct_channel(["alice", "bob"]),
    post("team1", "chan1", "alice", "one", T, attachments=["a.txt"]),
    post("team1", "chan1", "alice", "three", T + 1, attachments=["a.txt", "b.log", "c.pdf"]),
    post("team1", "chan1", "alice", "empty file", T + 2, attachments=["d/e.bin"]),
    post("team1", "chan1", "alice", "missing", T + 3, attachments=["nope.txt"]),
    post("team1", "chan1", "alice", "data prefix", T + 4, attachments=["data/a.txt"]),
    post("team1", "chan1", "alice", "case", T + 5, attachments=["upper.txt", "Upper.TXT"]),
    post("team1", "chan1", "alice", "nfc", T + 6, attachments=["caf\u00e9.txt"]),
    post("team1", "chan1", "alice", "nfd", T + 7, attachments=["caf\u0065\u0301.txt"]),
    post("team1", "chan1", "alice", "nfd member", T + 8, attachments=["cafe\u0301d.txt"]),
    post("team1", "chan1", "alice", "kelvin", T + 9, attachments=["K.txt"]),
    post("team1", "chan1", "alice", "traversal", T + 10, attachments=["../a.txt"]),
    post("team1", "chan1", "alice", "cleaned", T + 11, attachments=["/a.txt", "./b.log"]),
    post("team1", "chan1", "alice", "doubled", T + 12, attachments=["d//e.bin", "a.txt/"]),
    post("team1", "chan1", "alice", "dot", T + 13, attachments=[".", ""]),
    post("team1", "chan1", "alice", "dir", T + 14, attachments=["dir", "dir/"]),
    post("team1", "chan1", "alice", "image", T + 15, attachments=["shot.PNG"]),
    post("team1", "chan1", "alice", "odd", T + 16, attachments=[{}, {"path": None}]),
    post("team1", "chan1", "alice", "extra", T + 17, attachments=[{"path": "a.txt", "x": 1}]),
    post("team1", "chan1", "alice", "ten", T + 18, attachments=MANY[:10]),
    post("team1", "chan1", "alice", "eleven", T + 19, attachments=MANY),
    post(
        "team1", "chan1", "alice", "replies", T + 20, attachments=["c.pdf"],
        replies=[
            reply("bob", "r0", T + 21, attachments=["b.log"]),
            reply("bob", "r1", T + 22),
            reply("alice", "r2", T + 23, attachments=["a.txt", "c.pdf"]),
        ],
    ),
    post(
        "team1", "chan1", "alice", "quirk", T + 24, attachments=["a.txt", "gone.txt"],
        replies=[reply("bob", "dropped", T + 25, attachments=["b.log"])],
    ),
    post(
        "team1", "chan1", "alice", "reply fails", T + 26,
        replies=[
            reply("bob", "ok", T + 27, attachments=["b.log"]),
            reply("bob", "fails", T + 28, attachments=["gone.txt"]),
            reply("bob", "dropped", T + 29, attachments=["c.pdf"]),
        ],
    ),
    direct_post(["alice", "bob"], "bob", "dm file", T + 30, attachments=["c.pdf", "a.txt"]),
    direct_post(
        ["bob", "alice"], "alice", "dm reply file", T + 31,
        replies=[reply("bob", "r", T + 32, attachments=["many/11.txt"])],
    ),
    post("team1", "chan1", "alice", "one", T, attachments=["b.log"]),  # a duplicate post
    *IMAGE_LINES,
]  # fmt: skip


def test_attachment_lines_report_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scanner: str
) -> None:
    path = make_archive(tmp_path / "files.zip", ATTACHMENT_LINES, FILES)
    report = both_ways(path, monkeypatch)
    assert report["attachment_stats"]["referenced"] > 10
    assert report["attachment_stats"]["unreferenced"] >= 1
    codes = {i["code"] for i in report["issues"]}
    assert {"attachment-missing", "attachment-data-prefix", "too-many-files"} <= codes
    over = [i for i in report["issues"] if i["values"].get("unit") == "pixels"]
    assert len(over) >= 4  # big.png (post, reply, direct post), groß.png
    # A small MaxFileSize sends the larger files to the general path; the same report.
    small = TargetConfig(max_file_size=20)
    assert both_ways(path, monkeypatch, target=small, explicit=True)["errors"] > report["errors"]
    # A small MaxImageResolution: photo.JPG and twin.gif (307,200 pixels) are over it too.
    lower = TargetConfig(max_image_resolution=300_000)
    over = len(both_ways(path, monkeypatch, target=lower, explicit=True)["issues"])
    assert over > len(report["issues"])


def test_files_the_server_cannot_read_report_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scanner: str
) -> None:
    path = make_archive(
        tmp_path / "d64.zip", ATTACHMENT_LINES, FILES, attachment_method="deflate64"
    )
    both_ways(path, monkeypatch)


REPLY_WITH_FILE = reply("bob", "x", T + 2, attachments=["c.pdf"])


def test_plain_attachment_lines_take_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scanner: str
) -> None:
    lines = [
        *LINES[:4],
        direct_channel(["alice", "bob"]),
        post("team1", "chan1", "alice", "one", T, attachments=["a.txt", "b.log"]),
        post("team1", "chan1", "alice", "r", T + 1, replies=[REPLY_WITH_FILE]),
        direct_post(["alice", "bob"], "bob", "dm", T + 3, attachments=["d/e.bin"]),
        post("team1", "chan1", "alice", "ten", T + 4, attachments=MANY[:10]),
    ]  # fmt: skip
    path = make_archive(tmp_path / "plain.zip", lines, FILES)
    general = general_lines(monkeypatch)
    report = validate(path, max_issues=None).to_dict()
    assert general == [1, 2, 3, 4, 5, 6]  # every post line went fast
    assert report["counts"]["attachments"] == 14
    assert report["attachment_stats"]["referenced"] == 14


def test_image_and_non_ascii_attachment_lines_take_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scanner: str
) -> None:
    lines = [*LINES[:4], direct_channel(["alice", "bob"]), *IMAGE_LINES]
    path = make_archive(tmp_path / "images.zip", lines, FILES)
    general = general_lines(monkeypatch)
    reads: list[int] = []
    original = Archive.read_member_head

    def spy(self: Any, member: Any, n: int) -> bytes:
        reads.append(member.index)
        return original(self, member, n)

    monkeypatch.setattr(Archive, "read_member_head", spy)
    report = validate(path, max_issues=None).to_dict()
    # Only the lines with a failed file (and the dotted extension) leave the fast path.
    declined = ["dotted", "nfd missing", "image fails", "many images", "image traversal"]
    first_declined = 7 + len(IMAGE_LINES) - len(declined)  # after the 6 definitions
    assert general == [1, 2, 3, 4, 5, 6, *range(first_declined, first_declined + len(declined))]
    # Each image is read once, however many lines (and paths) name it.
    assert sorted(reads) == sorted(set(reads))
    assert report["valid"] is False


# Definitions, plain files, and images (in a reply, in a direct post, at a non-ASCII path).
MUTATED_SEEDS = [dump_json_line(line) for line in [*ATTACHMENT_LINES[:9], *IMAGE_LINES[3:9]]]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=record_mutation_lists(MUTATED_SEEDS, max_mutations=4))
def test_mutated_attachment_lines_report_the_same_either_way(
    mutations: Any,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    scanner: str,
) -> None:
    lines = apply_record_mutations(MUTATED_SEEDS, mutations)
    path = make_archive(tmp_path_factory.mktemp("m") / "m.zip", lines, FILES)
    both_ways(path, monkeypatch)
