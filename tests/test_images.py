"""Image dimensions from headers: what Go's image.DecodeConfig would report, or None."""

from __future__ import annotations

import struct
import zlib

from hypothesis import given
from hypothesis import strategies as st

from archivekit.gosem.images import FORMATS, HEAD_BYTES, image_dimensions


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def sof(marker: int, width: int, height: int) -> bytes:
    # precision, height, width, 3 components of (id, sampling, quant table)
    return segment(marker, struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00" * 3)


JFIF = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
DQT = segment(0xDB, b"\x00" + bytes(64))
SOS = segment(0xDA, b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00") + b"\x12\x34\xff\xd9"


def jpeg(*segments: bytes) -> bytes:
    return b"\xff\xd8" + b"".join(segments)


def gif(version: bytes, width: int, height: int) -> bytes:
    return b"GIF" + version + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def riff(chunk: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_vp8(width: int, height: int) -> bytes:
    # Key frame tag (bit 0 clear), start code, 14-bit sizes with scale bits zero.
    payload = b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + bytes(8)
    return riff(b"VP8 " + struct.pack("<I", len(payload)) + payload)


def webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14) | (1 << 28)  # alpha used, version 0
    payload = b"\x2f" + struct.pack("<I", bits) + bytes(4)
    return riff(b"VP8L" + struct.pack("<I", len(payload)) + payload)


def webp_vp8x(width: int, height: int) -> bytes:
    payload = b"\x10\x00\x00\x00" + (width - 1).to_bytes(3, "little")
    payload += (height - 1).to_bytes(3, "little")
    return riff(b"VP8X" + struct.pack("<I", len(payload)) + payload)


def test_png_reads_the_ihdr_size() -> None:
    assert image_dimensions(png(7680, 4320)) == ("png", 7680, 4320)


def test_png_with_zero_width_has_no_dimensions() -> None:
    assert image_dimensions(png(0, 10)) is None


def test_png_whose_first_chunk_is_not_ihdr_has_no_dimensions() -> None:
    data = bytearray(png(10, 10))
    data[12:16] = b"IDAT"
    assert image_dimensions(bytes(data)) is None


def test_baseline_jpeg() -> None:
    assert image_dimensions(jpeg(JFIF, DQT, sof(0xC0, 640, 480), SOS)) == ("jpeg", 640, 480)


def test_extended_sequential_jpeg() -> None:
    assert image_dimensions(jpeg(JFIF, sof(0xC1, 12, 34), SOS)) == ("jpeg", 12, 34)


def test_progressive_jpeg_after_a_large_exif_block() -> None:
    exif = segment(0xE1, b"Exif\x00\x00" + bytes(65_000))
    data = jpeg(exif, DQT, sof(0xC2, 6000, 4000), SOS)
    assert image_dimensions(data) == ("jpeg", 6000, 4000)


def test_jpeg_with_fill_bytes_before_a_marker() -> None:
    data = b"\xff\xd8" + b"\xff\xff\xff" + JFIF[1:] + sof(0xC0, 5, 6)
    assert image_dimensions(data) == ("jpeg", 5, 6)


def test_head_bytes_cover_four_full_app_segments_before_the_frame_header() -> None:
    app = [segment(0xE1 + i, bytes(65_533)) for i in range(3)]
    data = jpeg(JFIF, *app, DQT, sof(0xC0, 100, 200), SOS)
    assert len(data) < HEAD_BYTES
    assert image_dimensions(data[:HEAD_BYTES]) == ("jpeg", 100, 200)


def test_lossless_jpeg_is_not_decodable_by_go_so_no_dimensions() -> None:
    assert image_dimensions(jpeg(JFIF, sof(0xC3, 10, 10), SOS)) is None


def test_jpeg_scan_before_frame_header_has_no_dimensions() -> None:
    assert image_dimensions(jpeg(JFIF, SOS, sof(0xC0, 10, 10))) is None


def test_jpeg_sof_in_the_middle_of_a_segment_is_not_mistaken_for_one() -> None:
    decoy = segment(0xFE, b"\xff\xc0\x00\x11\x08\x00\x01\x00\x01")  # a COM with SOF bytes
    data = jpeg(JFIF, decoy, sof(0xC0, 300, 200), SOS)
    assert image_dimensions(data) == ("jpeg", 300, 200)


def test_gif87a_and_gif89a_report_the_logical_screen() -> None:
    assert image_dimensions(gif(b"87a", 320, 200)) == ("gif", 320, 200)
    assert image_dimensions(gif(b"89a", 1, 65535)) == ("gif", 1, 65535)


def test_webp_lossy_vp8() -> None:
    assert image_dimensions(webp_vp8(1920, 1080)) == ("webp", 1920, 1080)


def test_webp_vp8_that_is_not_a_key_frame_has_no_dimensions() -> None:
    data = bytearray(webp_vp8(10, 10))
    data[20] |= 1
    assert image_dimensions(bytes(data)) is None


def test_webp_lossless_vp8l() -> None:
    assert image_dimensions(webp_vp8l(16383, 1)) == ("webp", 16383, 1)


def test_webp_extended_vp8x_reports_the_canvas() -> None:
    assert image_dimensions(webp_vp8x(20000, 16000)) == ("webp", 20000, 16000)


def test_unknown_formats_have_no_dimensions() -> None:
    assert image_dimensions(b"") is None
    assert image_dimensions(b"%PDF-1.7\n") is None
    assert image_dimensions(b"BM" + bytes(60)) is None  # BMP: not measured
    assert image_dimensions(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None


def test_every_truncation_of_every_format_returns_none_or_the_size_without_raising() -> None:
    samples = [
        png(10, 20),
        jpeg(JFIF, DQT, sof(0xC0, 10, 20), SOS),
        jpeg(segment(0xE1, bytes(100)), sof(0xC2, 10, 20), SOS),
        gif(b"89a", 10, 20),
        webp_vp8(10, 20),
        webp_vp8l(10, 20),
        webp_vp8x(10, 20),
    ]
    for data in samples:
        full = image_dimensions(data)
        assert full is not None
        assert full[1:] == (10, 20)
        for cut in range(len(data)):
            result = image_dimensions(data[:cut])
            assert result is None or result == full


@given(st.binary(max_size=256))
def test_garbage_never_raises(data: bytes) -> None:
    for prefix in (b"", b"\xff\xd8", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP"):
        result = image_dimensions(prefix + data)
        # A known format and sizes that fit uint32 (check.files.Dimensions keeps them so).
        assert result is None or (
            result[0] in FORMATS and 0 <= min(result[1:]) <= max(result[1:]) < 2**32
        )
