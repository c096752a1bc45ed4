"""A byte-level zip writer for reader tests, and checks that what it writes is a real zip.

`zipfile` cannot write deflate64, unknown methods, zip64 extras on small members, multi-disk
end records or lying headers; this writer can. Other reader tests import it.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

import inflate64

U32 = 0xFFFFFFFF


@dataclass
class Entry:
    name: str
    data: bytes = b""
    method: int = 8
    flags: int = 0
    external_attr: int = 0
    zip64: bool = False  # sizes and offset only in a zip64 extra field of the directory
    data_descriptor: bool = False
    descriptor: str = "signed"  # its layout: "signed", "unsigned" (no signature), "64" (sizes)
    # Overrides for broken or synthetic members (payload = bytes as stored).
    payload: bytes | None = None
    size: int | None = None
    crc: int | None = None
    compressed_size: int | None = None


def compress(data: bytes, method: int) -> bytes:
    if method == 0:
        return data
    if method == 8:
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        return deflater.compress(data) + deflater.flush()
    if method == 9:
        deflater64 = inflate64.Deflater()
        return bytes(deflater64.deflate(data)) + bytes(deflater64.flush())
    return data  # other methods: never decompressed by the reader, any bytes will do


def build_zip(
    entries: list[Entry],
    *,
    comment: bytes = b"",
    zip64_end: bool = False,
    disk: int = 0,
    zip64_disks: int = 1,
) -> bytes:
    out = io.BytesIO()
    directory = io.BytesIO()
    for entry in entries:
        name = entry.name.encode("utf-8")
        flags = entry.flags | (0x800 if not entry.name.isascii() else 0)
        if entry.data_descriptor:
            flags |= 0x08
        payload = entry.payload if entry.payload is not None else compress(entry.data, entry.method)
        size = len(entry.data) if entry.size is None else entry.size
        crc = zlib.crc32(entry.data) if entry.crc is None else entry.crc
        csize = len(payload) if entry.compressed_size is None else entry.compressed_size
        offset = out.tell()
        local_sizes = (0, 0, 0) if entry.data_descriptor else (crc, csize, size)
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, flags, entry.method, 0, 0x21,
                              *local_sizes, len(name), 0))  # fmt: skip
        out.write(name)
        out.write(payload)
        if entry.data_descriptor:
            layout = {"signed": "<4sIII", "unsigned": "<III", "64": "<4sIQQ"}[entry.descriptor]
            signature = () if entry.descriptor == "unsigned" else (b"PK\x07\x08",)
            out.write(struct.pack(layout, *signature, crc, csize, size))
        extra = b""
        cd_csize, cd_size, cd_offset = csize, size, offset
        if entry.zip64:
            extra = struct.pack("<HHQQQ", 1, 24, size, csize, offset)
            cd_csize = cd_size = cd_offset = U32
        directory.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", (3 << 8) | 45, 45,
                                    flags, entry.method, 0, 0x21, crc, cd_csize, cd_size,
                                    len(name), len(extra), 0, 0, 0, entry.external_attr,
                                    cd_offset))  # fmt: skip
        directory.write(name + extra)
    cd_offset = out.tell()
    cd = directory.getvalue()
    out.write(cd)
    count = len(entries)
    if zip64_end:
        record_offset = out.tell()
        out.write(struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, disk, disk,
                              count, count, len(cd), cd_offset))  # fmt: skip
        out.write(struct.pack("<4sIQI", b"PK\x06\x07", 0, record_offset, zip64_disks))
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, U32, U32,
                              len(comment)))  # fmt: skip
    else:
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", disk, disk, count, count, len(cd),
                              cd_offset, len(comment)))  # fmt: skip
    out.write(comment)
    return out.getvalue()


def test_the_writer_produces_zips_the_stdlib_reads() -> None:
    entries = [
        Entry("import.jsonl", b'{"type":"version","version":1}\n'),
        Entry("data/a.bin", bytes(range(256)) * 10, method=0, zip64=True),
        Entry("data/b.txt", b"hello " * 100, data_descriptor=True),
    ]
    with zipfile.ZipFile(io.BytesIO(build_zip(entries, zip64_end=True))) as zf:
        assert zf.testzip() is None
        for entry in entries:
            assert zf.read(entry.name) == entry.data
