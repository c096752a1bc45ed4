"""Broken and hostile archives: always an ArchiveError with the right code, or an Issue."""

from __future__ import annotations

import bz2
import os
import random
import struct
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest
from message_values import unkept_values
from test_reader_zipmaker import Entry, build_zip

from archivekit.check.archive import archive_issues
from archivekit.errors import ArchiveError
from archivekit.read import Archive, ReadLimits, open_archive

JSONL = b'{"type":"version","version":1}\n'
PAYLOAD = b"".join(b"row %d\n" % i for i in range(20_000))
GOOD = build_zip([Entry("import.jsonl", JSONL), Entry("data/a.txt", PAYLOAD)])


def write(tmp_path: Path, data: bytes, name: str = "export.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def open_code(path: Path, limits: ReadLimits | None = None) -> str:
    with pytest.raises(ArchiveError) as caught:
        open_archive(path, limits=limits).close()
    return caught.value.issue.code


def read_code(archive: Archive, index: int = 1) -> str:
    with pytest.raises(ArchiveError) as caught:
        for _ in archive.iter_member_blocks(archive.members()[index]):
            pass
    return caught.value.issue.code


# --- not a zip -----------------------------------------------------------------------------


def test_random_bytes(tmp_path: Path) -> None:
    noise = random.Random(7).randbytes(100_000)
    assert open_code(write(tmp_path, noise)) == "not-a-zip"


def test_empty_file(tmp_path: Path) -> None:
    assert open_code(write(tmp_path, b"")) == "not-a-zip"


def test_missing_file(tmp_path: Path) -> None:
    assert open_code(tmp_path / "nope.zip") == "not-a-zip"


def test_an_archive_it_cannot_open_or_reread_is_named_in_the_values(tmp_path: Path) -> None:
    missing = tmp_path / "nope.zip"
    with pytest.raises(ArchiveError) as caught:
        open_archive(missing)
    assert dict(caught.value.issue.values) == {
        "path": str(missing),
        "found": "No such file or directory",
    }
    assert unkept_values(caught.value.issue) == []
    read_end, write_end = os.pipe()
    try:
        pipe = f"/dev/fd/{read_end}"
        with pytest.raises(ArchiveError) as caught:
            open_archive(pipe)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert caught.value.issue.code == "stream-unreadable"
    assert dict(caught.value.issue.values) == {"path": pipe}
    assert unkept_values(caught.value.issue) == []


def test_text_file_not_named_jsonl(tmp_path: Path) -> None:
    assert open_code(write(tmp_path, JSONL, "import.txt")) == "not-a-zip"


# --- truncated -----------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [4, 100, len(GOOD) // 2, len(GOOD) - 10, len(GOOD) - 1])
def test_truncated_archive(tmp_path: Path, keep: int) -> None:
    assert open_code(write(tmp_path, GOOD[:keep])) == "zip-truncated"


def test_truncated_comment(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL)], comment=b"a comment")
    assert open_code(write(tmp_path, data[:-3])) == "zip-truncated"


def test_compressed_stream_ends_early(tmp_path: Path) -> None:
    compressed_len = len(zlib.compress(PAYLOAD)) - 6  # raw deflate: no zlib header/trailer
    data = build_zip(
        [Entry("import.jsonl", JSONL), Entry("data/a.txt", PAYLOAD, compressed_size=100)]
    )
    assert compressed_len > 100
    with open_archive(write(tmp_path, data)) as archive:
        assert read_code(archive) == "zip-truncated"


def test_member_data_past_the_end_of_the_file(tmp_path: Path) -> None:
    data = build_zip(
        [Entry("import.jsonl", JSONL), Entry("data/a.txt", PAYLOAD, compressed_size=10**9)]
    )
    with open_archive(write(tmp_path, data)) as archive:
        assert read_code(archive) == "zip-truncated"


# --- corrupt -------------------------------------------------------------------------------


def test_flipped_data_byte_in_a_stored_member_is_a_crc_mismatch(tmp_path: Path) -> None:
    data = bytearray(build_zip([Entry("import.jsonl", JSONL), Entry("data/a", PAYLOAD, 0)]))
    at = data.index(b"row 100\n")
    data[at] ^= 0x01
    with open_archive(write(tmp_path, bytes(data))) as archive:
        assert read_code(archive) == "member-crc-mismatch"


def test_wrong_crc_on_a_deflated_member(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data/a", PAYLOAD, crc=1234)])
    with open_archive(write(tmp_path, data)) as archive:
        assert read_code(archive) == "member-crc-mismatch"


def test_garbage_deflate_data(tmp_path: Path) -> None:
    garbage = b"\xff" * 500
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data/a", PAYLOAD, payload=garbage)])
    with open_archive(write(tmp_path, data)) as archive:
        assert read_code(archive) == "zip-corrupt"


def test_garbage_deflate64_data(tmp_path: Path) -> None:
    garbage = b"\xff" * 500
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data/a", PAYLOAD, 9, payload=garbage)])
    with open_archive(write(tmp_path, data)) as archive:
        assert read_code(archive) == "zip-corrupt"


def test_member_smaller_than_declared(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data/a", PAYLOAD, size=10**6)])
    with open_archive(write(tmp_path, data)) as archive:
        assert read_code(archive) == "zip-corrupt"


def test_member_larger_than_declared_stops_early(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data/a", PAYLOAD, size=1000)])
    with open_archive(write(tmp_path, data)) as archive:
        blocks = archive.iter_member_blocks(archive.members()[1], block_size=4096)
        with pytest.raises(ArchiveError) as caught:
            next(blocks)
    assert caught.value.issue.code == "zip-corrupt"


def test_damaged_central_directory_entry(tmp_path: Path) -> None:
    data = bytearray(GOOD)
    second = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)
    data[second : second + 4] = b"XX\x01\x02"
    assert open_code(write(tmp_path, bytes(data))) == "zip-corrupt"


def test_central_directory_offset_outside_the_file(tmp_path: Path) -> None:
    data = bytearray(GOOD)
    eocd = data.rindex(b"PK\x05\x06")
    data[eocd + 16 : eocd + 20] = struct.pack("<I", 10**8)
    assert open_code(write(tmp_path, bytes(data))) == "zip-corrupt"


def test_damaged_local_header_of_the_jsonl(tmp_path: Path) -> None:
    data = b"XX" + GOOD[2:]
    assert open_code(write(tmp_path, data)) == "zip-corrupt"


def test_zip64_extra_field_too_short(tmp_path: Path) -> None:
    data = bytearray(build_zip([Entry("import.jsonl", JSONL, zip64=True)]))
    at = data.index(struct.pack("<HH", 1, 24), data.index(b"PK\x01\x02"))
    data[at + 2 : at + 4] = struct.pack("<H", 4)  # claim 4 bytes: the sizes do not fit
    assert open_code(write(tmp_path, bytes(data))) == "zip-corrupt"


# --- unsupported features ------------------------------------------------------------------


def test_multi_disk_end_record(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL)], disk=1)
    assert open_code(write(tmp_path, data)) == "zip-multidisk"


def test_multi_disk_zip64_locator(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL)], zip64_end=True, zip64_disks=3)
    assert open_code(write(tmp_path, data)) == "zip-multidisk"


def test_first_part_of_a_split_archive(tmp_path: Path) -> None:
    data = b"PK\x07\x08" + GOOD[: len(GOOD) // 2]
    assert open_code(write(tmp_path, data, "export.z01")) == "zip-multidisk"


@pytest.mark.parametrize(("method", "flags"), [(93, 0), (98, 0), (99, 1), (8, 1)])
def test_unreadable_attachment_is_an_issue_and_reading_it_an_error(
    tmp_path: Path, method: int, flags: int
) -> None:
    data = build_zip(
        [Entry("import.jsonl", JSONL), Entry("data/a.png", b"x", method=method, flags=flags)]
    )
    with open_archive(write(tmp_path, data)) as archive:
        expected = "member-encrypted" if flags else "member-unsupported-compression"
        assert [i.code for i in archive_issues(archive)] == [expected]
        assert read_code(archive) == expected


# --- zip bombs -----------------------------------------------------------------------------

ZEROS_SIZE = 200 * 10**6


@pytest.fixture(scope="module")
def zeros_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200 MB member of zeros, deflated (about 200 KB), built without 200 MB in memory."""
    block = bytes(1 << 20)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts, crc, left = [], 0, ZEROS_SIZE
    while left:
        piece = block[: min(left, len(block))]
        parts.append(deflater.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(deflater.flush())
    bomb = Entry("data/zeros.bin", payload=b"".join(parts), size=ZEROS_SIZE, crc=crc)
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    path.write_bytes(build_zip([Entry("import.jsonl", JSONL), bomb]))
    return path


def drain_measured(archive: Archive, index: int) -> tuple[str, float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        code = read_code(archive, index)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return code, time.perf_counter() - started, peak


def test_bomb_over_the_member_size_limit(zeros_bomb: Path) -> None:
    with open_archive(zeros_bomb, limits=ReadLimits(max_member_size=10 * 10**6)) as archive:
        code, seconds, peak = drain_measured(archive, 1)
    assert code == "member-too-large"
    assert seconds < 2
    assert peak < 16 << 20


def test_bomb_over_the_ratio_limit(zeros_bomb: Path) -> None:
    with open_archive(zeros_bomb, limits=ReadLimits(max_ratio=100)) as archive:
        code, seconds, peak = drain_measured(archive, 1)
    assert code == "member-ratio"
    assert seconds < 2
    assert peak < 16 << 20


def test_bomb_over_the_total_limit(zeros_bomb: Path) -> None:
    limits = ReadLimits(max_total_size=10 * 10**6, max_ratio=10**6)
    with open_archive(zeros_bomb, limits=limits) as archive:
        code, seconds, peak = drain_measured(archive, 1)
    assert code == "archive-too-large"
    assert seconds < 2
    assert peak < 16 << 20


def test_ratio_limit_allows_the_first_mebibyte(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry("data/z", bytes(1 << 20))])
    with open_archive(write(tmp_path, data), limits=ReadLimits(max_ratio=2)) as archive:
        assert sum(len(b) for b in archive.iter_member_blocks(archive.members()[1])) == 1 << 20


def test_bomb_within_limits_reads_to_the_end(zeros_bomb: Path) -> None:
    with open_archive(zeros_bomb, limits=ReadLimits(max_ratio=10**6)) as archive:
        total = sum(len(b) for b in archive.iter_member_blocks(archive.members()[1]))
    assert total == ZEROS_SIZE


def test_no_file_is_ever_written(tmp_path: Path) -> None:
    data = build_zip([Entry("import.jsonl", JSONL), Entry("../../escape.txt", b"x")])
    path = write(tmp_path, data)
    before = sorted(os.listdir(tmp_path))
    with open_archive(path) as archive:
        assert [i.code for i in archive_issues(archive)] == ["member-unsafe-name"]
        assert b"".join(archive.iter_member_blocks(archive.members()[1])) == b"x"
    assert sorted(os.listdir(tmp_path)) == before
    assert not (tmp_path.parent.parent / "escape.txt").exists()


def _bzip2_zeros(size: int, *, declared: int | None = None) -> Entry:
    """data/zeros.bin: ``size`` zeros in bzip2 (a few dozen bytes: far past any ratio
    limit), declaring ``declared`` bytes (default: its size)."""
    zeros = bytes(size)
    return Entry(
        "data/zeros.bin",
        payload=bz2.compress(zeros),
        method=12,
        size=size if declared is None else declared,
        crc=zlib.crc32(zeros),
    )


def test_without_the_ratio_limit_a_member_is_read_to_its_declared_size_and_no_further(
    tmp_path: Path,
) -> None:
    # How fix reads a member it re-compresses (`iter_member_blocks(ratio=False)`): it cannot
    # be a bomb past what it declares, and the member and total limits still apply.
    honest = write(tmp_path, build_zip([Entry("import.jsonl", JSONL), _bzip2_zeros(8 << 20)]))
    with open_archive(honest) as archive:
        assert read_code(archive) == "member-ratio"
        member = archive.members()[1]
        assert sum(len(b) for b in archive.iter_member_blocks(member, ratio=False)) == 8 << 20
    with open_archive(honest, limits=ReadLimits(max_member_size=4 << 20)) as archive:
        with pytest.raises(ArchiveError) as caught:
            archive.iter_member_blocks(archive.members()[1], ratio=False)
        assert caught.value.issue.code == "member-too-large"
    lying = [Entry("import.jsonl", JSONL), _bzip2_zeros(8 << 20, declared=2 << 20)]
    with open_archive(write(tmp_path, build_zip(lying), "lying.zip")) as archive:
        blocks = archive.iter_member_blocks(archive.members()[1], 1 << 20, ratio=False)
        sizes: list[int] = []  # filled block by block up to the stop
        with pytest.raises(ArchiveError) as caught:
            sizes.extend(len(block) for block in blocks)
        assert caught.value.issue.code == "zip-corrupt"
        assert "more data than the 2,097,152 bytes" in caught.value.issue.message
        assert sum(sizes) <= 2 << 20


@pytest.mark.slow
def test_a_bzip2_bomb_is_read_with_bounded_memory(tmp_path: Path) -> None:
    # 300 MB of zeros: 242 bytes in bzip2, within one 2 KB slice. Reading never holds more
    # than a block and one capped call's output (read.inflate.SLICE_OUTPUT_CAP), even with the
    # ratio limit out of the way: it goes to the end in pieces, each charged as it comes.
    # (LZMA cannot do this: about 7,000:1 at most, ~14 MB a slice.)
    import zipfile

    info = zipfile.ZipInfo("data/zeros.bin")
    info.compress_type = zipfile.ZIP_BZIP2
    path = tmp_path / "bomb.zip"
    block = bytes(1 << 20)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("import.jsonl", JSONL)
        with zf.open(info, "w", force_zip64=True) as out:
            for _ in range(300):
                out.write(block)
    limits = ReadLimits(max_ratio=10**9)
    tracemalloc.start()
    try:
        with open_archive(path, limits=limits) as archive:
            member = next(m for m in archive.index if m.name == "data/zeros.bin")
            read = sum(len(block) for block in archive.iter_member_blocks(member, 1 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read == 300 << 20
    assert peak < 64 << 20
    with open_archive(path) as archive:  # with the ratio limit: stopped at the first pieces
        member = next(m for m in archive.index if m.name == "data/zeros.bin")
        assert read_code(archive, member.index) == "member-ratio"
