"""Broken and crafted zips, end to end through the CLI: a clear message and exit 3, or the right
reported issue; never a traceback, never a file written, never a member name used as a path.

The reader's own unit tests (tests/test_reader_broken.py) pin the issue codes; here each case runs
`archivekit validate` in a subprocess under an address-space limit (`check_validate_contract`),
from a working directory nested so that ``../../evil`` would still land inside ``tmp_path``,
and the whole of ``tmp_path`` is listed before and after.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import orjson
import pytest
from test_reader_zipmaker import Entry, build_zip

from archivekit.testing.fuzz import ContractResult, check_validate_contract
from archivekit.testing.synth import channel, post, team, user, version

VERSION = b'{"type":"version","version":1}\n'
TEAM = b'{"type":"team","team":{"name":"team1","display_name":"Team 1","type":"O"}}\n'
JSONL = VERSION + TEAM
PAYLOAD = b"".join(b"row %d\n" % i for i in range(5_000))
S_IFLNK = 0o120000
GIB = 1 << 30


def tree(root: Path) -> list[str]:
    """Every path below ``root`` (symlinks included, not followed), relative, sorted."""
    found = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(found)


def validate_untouched(
    tmp_path: Path, data: bytes, *args: str, memory: int = GIB
) -> ContractResult:
    """Write ``data`` as inbox/export.zip, validate it from a nested working directory, and
    check that nothing under ``tmp_path`` appeared, vanished or became a link."""
    inbox = tmp_path / "inbox"
    workdir = tmp_path / "a" / "b" / "work"
    inbox.mkdir()
    workdir.mkdir(parents=True)
    archive = inbox / "export.zip"
    archive.write_bytes(data)
    before = tree(tmp_path)
    result = check_validate_contract(archive, args=args, cwd=workdir, memory=memory)
    assert tree(tmp_path) == before
    assert archive.read_bytes() == data
    return result


def unreadable(tmp_path: Path, data: bytes, *args: str) -> str:
    """The one stderr line of an archive that cannot be used (exit 3)."""
    result = validate_untouched(tmp_path, data, *args)
    assert result.exit_code == 3, result
    return result.stderr


def reported(tmp_path: Path, data: bytes) -> tuple[int, list[tuple[str, str, str | None]]]:
    """Exit code and (code, severity, member) of each archive-level issue."""
    result = validate_untouched(tmp_path, data)
    assert result.report is not None
    issues = [(i["code"], i["severity"], i["member"]) for i in result.report["issues"]]
    return result.exit_code, issues


GOOD = build_zip([Entry("import.jsonl", JSONL), Entry("data/a.txt", PAYLOAD)])


def test_a_clean_archive_is_valid(tmp_path: Path) -> None:
    assert reported(tmp_path, GOOD) == (0, [("attachment-unreferenced", "warning", "data/a.txt")])


# --- unusable archives: exit 3 and one clear line ----------------------------------------------


def test_random_bytes_are_not_a_zip(tmp_path: Path) -> None:
    assert "not a zip archive" in unreadable(tmp_path, os.urandom(50_000))


@pytest.mark.parametrize("keep", [10, len(GOOD) // 3, len(GOOD) - 30, len(GOOD) - 1])
def test_a_truncated_download(tmp_path: Path, keep: int) -> None:
    message = unreadable(tmp_path, GOOD[:keep])
    assert "ends early" in message or "truncated" in message


def test_a_bad_crc_on_the_jsonl(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL, crc=0xDEADBEEF)])
    assert "CRC-32" in unreadable(tmp_path, data)


def test_a_flipped_byte_in_the_compressed_jsonl(tmp_path: Path) -> None:
    data = bytearray(build_zip([Entry("import.jsonl", JSONL * 200)]))
    data[60] ^= 0xFF  # inside the deflate stream (the local header and name end at 42)
    message = unreadable(tmp_path, bytes(data))
    assert "damaged" in message or "CRC-32" in message


def test_a_damaged_central_directory(tmp_path: Path) -> None:
    data = bytearray(GOOD)
    second = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)
    data[second : second + 4] = b"XX\x01\x02"
    assert "central directory" in unreadable(tmp_path, bytes(data))


def test_a_central_directory_pointing_outside_the_file(tmp_path: Path) -> None:
    data = bytearray(GOOD)
    eocd = data.rindex(b"PK\x05\x06")
    data[eocd + 16 : eocd + 20] = struct.pack("<I", 10**9)
    assert "outside the file" in unreadable(tmp_path, bytes(data))


def test_an_encrypted_jsonl(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL, flags=0x1)])
    assert "is encrypted" in unreadable(tmp_path, data)


@pytest.mark.parametrize(("method", "name"), [(93, "zstd"), (95, "xz"), (98, "PPMd")])
def test_a_jsonl_in_an_unsupported_method(tmp_path: Path, method: int, name: str) -> None:
    data = build_zip([Entry("import.jsonl", JSONL, method=method)])
    assert f"compressed with {name}" in unreadable(tmp_path, data)


def test_a_multi_disk_archive(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL)], disk=1)
    assert "split (multi-disk)" in unreadable(tmp_path, data)


def test_the_first_part_of_a_split_archive(tmp_path: Path) -> None:
    assert "split (multi-disk)" in unreadable(tmp_path, b"PK\x07\x08" + GOOD[: len(GOOD) // 2])


def test_a_zip_without_a_jsonl(tmp_path: Path) -> None:
    data = build_zip([Entry("data/a.txt", PAYLOAD)])
    assert "No .jsonl file at the root" in unreadable(tmp_path, data)


# --- readable archives with hostile members: a reported issue --------------------------------


def test_an_encrypted_attachment_is_an_error(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data/a.png", b"x", flags=0x1)])
    code, issues = reported(tmp_path, data)
    assert code == 1
    assert ("member-encrypted", "error", "data/a.png") in issues


def test_an_attachment_in_an_unsupported_method_is_an_error(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data/a.png", b"x", method=14)])
    code, issues = reported(tmp_path, data)
    assert code == 1
    assert ("member-unsupported-compression", "error", "data/a.png") in issues


def test_a_deflate64_jsonl_is_read_but_reported(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL, method=9)])
    assert reported(tmp_path, data) == (
        1,
        [("jsonl-unsupported-compression", "error", "import.jsonl")],
    )


def test_duplicate_member_names(tmp_path: Path) -> None:
    data = build_zip(
        [Entry("import.jsonl", JSONL), Entry("data/a.txt", b"one"), Entry("data/a.txt", b"two")]
    )
    code, issues = reported(tmp_path, data)
    assert code == 0
    assert ("member-duplicate-name", "warning", "data/a.txt") in issues


def test_directory_members_are_never_created(tmp_path: Path) -> None:
    data = build_zip(
        [Entry("data/", method=0), Entry("data/evil/", method=0), Entry("import.jsonl", JSONL)]
    )
    assert reported(tmp_path, data) == (0, [])


@pytest.mark.parametrize("name", ["../../evil", "data/../../../evil", "../../evil/import.jsonl"])
def test_dot_dot_names_are_reported_and_never_written(tmp_path: Path, name: str) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry(name, b"pwned")])
    code, issues = reported(tmp_path, data)
    assert code == 0
    assert ("member-unsafe-name", "warning", name) in issues
    assert not (tmp_path / "a" / "evil").exists()  # ../../evil seen from the working directory


def test_an_absolute_name_is_reported_and_never_written(tmp_path: Path) -> None:
    target = tmp_path / "absolute-evil"
    data = build_zip([Entry("import.jsonl", JSONL), Entry(str(target), b"pwned")])
    code, issues = reported(tmp_path, data)
    assert code == 0
    assert ("member-unsafe-name", "warning", str(target)) in issues
    assert not target.exists()


def test_a_drive_letter_and_backslashes(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry("C:\\x", b"pwned")])
    code, issues = reported(tmp_path, data)
    assert code == 0
    assert ("member-unsafe-name", "warning", "C:\\x") in issues
    assert ("member-backslash-name", "warning", "C:\\x") in issues


def test_a_windows_path_with_backslashes(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data\\..\\..\\evil", b"pwned")])
    code, issues = reported(tmp_path, data)
    assert code == 0
    assert ("member-backslash-name", "warning", "data\\..\\..\\evil") in issues
    assert ("member-unsafe-name", "warning", "data\\..\\..\\evil") in issues


def test_an_nfd_name(tmp_path: Path) -> None:
    nfd = "data/cafe\u0301.txt"
    data = build_zip([Entry("import.jsonl", JSONL), Entry(nfd, b"x")])
    code, issues = reported(tmp_path, data)
    assert code == 0
    assert ("member-nfd-name", "warning", nfd) in issues


@pytest.mark.parametrize("target", [b"/etc/passwd", b"../../../../etc/shadow"])
def test_a_symlink_member_is_reported_and_never_created(tmp_path: Path, target: bytes) -> None:
    link = Entry("data/link", target, method=0, external_attr=(S_IFLNK | 0o777) << 16)
    data = build_zip([Entry("import.jsonl", JSONL), link])
    code, issues = reported(tmp_path, data)
    assert code == 0
    assert ("member-symlink", "warning", "data/link") in issues


def test_a_jsonl_name_with_dot_dot(tmp_path: Path) -> None:
    data = build_zip([Entry("a..b.jsonl", JSONL)])
    assert reported(tmp_path, data) == (1, [("jsonl-path-traversal", "error", "a..b.jsonl")])


# --- zip bombs -----------------------------------------------------------------------------------

_SEGMENT = 16 << 20


def zeros_deflated(size: int) -> tuple[bytes, int]:
    """Raw deflate of ``size`` zero bytes (a multiple of 16 MiB) and its CRC-32, built without
    inflating: a full flush resets the compressor, so one compressed 16 MiB segment repeats.
    1 GiB comes out at about 1 MB (ratio ~1030, close to deflate's maximum of 1032)."""
    assert size % _SEGMENT == 0
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(_SEGMENT)
    segment = deflater.compress(zeros) + deflater.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // _SEGMENT):
        crc = zlib.crc32(zeros, crc)
    return segment * (size // _SEGMENT) + b"\x03\x00", crc  # 03 00: an empty final block


@pytest.fixture(scope="module")
def gib_of_zeros() -> tuple[bytes, int]:
    return zeros_deflated(GIB)


def bomb_zip(payload: tuple[bytes, int], name: str = "import.jsonl", size: int = GIB) -> bytes:
    data, crc = payload
    entries = [] if name == "import.jsonl" else [Entry("import.jsonl", JSONL)]
    return build_zip([*entries, Entry(name, payload=data, size=size, crc=crc)])


def test_a_gigabyte_of_zeros_stops_on_the_ratio_by_default(
    tmp_path: Path, gib_of_zeros: tuple[bytes, int]
) -> None:
    result = validate_untouched(tmp_path, bomb_zip(gib_of_zeros))
    assert result.exit_code == 3
    assert "expands more than 1000 times (zip-bomb protection)" in result.stderr
    assert result.seconds < 5


def test_the_member_size_limit(tmp_path: Path, gib_of_zeros: tuple[bytes, int]) -> None:
    message = unreadable(tmp_path, bomb_zip(gib_of_zeros), "--max-member-size", str(GIB - 1))
    assert "over the limit of 1,073,741,823 (zip-bomb protection)" in message


def test_the_total_size_limit(tmp_path: Path, gib_of_zeros: tuple[bytes, int]) -> None:
    limits = ("--max-total-size", str(100 << 20), "--max-ratio", "2000")
    message = unreadable(tmp_path, bomb_zip(gib_of_zeros), *limits)
    assert "More than 104,857,600 uncompressed bytes read" in message


def test_the_ratio_limit(tmp_path: Path) -> None:
    text = b"".join(b"%08d the same words again\n" % (i % 1000) for i in range(200_000))
    data = build_zip([Entry("import.jsonl", VERSION + text)])
    assert "expands more than 5 times" in unreadable(tmp_path, data, "--max-ratio", "5")


def test_raised_limits_read_the_whole_gigabyte_in_bounded_memory(
    tmp_path: Path, gib_of_zeros: tuple[bytes, int]
) -> None:
    result = validate_untouched(tmp_path, bomb_zip(gib_of_zeros), "--max-ratio", "2000")
    assert result.report is not None
    assert [(i["code"], i["line"]) for i in result.report["issues"]] == [("line-too-long", 1)]
    assert result.seconds < 20


def test_a_header_that_lies_small_stops_at_the_declared_size(
    tmp_path: Path, gib_of_zeros: tuple[bytes, int]
) -> None:
    message = unreadable(tmp_path, bomb_zip(gib_of_zeros, size=1000), "--max-ratio", "2000")
    assert "holds more data than the 1,000 bytes its header declares" in message


def test_a_bomb_attached_to_a_post_is_only_read_for_its_image_header(
    tmp_path: Path, gib_of_zeros: tuple[bytes, int]
) -> None:
    lines = [
        version(),
        team("team1"),
        channel("team1", "town-square"),
        user("alice", teams=["team1"]),
        post("team1", "town-square", "alice", "look", 1_700_000_000_000, attachments=["z.png"]),
    ]
    jsonl = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    data, crc = gib_of_zeros
    bomb = Entry("data/z.png", payload=data, size=GIB, crc=crc)
    result = validate_untouched(tmp_path, build_zip([Entry("import.jsonl", jsonl), bomb]))
    assert result.report is not None
    assert (result.exit_code, result.report["attachment_stats"]["referenced"]) == (0, 1)
    assert result.seconds < 5
