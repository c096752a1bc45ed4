"""archivekit.write.zipwriter: streamed members, raw copies of another zip's members, zip64,
determinism; and the reader's raw byte range (`Archive.iter_raw_blocks`) the copies use."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import zipfile_deflate64  # noqa: F401 - registers Deflate64 (method 9) with zipfile

from archivekit.errors import ArchiveError
from archivekit.read import open_archive
from archivekit.read.inflate import RATIO_GRACE, iter_compressed
from archivekit.read.zipdir import read_data_offset
from archivekit.testing.synth import ZipMember, png_bytes, write_zip
from archivekit.write.zipwriter import (
    CAPPED_DEFLATE,
    FAST_DEFLATE,
    FLAG_DATA_DESCRIPTOR,
    GO_DEFLATE,
    MAX_WRITTEN_RATIO,
    Deflate,
    MemberTraits,
    RatioBound,
    ZipWriter,
    central_entry_size,
    deflater,
    local_overhead,
)

TEXT = b"".join(b"line %d of a text attachment\n" % i for i in range(3000))


def source_zip(tmp_path: Path) -> Path:
    return write_zip(
        tmp_path / "src.zip",
        [
            ZipMember("import.jsonl", b'{"type":"version","version":1}\n', "deflate"),
            ZipMember("data/a/stored.png", png_bytes(40, 30)),
            ZipMember("data/a/deflated.txt", TEXT, "deflate"),
            ZipMember("data/a/d64.txt", TEXT, "deflate64"),
            ZipMember("data/a/résumé.txt", b"cv"),
        ],
    )


def copy_all(source: Path, out: Path, **options: int) -> None:
    with open_archive(source) as archive, out.open("wb") as fp:
        writer = ZipWriter(fp, **options)
        for member in archive.members():
            writer.copy_raw(member.name, member, archive.iter_raw_blocks(member, 1000))
        writer.close()


def test_raw_copies_keep_method_crc_sizes_and_bytes(tmp_path: Path) -> None:
    source = source_zip(tmp_path)
    out = tmp_path / "out.zip"
    copy_all(source, out)
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(out) as b:
        assert b.testzip() is None
        before, after = a.infolist(), b.infolist()
        assert [i.filename for i in after] == [i.filename for i in before]
        for old, new in zip(before, after, strict=True):
            assert (new.compress_type, new.CRC, new.compress_size, new.file_size) == (
                old.compress_type,
                old.CRC,
                old.compress_size,
                old.file_size,
            )
            assert b.read(new) == a.read(old)
            # Sizes are known up front: no data descriptor.
            assert not new.flag_bits & FLAG_DATA_DESCRIPTOR
    with open_archive(source) as a, open_archive(out) as b:
        for old, new in zip(a.members(), b.members(), strict=True):
            assert b"".join(b.iter_raw_blocks(new)) == b"".join(a.iter_raw_blocks(old))


def test_raw_copy_local_headers_carry_the_sizes(tmp_path: Path) -> None:
    source = source_zip(tmp_path)
    out = tmp_path / "out.zip"
    copy_all(source, out)
    raw = out.read_bytes()
    with zipfile.ZipFile(out) as zf:
        for info in zf.infolist():
            fields = struct.unpack_from("<4sHHHHHIIIHH", raw, info.header_offset)
            assert fields[6:9] == (info.CRC, info.compress_size, info.file_size)


def test_zip64_raw_copies_and_streamed_members(tmp_path: Path) -> None:
    source = source_zip(tmp_path)
    out = tmp_path / "out.zip"
    copy_all(source, out, zip64_limit=100)
    raw = out.read_bytes()
    assert b"PK\x06\x06" in raw
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(out) as b:
        assert b.testzip() is None
        assert [b.read(i) for i in b.infolist()] == [a.read(i) for i in a.infolist()]
    with open_archive(out) as archive:
        assert [m.size for m in archive.members()][2] == len(TEXT)


def test_copy_raw_refuses_data_of_the_wrong_length(tmp_path: Path) -> None:
    source = source_zip(tmp_path)
    with open_archive(source) as archive:
        member = archive.members()[2]
        data = b"".join(archive.iter_raw_blocks(member))
        for wrong in (data[:-1], data + b"x"):
            with pytest.raises(ValueError, match="declared"):
                ZipWriter(io.BytesIO()).copy_raw(member.name, member, [wrong])


def test_raw_blocks_of_a_cut_member_raise_archive_error(tmp_path: Path) -> None:
    source = source_zip(tmp_path)
    raw = source.read_bytes()
    with open_archive(source) as archive:
        member = archive.members()[2]
        offset = read_data_offset(io.BytesIO(raw), member, len(raw))
    cut = io.BytesIO(raw[: offset + 10])
    with pytest.raises(ArchiveError, match="ends early"):
        list(iter_compressed(cut, offset, member, 1 << 20))


def test_raw_blocks_need_a_zip(tmp_path: Path) -> None:
    bare = tmp_path / "import.jsonl"
    bare.write_bytes(b'{"type":"version","version":1}\n')
    with open_archive(bare) as archive, pytest.raises(ValueError, match="not a zip"):
        archive.iter_raw_blocks(archive.jsonl)


@pytest.mark.parametrize("deflate", [FAST_DEFLATE, GO_DEFLATE])
def test_streamed_members_and_the_digest(deflate: object) -> None:
    buffer = io.BytesIO()
    writer = ZipWriter(buffer, digest=True)
    with writer.open("import.jsonl", deflate=deflate) as member:  # type: ignore[arg-type]
        for i in range(0, len(TEXT), 4096):
            member.write(TEXT[i : i + 4096])
    writer.write_member("data/x.bin", b"\x00\x01", "stored")
    summary = writer.close()
    data = buffer.getvalue()
    assert summary.size == len(data)
    assert summary.sha256 == hashlib.sha256(data).hexdigest()
    assert [e.name for e in summary.entries] == ["import.jsonl", "data/x.bin"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.read("import.jsonl") == TEXT
        assert zf.getinfo("import.jsonl").compress_size < len(TEXT) // 5
        assert zf.getinfo("import.jsonl").flag_bits & FLAG_DATA_DESCRIPTOR


def test_output_is_deterministic(tmp_path: Path) -> None:
    source = source_zip(tmp_path)
    copy_all(source, tmp_path / "one.zip")
    copy_all(source, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_one_member_at_a_time() -> None:
    writer = ZipWriter(io.BytesIO())
    writer.open("a")
    with pytest.raises(RuntimeError, match="still open"):
        writer.open("b")


def test_size_helpers_match_what_is_written(tmp_path: Path) -> None:
    source = source_zip(tmp_path)
    out = tmp_path / "out.zip"
    copy_all(source, out)
    with open_archive(out) as archive:
        members = archive.members()
        total = sum(
            local_overhead(m.name, streamed=False) + m.compressed_size + central_entry_size(m.name)
            for m in members
        )
    assert total + 22 == out.stat().st_size


def test_member_traits_set_flags_mode_method_and_a_wrong_crc() -> None:
    """`MemberTraits`: what a copy keeps of its original's problems, as another reader (Python's
    zipfile) sees the entries; deflate64 stays readable (stored blocks), the same bytes twice."""
    data = b"placeholder " * 100

    def written() -> bytes:
        buffer = io.BytesIO()
        writer = ZipWriter(buffer)
        for name, traits in [
            ("enc", MemberTraits(flags=0x1)),
            ("link", MemberTraits(unix_mode=0o120777)),
            ("d64", MemberTraits(method=9)),
            ("bz", MemberTraits(method=12)),
            ("crc", MemberTraits(wrong_crc=True)),
        ]:
            with writer.open(name, "deflate", traits=traits) as out:
                out.write(data)
        writer.close()
        return buffer.getvalue()

    raw = written()
    assert raw == written()
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        info = {i.filename: i for i in zf.infolist()}
        assert info["enc"].flag_bits & 0x1
        assert info["link"].external_attr >> 16 == 0o120777
        assert info["link"].create_system == 3
        assert info["d64"].compress_type == 9
        assert zf.read("d64") == data
        assert info["bz"].compress_type == 12
        assert zlib.crc32(data) ^ 0xFFFFFFFF == info["crc"].CRC
        with pytest.raises(zipfile.BadZipFile, match="CRC"):
            zf.read("crc")


def test_sized_members_carry_crc_and_sizes_ahead_of_their_data() -> None:
    """`write_sized`: no data descriptor, the local header holds the CRC-32 and sizes (a reader
    of a stream finds the end of an encrypted member); the content is read twice, written once."""
    data = [b"zeros " * 50, b"more"]
    buffer = io.BytesIO()
    writer = ZipWriter(buffer)
    entry = writer.write_sized("enc.txt", lambda: iter(data), 8, MemberTraits(flags=0x1))
    writer.close()
    raw = buffer.getvalue()
    size = len(b"".join(data))
    fields = struct.unpack_from("<4sHHHHHIIIHH", raw)
    assert fields[2] == 0x1  # encrypted, no data descriptor
    assert fields[6:9] == (zlib.crc32(b"".join(data)), size, size)
    assert entry.size == entry.compressed_size == size
    assert raw.count(b"zeros ") == 50


def _largest_expansion(stream: bytes, step: int = 512) -> float:
    """The most a reader inflating ``stream`` ``step`` bytes at a time sees come out per byte
    read, once the readers' grace has come out (what `read.inflate.over_ratio` checks)."""
    inflater = zlib.decompressobj(-15)
    produced = consumed = 0
    worst = 0.0
    for start in range(0, len(stream), step):
        chunk = stream[start : start + step]
        consumed += len(chunk)
        produced += len(inflater.decompress(chunk))
        if produced > RATIO_GRACE:
            worst = max(worst, produced / consumed)
    assert inflater.eof
    return worst


@pytest.mark.parametrize("options", [CAPPED_DEFLATE, Deflate("zlib", 6, capped=True)])
def test_a_long_run_of_one_byte_never_expands_past_the_readers_limit(options: Deflate) -> None:
    # 20 MB of one character deflates over 1,000 times (ISA-L level 1): the readers' zip-bomb
    # limit. The writer stores what would take it past half of that: the stream stays readable.
    text = b'{"type":"post","post":{"message":"' + b"a" * 20_000_000 + b'"}}\n'
    compressor = deflater(options)
    pieces = range(0, len(text), 256 << 10)
    stream = b"".join(compressor.compress(text[i : i + (256 << 10)]) for i in pieces)
    stream += compressor.flush()
    assert zlib.decompress(stream, -15) == text
    assert isinstance(compressor, RatioBound)
    assert compressor.stored > 0
    assert _largest_expansion(stream) <= MAX_WRITTEN_RATIO
    # Text that deflates as usual is never stored, in one call or in the pieces the JSONL
    # writer gives (the compressor gives out nothing for the first ones: it holds them back).
    lines = (b'{"type":"post","post":{"message":"w%d %d"}}' % (i, i * 7919) for i in range(10**5))
    words = b"\n".join(lines)
    for size in (len(words), 262_948):
        plain = deflater(options)
        again = b"".join(plain.compress(words[i : i + size]) for i in range(0, len(words), size))
        again += plain.flush()
        assert zlib.decompress(again, -15) == words
        assert isinstance(plain, RatioBound)
        assert plain.stored == 0
