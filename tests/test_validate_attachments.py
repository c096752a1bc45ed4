"""validate() end to end: files referenced by lines — attachments, profile and emoji images —
resolved as the server resolves them, with its quirks (reference §1.3, §1.4).

Line 1 of every archive is the version line; WORLD fills lines 2-4, so the first post is line 5.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from test_reader_zipmaker import Entry, build_zip

from archivekit.issues import DROPS_DATA, FAILS_IMPORT, Severity
from archivekit.report.model import Report
from archivekit.testing.synth import (
    bot,
    direct_post,
    emoji,
    gif_bytes,
    jpeg_header_bytes,
    png_bytes,
    post,
    reply,
    team,
    user,
    version,
    webp_bytes,
)
from archivekit.validate import validate

INVALID_PATH = "app.import.validate_attachment_import_data.invalid_path.error"
PROFILE_IMAGE = "app.import.validate_user_import_data.profile_image.error"
EMOJI_BAD_FILE = "app.import.emoji.bad_file.error"

Found = tuple[str, int | None, str | None]
ValidateLines = Callable[..., Report]

WORLD = [team("eng"), user("alice", ["eng"]), user("bob", ["eng"])]
T = 1_700_000_000_000
PNG = png_bytes(4, 4)
FILES = {"data/a/one.png": PNG, "data/a/two.txt": b"two", "data/a/three.txt": b"three"}


def padded(image: bytes, size: int) -> bytes:
    """An image file of exactly `size` bytes (trailing bytes after the image data)."""
    return image + b"\x00" * (size - len(image))


def found(report: Report) -> list[Found]:
    """(code, line, field) of every issue, in report order."""
    return [(i.code, i.line, i.field) for i in report.issues]


def note(text: str, **kw: object) -> dict[str, object]:
    """A post by alice in eng/town-square."""
    return post("eng", "town-square", "alice", text, T, **kw)


# --- attachments that resolve ------------------------------------------------------------------


def test_attachments_relative_to_data_resolve(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            *WORLD,
            note(
                "files",
                attachments=["a/one.png", "/a/two.txt"],  # a leading slash is dropped
                replies=[reply("bob", "and one more", T + 1, attachments=["a/three.txt"])],
            ),
        ],
        FILES,
    )
    assert report.issues == []
    assert report.counts.attachments == 3
    assert report.attachments.to_dict() == {
        "referenced": 3,
        "bytes": len(PNG) + 3 + 5,
        "missing": 0,
        "dropped": 0,
        "unreferenced": 0,
        "unreferenced_bytes": 0,
    }


def test_paths_are_cleaned_like_go_filepath_join(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [*WORLD, note("files", attachments=["x/../b.txt", "./c.txt", "e//f.txt"])],
        {"data/b.txt": b"b", "data/c.txt": b"c", "data/e/f.txt": b"f"},
    )
    assert report.issues == []
    assert report.attachments.referenced == 3


# --- attachments that do not -------------------------------------------------------------------


def test_a_missing_attachment_drops_the_file(validate_lines: ValidateLines) -> None:
    report = validate_lines([*WORLD, note("files", attachments=["a/nope.png"])])
    assert found(report) == [("attachment-missing", 5, "post.attachments[0].path")]
    issue = report.issues[0]
    assert (issue.severity, issue.effect) == (Severity.ERROR, DROPS_DATA)
    assert "looked for 'data/a/nope.png'" in issue.message
    assert report.attachments.missing == 1
    assert not report.valid


def test_member_names_are_case_sensitive(validate_lines: ValidateLines) -> None:
    report = validate_lines([*WORLD, note("files", attachments=["A/one.png"])], FILES)
    assert ("attachment-missing", 5, "post.attachments[0].path") in found(report)


def test_a_data_prefixed_path_resolves_to_data_data(validate_lines: ValidateLines) -> None:
    report = validate_lines([*WORLD, note("files", attachments=["data/a/one.png"])], FILES)
    assert found(report)[0] == ("attachment-data-prefix", 5, "post.attachments[0].path")
    assert "'data/data/a/one.png'" in report.issues[0].message
    assert report.issues[0].effect == DROPS_DATA


def test_a_path_naming_no_file_is_a_warning_and_drops_the_reply_attachments(
    validate_lines: ValidateLines,
) -> None:
    # "" and "." (and "a/..") resolve to the data folder itself: the server finds no file
    # and imports the post without it (nothing lost, the reference is wrong); as a failed
    # attachment it still stops the resolution of the line's reply attachments.
    for path in ("", ".", "a/.."):
        report = validate_lines(
            [
                *WORLD,
                note(
                    "files",
                    attachments=[path, "a/one.png"],
                    replies=[reply("bob", "re", T + 1, attachments=["a/two.txt", "."])],
                ),
            ],
            FILES,
        )
        assert [(i.code, i.severity.value, i.field) for i in report.issues] == [
            ("attachment-path-empty", "warning", "post.attachments[0].path"),
            ("attachment-dropped", "error", "post.replies[0].attachments[0].path"),
            ("attachment-path-empty", "warning", "post.replies[0].attachments[1].path"),
            ("attachment-unreferenced", "warning", None),
        ], path
        assert dict(report.issues[0].values) == {"path": path}
        assert 'missing attachment file "data"' in report.issues[0].message
        assert "reply attachments" in report.issues[0].message
        # Neither the empty path nor the dropped reply file is looked up: nothing is missing.
        assert (report.attachments.missing, report.attachments.dropped) == (0, 1)


def test_a_path_escaping_data_is_blanked(validate_lines: ValidateLines) -> None:
    report = validate_lines([*WORLD, note("files", attachments=["../x", "a/../../etc/passwd"])])
    assert found(report) == [
        ("attachment-invalid-path", 5, "post.attachments[0].path"),
        ("attachment-invalid-path", 5, "post.attachments[1].path"),
    ]
    assert {i.server_error_id for i in report.issues} == {INVALID_PATH}
    assert {i.effect for i in report.issues} == {DROPS_DATA}
    # Not a lookup that failed: the path never reaches the zip.
    assert report.attachments.missing == 0


def test_one_missing_top_level_attachment_drops_the_reply_attachments(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [
            *WORLD,
            note(
                "files",
                attachments=["a/one.png", "a/nope.png"],
                replies=[
                    reply("bob", "r1", T + 1, attachments=["a/two.txt"]),
                    reply("bob", "r2", T + 2),
                    reply("bob", "r3", T + 3, attachments=["a/three.txt"]),
                ],
            ),
        ],
        FILES,
    )
    # The replies' files are in the zip and referenced: the server drops them, having failed
    # on the post's second file. Never "not referenced", never "missing".
    assert found(report) == [
        ("attachment-missing", 5, "post.attachments[1].path"),
        ("attachment-dropped", 5, "post.replies[0].attachments[0].path"),
        ("attachment-dropped", 5, "post.replies[2].attachments[0].path"),
    ]
    dropped = report.issues[1]
    assert dropped.message.startswith(
        "reply attachment 'a/two.txt' is in the archive, but the server drops it: once one "
        "attachment of a line fails (here post.attachments[1].path)"
    )
    assert dict(dropped.values) == {
        "path": "a/two.txt",
        "rule": "reply-attachments-after-failure",
        "after": "post.attachments[1].path",
        "present": True,
    }
    assert (dropped.severity, dropped.effect) == (Severity.ERROR, DROPS_DATA)
    assert report.attachments.to_dict() == {
        "referenced": 3,
        "bytes": len(PNG) + 8,
        "missing": 1,
        "dropped": 2,
        "unreferenced": 0,
        "unreferenced_bytes": 0,
    }


def test_a_failing_reply_attachment_drops_the_later_replies_attachments(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [
            *WORLD,
            note(
                "files",
                attachments=["a/one.png"],
                replies=[
                    reply("bob", "r1", T + 1, attachments=["a/two.txt"]),
                    reply("bob", "r2", T + 2, attachments=["a/gone.txt"]),
                    reply("bob", "r3", T + 3, attachments=["a/three.txt"]),
                ],
            ),
        ],
        FILES,
    )
    assert found(report) == [
        ("attachment-missing", 5, "post.replies[1].attachments[0].path"),
        ("attachment-dropped", 5, "post.replies[2].attachments[0].path"),
    ]
    assert "'data/a/gone.txt'" in report.issues[0].message
    assert "'a/three.txt' is in the archive, but the server drops it" in report.issues[1].message
    assert (report.attachments.missing, report.attachments.dropped) == (1, 1)
    assert report.attachments.unreferenced == 0


def test_a_dropped_reply_file_not_in_the_archive_says_so(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            *WORLD,
            note(
                "files",
                attachments=["a/nope.png"],
                replies=[reply("bob", "r1", T + 1, attachments=["a/gone.txt"])],
            ),
        ]
    )
    assert found(report) == [
        ("attachment-missing", 5, "post.attachments[0].path"),
        ("attachment-dropped", 5, "post.replies[0].attachments[0].path"),
    ]
    assert "is dropped, and it is not in the archive either" in report.issues[1].message
    assert report.issues[1].values["present"] is False
    # Only the post's file was looked for; the reply's is dropped unresolved.
    assert (report.attachments.missing, report.attachments.dropped) == (1, 1)


def test_an_unresolved_reply_path_escaping_data_fails_the_validator(
    validate_lines: ValidateLines,
) -> None:
    # Unresolved reply paths reach the validator raw: traversal there is fatal, not blanked.
    report = validate_lines(
        [
            *WORLD,
            note(
                "files",
                attachments=["a/nope.png"],
                replies=[reply("bob", "r1", T + 1, attachments=["../y"])],
            ),
        ]
    )
    assert found(report) == [
        ("attachment-missing", 5, "post.attachments[0].path"),
        ("invalid-field", 5, "post.replies[0].attachments[0].path"),
    ]
    assert report.issues[1].effect == FAILS_IMPORT


def test_direct_post_attachments_follow_the_same_rules(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            *WORLD,
            direct_post(
                ["alice", "bob"],
                "alice",
                "files",
                T,
                attachments=["a/two.txt", "a/nope.txt"],
                replies=[reply("bob", "r1", T + 1, attachments=["a/three.txt"])],
            ),
        ],
        FILES,
    )
    assert found(report) == [
        ("attachment-missing", 5, "direct_post.attachments[1].path"),
        ("attachment-dropped", 5, "direct_post.replies[0].attachments[0].path"),
        ("attachment-unreferenced", None, None),
    ]


# --- member names ------------------------------------------------------------------------------


def test_an_nfd_member_name_matches_an_nfc_path(validate_lines: ValidateLines) -> None:
    nfd_name = unicodedata.normalize("NFD", "data/a/résumé.txt")
    report = validate_lines([*WORLD, note("cv", attachments=["a/résumé.txt"])], {nfd_name: b"cv"})
    # Found; the name itself only gets a warning for servers before v11.7.
    assert found(report) == [("member-nfd-name", None, None)]
    assert report.issues[0].member == nfd_name
    assert report.attachments.referenced == 1


def test_an_nfd_path_matches_an_nfc_member_name(validate_lines: ValidateLines) -> None:
    nfd_path = unicodedata.normalize("NFD", "a/résumé.txt")
    report = validate_lines(
        [*WORLD, note("cv", attachments=[nfd_path])], {"data/a/résumé.txt": b"x"}
    )
    assert report.issues == []
    assert report.attachments.referenced == 1


# --- files nobody uses -------------------------------------------------------------------------


def test_a_backslash_in_a_member_name_is_an_ordinary_character(
    validate_lines: ValidateLines,
) -> None:
    # On the (Linux) server a JSONL path with the same backslash finds data/a\\b.png; a
    # Windows-style name data\\c\\d.png is not under data/ at all: nothing finds it.
    report = validate_lines(
        [*WORLD, note("files", attachments=["a\\b.png", "c/d.png"])],
        {"data/a\\b.png": PNG, "data\\c\\d.png": PNG},
    )
    assert found(report) == [
        ("member-backslash-name", None, None),
        ("member-backslash-name", None, None),
        ("attachment-missing", 5, "post.attachments[1].path"),
        ("attachment-outside-data", None, None),
    ]
    matched, windows = report.issues[0], report.issues[1]
    assert matched.member == "data/a\\b.png"
    assert "the JSONL path 'a\\\\b.png' (with the same backslash) finds this file" in (
        matched.message
    )
    assert "never" not in matched.message
    assert windows.member == "data\\c\\d.png"
    assert "no JSONL path ever finds it" in windows.message
    assert report.attachments.referenced == 1


def test_unreferenced_files_and_files_outside_data(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [*WORLD, note("files", attachments=["a/one.png"])],
        {**FILES, "attachments/z.png": PNG, "other/q.txt": b"q"},
    )
    assert found(report) == [
        ("attachment-unreferenced", None, None),
        ("attachment-unreferenced", None, None),
        ("attachment-outside-data", None, None),
    ]
    assert [i.member for i in report.issues] == [
        "data/a/two.txt",
        "data/a/three.txt",
        "attachments/z.png",
    ]
    assert "2 file(s) outside data/" in report.issues[2].message
    assert {i.severity for i in report.issues} == {Severity.WARNING}
    assert report.valid
    # Files outside data/ are not in the unreferenced statistics (the server never looks there).
    assert (report.attachments.unreferenced, report.attachments.unreferenced_bytes) == (2, 8)


def test_a_missing_attachment_found_outside_data_gets_a_hint(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [*WORLD, note("files", attachments=["attachments/z.png"])], {"attachments/z.png": PNG}
    )
    assert found(report) == [
        ("attachment-missing", 5, "post.attachments[0].path"),
        ("attachment-outside-data", None, None),
    ]
    assert "exists outside data/: 'attachments/z.png'" in report.issues[0].message


# --- profile and emoji images ------------------------------------------------------------------


def test_a_missing_profile_image_is_reported_before_other_validator_errors(
    validate_lines: ValidateLines,
) -> None:
    lines = [team("eng"), user("alice!!", ["eng"], profile_image="u/a.png")]
    missing = validate_lines(lines)
    assert [(i.code, i.line, i.field, i.server_error_id) for i in missing.issues] == [
        ("profile-image-missing", 3, "user.profile_image", PROFILE_IMAGE)
    ]
    assert missing.issues[0].effect == FAILS_IMPORT
    present = validate_lines(lines, {"data/u/a.png": PNG})
    assert found(present) == [("invalid-field", 3, "user.username")]


def test_a_missing_bot_profile_image(validate_lines: ValidateLines) -> None:
    report = validate_lines([*WORLD, bot("ci-bot", "alice", profile_image="u/bot.png")])
    assert found(report) == [("profile-image-missing", 5, "bot.profile_image")]


def test_a_profile_image_path_escaping_data_is_the_validators_error(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines([team("eng"), user("alice", ["eng"], profile_image="../a.png")])
    assert [(i.code, i.server_error_id) for i in report.issues] == [
        ("invalid-field", "app.import.validate_user_import_data.invalid_image_path.error")
    ]


def test_a_present_profile_image_is_referenced(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [team("eng"), user("alice", ["eng"], profile_image="u/a.png")], {"data/u/a.png": PNG}
    )
    assert report.issues == []
    assert report.attachments.referenced == 1


def test_a_missing_emoji_image(validate_lines: ValidateLines) -> None:
    report = validate_lines([emoji("party", "emoji/party.png")])
    assert [(i.code, i.line, i.field, i.server_error_id) for i in report.issues] == [
        ("emoji-image-missing", 2, "emoji.image", EMOJI_BAD_FILE)
    ]


def test_emoji_images_up_to_512_kib(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [emoji("at_limit", "e/at.png"), emoji("one_over", "e/over.png")],
        {"data/e/at.png": padded(PNG, 524_288), "data/e/over.png": padded(PNG, 524_289)},
    )
    assert found(report) == [("emoji-image-too-large", 3, "emoji.image")]
    assert "524,289 bytes" in report.issues[0].message


# --- emoji image content -----------------------------------------------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle r="7"/></svg>'


def test_emoji_images_the_server_can_serve_are_fine(validate_lines: ValidateLines) -> None:
    images = {
        "data/e/a.png": PNG,
        "data/e/b.gif": gif_bytes(4, 4),
        "data/e/c.jpg": jpeg_header_bytes(4, 4),
        "data/e/d.webp": webp_bytes(4, 4),
        "data/e/e.gif": PNG,  # the format is sniffed, not taken from the name
        # A JPEG's frame header comes after its EXIF: read further than the first bytes.
        "data/e/f.jpg": b"\xff\xd8\xff\xe1"
        + (10_002).to_bytes(2, "big")
        + b"\x00" * 10_000
        + jpeg_header_bytes(4, 4)[2:],
    }
    lines = [emoji(f"e{i}", name.removeprefix("data/")) for i, name in enumerate(images)]
    assert validate_lines(lines, images).issues == []


def test_an_emoji_image_that_is_not_an_image(validate_lines: ValidateLines) -> None:
    # The importer writes any bytes (the import goes on); the server cannot serve them and
    # mmctl import validate refuses them: a warning naming both.
    report = validate_lines([emoji("party", "e/party.png")], {"data/e/party.png": b"not a png"})
    assert found(report) == [("emoji-image-not-image", 2, "emoji.image")]
    issue = report.issues[0]
    assert (issue.severity, issue.effect) == (Severity.WARNING, None)
    assert "shows as a broken image" in issue.message
    assert "error decoding emoji image: image: unknown format" in issue.message
    assert dict(issue.values) == {"path": "e/party.png", "member": "data/e/party.png"}
    assert report.valid


def test_svg_emoji_images_are_read_as_xml_like_mmctl(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            emoji("good_svg", "e/good.svg"),
            emoji("bad_svg", "e/bad.SVG"),
            emoji("png_as_svg", "e/png.svg"),
        ],
        {"data/e/good.svg": SVG, "data/e/bad.SVG": b"<svg><g></svg>", "data/e/png.svg": PNG},
    )
    assert found(report) == [
        ("emoji-image-not-image", 2, "emoji.image"),
        ("emoji-image-not-image", 3, "emoji.image"),
        ("emoji-image-not-image", 4, "emoji.image"),
    ]
    good, bad, png = (i.message for i in report.issues)
    assert "mmctl import validate accepts it" in good
    assert "shows as a broken image" in good
    assert (
        "error decoding emoji SVG file: XML syntax error on line 1: element <g> closed by "
        "</svg>" in bad
    )
    assert "the server serves it" in png
    assert "error decoding emoji SVG file: XML syntax error on line" in png
    assert "invalid UTF-8" in png


# --- compression -------------------------------------------------------------------------------


def test_an_attachment_stored_with_deflate64_is_dropped(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            *WORLD,
            note("files", attachments=["a/one.png"]),
            note("again", replies=[reply("bob", "re", T + 1, attachments=["a/one.png"])]),
        ],
        {"data/a/one.png": PNG},
        attachment_method="deflate64",
    )
    # Once for the member, when the zip is opened; and on each line that loses the file,
    # naming the member.
    assert found(report) == [
        ("member-unsupported-compression", None, None),
        ("member-unsupported-compression", 5, "post.attachments[0].path"),
        ("member-unsupported-compression", 6, "post.replies[0].attachments[0].path"),
    ]
    summary, first, second = report.issues
    assert (summary.member, summary.severity, summary.effect) == (
        "data/a/one.png",
        Severity.ERROR,
        DROPS_DATA,
    )
    assert "deflate64" in summary.message
    for issue in (first, second):
        assert (issue.severity, issue.effect) == (Severity.ERROR, DROPS_DATA)
        assert "'data/a/one.png'" in issue.message
        assert "deflate64" in issue.message
        assert dict(issue.values) == {
            "path": "a/one.png",
            "member": "data/a/one.png",
            "method": 9,
            "repair": "recompress",  # `archivekit fix` re-compresses it
        }


@pytest.mark.parametrize(
    ("entry", "code", "what"),
    [
        (Entry("data/a.bin", b"x", method=12), "member-unsupported-compression", "bzip2"),
        (Entry("data/a.bin", b"x", method=14), "member-unsupported-compression", "LZMA"),
        (Entry("data/a.bin", b"x", flags=0x1), "member-encrypted", "encrypted"),
    ],
)
def test_a_referenced_member_the_server_cannot_read_is_reported_on_its_line(
    tmp_path: Path, entry: Entry, code: str, what: str
) -> None:
    lines = [version(), *WORLD, note("file", attachments=["a.bin"])]
    jsonl = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    path = tmp_path / "a.zip"
    path.write_bytes(build_zip([Entry("import.jsonl", jsonl), entry]))
    report = validate(path, max_issues=None)
    assert found(report) == [(code, None, None), (code, 5, "post.attachments[0].path")]
    line_issue = report.issues[1]
    assert line_issue.effect == DROPS_DATA
    assert "'data/a.bin'" in line_issue.message
    assert what in line_issue.message
    assert line_issue.values["member"] == "data/a.bin"


def test_a_profile_image_stored_with_deflate64_fails_the_line(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [team("eng"), user("alice", ["eng"], profile_image="u/a.png")],
        {"data/u/a.png": PNG},
        attachment_method="deflate64",
    )
    assert found(report) == [
        ("member-unsupported-compression", None, None),
        ("member-unsupported-compression", 3, "user.profile_image"),
    ]
    assert report.issues[1].effect == FAILS_IMPORT


# --- statistics --------------------------------------------------------------------------------


def test_attachment_stats_count_distinct_members(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            *WORLD,
            note("one", attachments=["a/one.png"]),
            post("eng", "town-square", "bob", "same file again", T, attachments=["a/one.png"]),
            post("eng", "town-square", "bob", "gone", T + 1, attachments=["a/x", "a/y"]),
        ],
        FILES,
    )
    assert report.counts.attachments == 4  # references, not files
    assert report.attachments.to_dict() == {
        "referenced": 1,
        "bytes": len(PNG),
        "missing": 2,
        "dropped": 0,
        "unreferenced": 2,
        "unreferenced_bytes": 8,
    }


def test_a_file_whose_stored_name_is_not_utf8_is_never_found(tmp_path: Path) -> None:
    # Go compares stored name bytes with the path's UTF-8: a cp437 name (no UTF-8 flag) and an
    # invalid UTF-8 name with the flag read like the paths when decoded, and match neither.
    lines = [
        version(),
        *WORLD,
        note("cp437", attachments=["über.txt"]),
        note("flagged", attachments=["\ufffd(.txt"]),
        note("utf-8 without the flag", attachments=["é.txt"]),
    ]
    jsonl = b"\n".join(orjson.dumps(line) for line in lines)
    raw = build_zip(
        [
            Entry("import.jsonl", jsonl),
            Entry("data/P1PP.txt", b"a"),
            Entry("data/P2.txt", b"b", flags=0x800),
            Entry("data/P3.txt", b"c"),
        ]
    )
    for placeholder, name in [(b"P1PP", b"\x81ber"), (b"P2", b"\xc3\x28"), (b"P3", b"\xc3\xa9")]:
        raw = raw.replace(b"data/" + placeholder + b".txt", b"data/" + name + b".txt")
    path = tmp_path / "names.zip"
    path.write_bytes(raw)
    report = validate(path, workers=1)
    assert found(report) == [
        ("attachment-missing", 5, "post.attachments[0].path"),
        ("attachment-missing", 6, "post.attachments[0].path"),
        ("attachment-unreferenced", None, None),
        ("attachment-unreferenced", None, None),
    ]
    for issue in report.issues[:2]:
        assert "its stored name is not UTF-8" in issue.message
    assert report.attachments.referenced == 1  # data/é.txt: UTF-8 bytes, found without the flag
