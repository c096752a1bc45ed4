"""Reading good archives: members, data, JSONL discovery, member hygiene, other input kinds."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from test_reader_zipmaker import Entry, build_zip

from archivekit.check.archive import archive_issues
from archivekit.errors import ArchiveError
from archivekit.issues import CODES, FAILS_IMPORT, Issue, Severity
from archivekit.read import Archive, MemberInfo, ReadLimits, open_archive

JSONL = b'{"type":"version","version":1}\n{"type":"team","team":{"name":"t"}}\n'
# Compressible but not trivial: exercises several inflate calls per block.
PAYLOAD = b"".join(b"line %d of the attachment\n" % i for i in range(50_000))


def write(tmp_path: Path, data: bytes, name: str = "export.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_all(archive: Archive, member: MemberInfo, block_size: int = 1 << 20) -> bytes:
    return b"".join(archive.iter_member_blocks(member, block_size))


def codes(archive: Archive) -> list[str]:
    return [issue.code for issue in archive_issues(archive)]


def issue(archive: Archive, code: str) -> Issue:
    (found,) = [i for i in archive_issues(archive) if i.code == code]
    return found


def zip_with(
    tmp_path: Path, *entries: Entry, comment: bytes = b"", zip64_end: bool = False
) -> Archive:
    data = build_zip(list(entries), comment=comment, zip64_end=zip64_end)
    return open_archive(write(tmp_path, data))


# --- member data ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", [0, 8, 9], ids=["stored", "deflate", "deflate64"])
@pytest.mark.parametrize("block_size", [1000, 1 << 20])
def test_members_read_back_byte_identical(tmp_path: Path, method: int, block_size: int) -> None:
    with zip_with(
        tmp_path, Entry("import.jsonl", JSONL), Entry("data/a.txt", PAYLOAD, method=method)
    ) as archive:
        member = archive.lookup("data/a.txt")
        assert member is not None
        assert member.method == method
        assert read_all(archive, member, block_size) == PAYLOAD
        assert b"".join(archive.iter_jsonl_blocks()) == JSONL


def test_blocks_are_bounded_by_block_size(tmp_path: Path) -> None:
    with zip_with(tmp_path, Entry("import.jsonl", PAYLOAD)) as archive:
        sizes = [len(b) for b in archive.iter_jsonl_blocks(block_size=4096)]
    assert max(sizes) <= 4096
    assert sum(sizes) == len(PAYLOAD)


def test_zipfile_written_members_read_back(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("import.jsonl", JSONL, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("data/stored.bin", PAYLOAD, compress_type=zipfile.ZIP_STORED)
        # force_zip64 puts a zip64 extra field in the local header: the data starts later.
        with zf.open("data/forced64.txt", "w", force_zip64=True) as member:
            member.write(PAYLOAD)
    with open_archive(path) as archive:
        assert [m.name for m in archive.members()] == [
            "import.jsonl",
            "data/stored.bin",
            "data/forced64.txt",
        ]
        for m in archive.members()[1:]:
            assert read_all(archive, m) == PAYLOAD


def test_zip64_directory_fields_and_end_record(tmp_path: Path) -> None:
    entries = [Entry("import.jsonl", JSONL, zip64=True), Entry("data/a.txt", PAYLOAD, zip64=True)]
    data = build_zip(entries, zip64_end=True)
    with open_archive(write(tmp_path, data)) as archive:
        member = archive.members()[1]
        # The 32-bit fields say 0xFFFFFFFF: these values come from the zip64 extra field.
        assert member.size == len(PAYLOAD)
        assert member.header_offset == data.index(b"PK\x03\x04", 1)
        assert read_all(archive, member) == PAYLOAD
        assert b"".join(archive.iter_jsonl_blocks()) == JSONL


def test_data_descriptor_members_use_the_directory_sizes(tmp_path: Path) -> None:
    with zip_with(
        tmp_path,
        Entry("import.jsonl", JSONL, data_descriptor=True),
        Entry("data/a.txt", PAYLOAD, data_descriptor=True),
    ) as archive:
        assert read_all(archive, archive.members()[1]) == PAYLOAD
        assert b"".join(archive.iter_jsonl_blocks()) == JSONL


def test_data_prepended_to_the_zip_is_skipped(tmp_path: Path) -> None:
    # Self-extracting archives: offsets in the directory are relative to the zip's own start.
    data = b"#!/bin/sh\nexit 0\n" + build_zip([Entry("import.jsonl", JSONL)])
    with open_archive(write(tmp_path, data)) as archive:
        assert b"".join(archive.iter_jsonl_blocks()) == JSONL


def test_zip_comment_is_allowed(tmp_path: Path) -> None:
    with zip_with(tmp_path, Entry("import.jsonl", JSONL), comment=b"PK\x05\x06 made by hand") as a:
        assert b"".join(a.iter_jsonl_blocks()) == JSONL


@pytest.mark.slow
def test_more_than_65535_entries(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:  # zipfile writes a zip64 end record past 65535
        zf.writestr("import.jsonl", JSONL)
        for i in range(70_000):
            zf.writestr(f"data/{i}.txt", b"")
    with open_archive(path) as archive:
        assert len(archive.members()) == 70_001
        last = archive.lookup("data/69999.txt")
        assert last is not None
        assert last.index == 70_000
        assert read_all(archive, last) == b""


def test_read_member_head(tmp_path: Path) -> None:
    with zip_with(tmp_path, Entry("import.jsonl", JSONL), Entry("data/a.txt", PAYLOAD)) as a:
        member = a.members()[1]
        assert a.read_member_head(member, 10) == PAYLOAD[:10]
        assert a.read_member_head(member, 0) == b""
        assert a.read_member_head(member, len(PAYLOAD) + 5) == PAYLOAD


def test_read_member_head_ignores_the_declared_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, build_zip([Entry("import.jsonl", JSONL), Entry("data/a", PAYLOAD)]))
    with open_archive(path, limits=ReadLimits(max_member_size=1000)) as archive:
        assert archive.read_member_head(archive.members()[1], 8) == PAYLOAD[:8]


def test_member_metadata(tmp_path: Path) -> None:
    with zip_with(
        tmp_path,
        Entry("import.jsonl", JSONL),
        Entry("data/", method=0),
        Entry("data/a.txt", PAYLOAD, method=0),
    ) as archive:
        jsonl, folder, attachment = archive.members()
        assert archive.jsonl == jsonl
        assert (jsonl.index, jsonl.method, jsonl.size) == (0, 8, len(JSONL))
        assert folder.is_dir
        assert not attachment.is_dir
        assert attachment.compressed_size == attachment.size == len(PAYLOAD)
        assert archive.kind == "zip"
        assert archive.size == os.path.getsize(archive.path)


def test_utf8_name_without_the_utf8_flag_is_decoded_like_the_server(tmp_path: Path) -> None:
    # Go keeps the raw bytes, so a UTF-8 name matches a UTF-8 JSONL path even without flag
    # bit 11 (zipfile would show cp437 mojibake); non-UTF-8 bytes fall back to cp437.
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data/caf\u00e9.png", b"x")])
    data = data.replace(b"\x00\x08", b"\x00\x00")  # clear bit 11 of every flags field
    with open_archive(write(tmp_path, data)) as archive:
        assert archive.lookup("data/caf\u00e9.png") is not None


# --- JSONL discovery -----------------------------------------------------------------------


def test_first_root_jsonl_in_directory_order_is_chosen(tmp_path: Path) -> None:
    with zip_with(
        tmp_path, Entry("data/a.png", b"x"), Entry("b.jsonl", JSONL), Entry("a.jsonl", b"")
    ) as archive:
        assert archive.jsonl.name == "b.jsonl"
        extra = issue(archive, "jsonl-extra")
        assert (extra.member, extra.line, extra.severity) == ("a.jsonl", None, Severity.WARNING)


def test_dot_slash_prefix_counts_as_root(tmp_path: Path) -> None:
    with zip_with(tmp_path, Entry("./import.jsonl", JSONL)) as archive:
        assert archive.jsonl.name == "./import.jsonl"
        assert archive_issues(archive) == []


def test_jsonl_in_a_folder_only_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError) as caught:
        zip_with(tmp_path, Entry("export/import.jsonl", JSONL))
    assert caught.value.issue.code == "jsonl-missing"
    assert caught.value.issue.server_error_id == "import_process.worker.do_job.missing_jsonl"
    assert "export/import.jsonl" in caught.value.issue.message


def test_extension_is_case_sensitive(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError) as caught:
        zip_with(tmp_path, Entry("IMPORT.JSONL", JSONL))
    assert caught.value.issue.code == "jsonl-missing"


def test_older_servers_would_pick_a_nested_jsonl(tmp_path: Path) -> None:
    with zip_with(tmp_path, Entry("old/export.jsonl", b""), Entry("import.jsonl", JSONL)) as a:
        assert a.jsonl.name == "import.jsonl"
        differs = issue(a, "jsonl-choice-differs")
        assert differs.member == "old/export.jsonl"
        assert differs.severity == Severity.WARNING


def test_nested_jsonl_after_the_root_one_changes_nothing(tmp_path: Path) -> None:
    with zip_with(tmp_path, Entry("import.jsonl", JSONL), Entry("old/export.jsonl", b"")) as a:
        assert archive_issues(a) == []


@pytest.mark.parametrize("name", ["a..b.jsonl", "x/../import.jsonl"])
def test_dot_dot_in_the_jsonl_name_fails_the_import(tmp_path: Path, name: str) -> None:
    with zip_with(tmp_path, Entry(name, JSONL)) as archive:
        assert archive.jsonl.name == name
        traversal = issue(archive, "jsonl-path-traversal")
        assert traversal.severity == Severity.ERROR
        assert traversal.server_error_id == "import_process.worker.do_job.open_file"
        assert traversal.effect == FAILS_IMPORT


def test_deflate64_jsonl_is_read_but_reported(tmp_path: Path) -> None:
    with zip_with(tmp_path, Entry("import.jsonl", PAYLOAD, method=9)) as archive:
        assert b"".join(archive.iter_jsonl_blocks()) == PAYLOAD
        found = issue(archive, "jsonl-unsupported-compression")
    assert (found.severity, found.line, found.effect) == (Severity.ERROR, None, FAILS_IMPORT)
    assert "zip -r -Z deflate new.zip import.jsonl data" in found.message
    assert codes(archive) == ["jsonl-unsupported-compression"]  # not also a member issue


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        # (bzip2 and LZMA are read: `fix` re-compresses them; test_fix.py has them.)
        (Entry("import.jsonl", JSONL, method=93), "zstd"),
        (Entry("import.jsonl", JSONL, method=95), "xz"),
        (Entry("import.jsonl", JSONL, method=99, flags=1), "encrypted"),
        (Entry("import.jsonl", JSONL, flags=1), "encrypted"),
    ],
)
def test_unreadable_jsonl_is_an_archive_error(tmp_path: Path, entry: Entry, words: str) -> None:
    with pytest.raises(ArchiveError) as caught:
        zip_with(tmp_path, entry)
    assert caught.value.issue.code == "jsonl-unsupported-compression"
    assert words in caught.value.issue.message


# --- member hygiene ------------------------------------------------------------------------


def test_clean_archive_has_no_issues(tmp_path: Path) -> None:
    with zip_with(
        tmp_path, Entry("import.jsonl", JSONL), Entry("data/"), Entry("data/a.png", b"x", 0)
    ) as archive:
        assert archive_issues(archive) == []


ERROR, WARNING = Severity.ERROR, Severity.WARNING
UNSUPPORTED = "member-unsupported-compression"
SYMLINK_MODE = 0o120777 << 16


@pytest.mark.parametrize(
    ("entry", "code", "severity"),
    [
        (Entry("data/a.png", b"x", flags=1), "member-encrypted", ERROR),
        (Entry("data/a.png", b"x", method=9), UNSUPPORTED, ERROR),
        (Entry("data/a.png", b"x", method=12), UNSUPPORTED, ERROR),
        (Entry("warnings.txt", b"x", method=14), UNSUPPORTED, WARNING),
        (Entry("/data/a.png", b"x"), "member-unsafe-name", WARNING),
        (Entry("data/../../etc/x", b"x"), "member-unsafe-name", WARNING),
        (Entry("C:/data/a.png", b"x"), "member-unsafe-name", WARNING),
        (Entry("data\\a.png", b"x"), "member-backslash-name", WARNING),
        (Entry("data/cafe\u0301.png", b"x"), "member-nfd-name", WARNING),
        (Entry("data/link", b"target", external_attr=SYMLINK_MODE), "member-symlink", WARNING),
    ],
)
def test_member_hygiene_issue(tmp_path: Path, entry: Entry, code: str, severity: str) -> None:
    with zip_with(tmp_path, Entry("import.jsonl", JSONL), entry) as archive:
        assert codes(archive) == [code]
        found = archive_issues(archive)[0]
    assert (found.member, found.line, found.severity) == (entry.name, None, severity)


def test_harmless_names_are_not_unsafe(tmp_path: Path) -> None:
    with zip_with(
        tmp_path, Entry("import.jsonl", JSONL), Entry("data/a..b.png", b"x"), Entry("data/..x")
    ) as archive:
        assert archive_issues(archive) == []


def test_nfd_name_is_found_by_its_nfc_key(tmp_path: Path) -> None:
    with zip_with(tmp_path, Entry("import.jsonl", JSONL), Entry("data/cafe\u0301.png", b"x")) as a:
        member = a.lookup("data/caf\u00e9.png")
        assert member is not None
        assert member.name == "data/cafe\u0301.png"
        assert a.lookup("data/cafe\u0301.png") is None  # keys are NFC only


def test_duplicate_names_lookup_returns_the_last(tmp_path: Path) -> None:
    with zip_with(
        tmp_path,
        Entry("import.jsonl", JSONL),
        Entry("data/a.png", b"first"),
        Entry("data/a.png", b"second"),
        Entry("data/cafe\u0301.png", b"nfd"),
        Entry("data/caf\u00e9.png", b"nfc"),
    ) as archive:
        first = archive.lookup("data/a.png")
        assert first is not None
        assert read_all(archive, first) == b"second"
        nfc = archive.lookup("data/caf\u00e9.png")
        assert nfc is not None
        assert read_all(archive, nfc) == b"nfc"
        duplicates = [
            i.member for i in archive_issues(archive) if i.code == "member-duplicate-name"
        ]
    assert duplicates == ["data/a.png", "data/cafe\u0301.png"]


# --- other input kinds ---------------------------------------------------------------------


def test_export_directory(tmp_path: Path) -> None:
    root = tmp_path / "export"
    (root / "data" / "sub").mkdir(parents=True)
    (root / "nested").mkdir()
    (root / "import.jsonl").write_bytes(JSONL)
    (root / "zz.jsonl").write_bytes(b"")
    (root / "nested" / "a.jsonl").write_bytes(b"")
    (root / "data" / "sub" / "cafe\u0301.png").write_bytes(PAYLOAD)
    with open_archive(root) as archive:
        assert archive.kind == "dir"
        assert [m.name for m in archive.members()] == [
            "data/sub/cafe\u0301.png",
            "import.jsonl",
            "nested/a.jsonl",
            "zz.jsonl",
        ]
        assert archive.jsonl.name == "import.jsonl"
        assert b"".join(archive.iter_jsonl_blocks(7)) == JSONL
        image = archive.lookup("data/sub/caf\u00e9.png")
        assert image is not None
        assert read_all(archive, image) == PAYLOAD
        assert archive.read_member_head(image, 4) == PAYLOAD[:4]
        assert archive.size == len(JSONL) + len(PAYLOAD)
        assert sorted(codes(archive)) == ["jsonl-extra", "member-nfd-name"]


def test_export_directory_without_root_jsonl(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "import.jsonl").write_bytes(JSONL)
    with pytest.raises(ArchiveError) as caught:
        open_archive(tmp_path)
    assert caught.value.issue.code == "jsonl-missing"


def test_bare_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path, JSONL, "import.jsonl")
    with open_archive(path) as archive:
        assert archive.kind == "jsonl"
        assert archive.jsonl.name == "import.jsonl"
        assert [m.name for m in archive.members()] == ["import.jsonl"]
        assert b"".join(archive.iter_jsonl_blocks(5)) == JSONL
        assert codes(archive) == ["jsonl-not-zipped"]
        assert archive_issues(archive)[0].severity == Severity.WARNING


def test_empty_bare_jsonl_is_still_a_jsonl(tmp_path: Path) -> None:
    with open_archive(write(tmp_path, b"", "import.jsonl")) as archive:
        assert archive.kind == "jsonl"
        assert list(archive.iter_jsonl_blocks()) == []


def test_zip_is_detected_by_content_not_extension(tmp_path: Path) -> None:
    path = write(tmp_path, build_zip([Entry("import.jsonl", JSONL)]), "looks-like.jsonl")
    with open_archive(path) as archive:
        assert archive.kind == "zip"


def test_total_read_limit_spans_members(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data/a", PAYLOAD, method=0)])
    limits = ReadLimits(max_total_size=len(PAYLOAD) + 10)
    with open_archive(write(tmp_path, data), limits=limits) as archive:
        read_all(archive, archive.members()[1])
        with pytest.raises(ArchiveError) as caught:
            read_all(archive, archive.members()[1])
    assert caught.value.issue.code == "archive-too-large"


def test_every_code_used_at_open_is_catalogued_or_reported_as_new(tmp_path: Path) -> None:
    # jsonl-not-zipped is new with the reader; the lead adds it to the catalogue.
    with zip_with(
        tmp_path,
        Entry("x/a.jsonl", b""),
        Entry("a..b.jsonl", JSONL, method=9),
        Entry("c.jsonl", b""),
        Entry("data/a", b"", flags=1),
        Entry("data/a", b"", method=12),
    ) as archive:
        used = set(codes(archive))
    assert used <= set(CODES) | {"jsonl-not-zipped"}
    assert len(used) == 7
