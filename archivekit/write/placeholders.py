"""Same-size placeholders for the files `redact` replaces.

A placeholder has exactly the original's size (so size limits and the archive's size judge it
alike) and none of its bytes. An image whose header the server reads (`gosem.images`) gets a
valid image of the same format and dimensions — a blank one, written here without decoding or
holding pixels — padded to the original's size where the format allows it (a private PNG
chunk, a JPEG comment segment, a GIF comment block; bytes after a WebP's RIFF chunk). Any other
file, and an image whose header the server cannot read either, becomes zero bytes.

Where the blank image does not fit in the original's size (a tiny file claiming large
dimensions: a hostile header, a highly compressed image) or would take long to write (PNG
rows past `_MAX_PNG_ROWS` bytes), the placeholder is a header-only file of the format instead:
its header says the same dimensions — all the server's ``image.DecodeConfig`` (and validate)
read — but it holds no pixels (`_HEADERS`). Only when even that is larger than the original
(a file of fewer than 14 to 45 bytes) is the placeholder larger; `Placeholder.size` says so.

Everything is produced as an iterator of blocks, so a placeholder for a multi-gigabyte file
costs one block of memory. The signatures come from `gosem.images`, their one definition.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from archivekit.gosem.images import (
    GIF_SIGNATURES,
    JPEG_SIGNATURE,
    PNG_SIGNATURE,
    WEBP_FORM,
    WEBP_RIFF,
)

_BLOCK: Final = 1 << 20
_ZEROS: Final = bytes(_BLOCK)
# Above these, a header-only image (see the module docstring): a PNG's rows are compressed
# here (16 MiB of rows: 134 million 1-bit pixels, 0.15 s), a WebP's pixels by Pillow.
_MAX_PNG_ROWS: Final = 16 << 20
_MAX_WEBP_PIXELS: Final = 1 << 24
# Deflate expands at most about 1,032 times: rows that compress to more than the original's
# size are not compressed at all.
_DEFLATE_MAX_RATIO: Final = 1032


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A placeholder's content (``blocks``) and its size."""

    kind: str  # "zeros", or the image format
    size: int
    blocks: Iterator[bytes]


def zeros(size: int) -> Iterator[bytes]:
    while size > 0:
        n = min(size, _BLOCK)
        yield _ZEROS[:n]
        size -= n


def placeholder(size: int, image: tuple[str, int, int] | None) -> Placeholder:
    """The placeholder of a file of ``size`` bytes whose header reads as ``image`` (format,
    width, height; None for anything else)."""
    if image is not None:
        fmt, width, height = image
        if fmt in _HEADERS and width > 0 and height > 0:
            built = _full_image(fmt, width, height, size)
            head, body, tail = built if built is not None else _HEADERS[fmt](width, height)
            base = len(head) + sum(len(b) for b in body) + len(tail)
            pad = _PADDERS[fmt](size - base)
            total = base + sum(len(p) for p in pad)
            return Placeholder(fmt, max(size, total), _join(head, body, pad, tail, size - total))
    return Placeholder("zeros", size, zeros(size))


def blank_image(fmt: str, width: int, height: int, *, header_only: bool = False) -> bytes:
    """The blank, decodable image of ``fmt`` (of `gosem.images.FORMATS`) and those dimensions,
    at its smallest: what `placeholder` pads when it fits. ``header_only``: the header-only
    file of the format instead (dimensions, no pixels: all ``image.DecodeConfig`` reads), what
    `placeholder` falls back to. The one image builder: test and benchmark archives use it."""
    head, body, tail = (_HEADERS if header_only else _BUILDERS)[fmt](width, height)
    return head + b"".join(body) + tail


def _full_image(
    fmt: str, width: int, height: int, size: int
) -> tuple[bytes, list[bytes], bytes] | None:
    """The blank image of ``fmt`` and those dimensions when it fits in ``size`` bytes (and
    takes little to write), else None. What cannot fit is not built (a PNG's rows are
    judged by the best ratio deflate has, a JPEG's scan by its exact size)."""
    if fmt == "png":
        rows = height * (1 + (width + 7) // 8)
        if rows > _MAX_PNG_ROWS or rows // _DEFLATE_MAX_RATIO > size:
            return None
    elif fmt == "jpeg" and _jpeg_size(width, height) > size:
        return None
    head, body, tail = _BUILDERS[fmt](width, height)
    if len(head) + sum(len(b) for b in body) + len(tail) > size:
        return None
    return head, body, tail


def _join(
    head: bytes, body: list[bytes], pad: list[bytes], tail: bytes, trailing: int
) -> Iterator[bytes]:
    yield head
    yield from body
    yield from pad
    yield tail
    yield from zeros(trailing)


# --- PNG -------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int) -> tuple[bytes, list[bytes], bytes]:
    """A black 1-bit grayscale PNG: its rows are zeros, compressed row by row."""
    head, _, end = _png_header(width, height)
    row = bytes(1 + (width + 7) // 8)  # filter byte 0 + packed pixels
    compressor = zlib.compressobj(9)
    rows_per_call = max(1, _BLOCK // len(row))
    parts = []
    left = height
    while left:
        n = min(left, rows_per_call)
        parts.append(compressor.compress(row * n))
        left -= n
    parts.append(compressor.flush())
    return head, [_png_chunk(b"IDAT", b"".join(parts))], end


def _png_header(width: int, height: int) -> tuple[bytes, list[bytes], bytes]:
    """A PNG of one IHDR chunk (1-bit grayscale) and IEND: dimensions, no pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return PNG_SIGNATURE + _png_chunk(b"IHDR", ihdr), [], _png_chunk(b"IEND", b"")


def _png_padding(room: int) -> list[bytes]:
    # A private, ancillary, safe-to-copy chunk ("rdAc") that every decoder skips.
    out = []
    while room >= 12:
        n = min(room - 12, 1 << 20)
        out.append(_png_chunk(b"rdAc", bytes(n)))
        room -= n + 12
    return out


# --- JPEG ------------------------------------------------------------------------------------


def _jpeg(width: int, height: int) -> tuple[bytes, list[bytes], bytes]:
    """A mid-grey baseline grayscale JPEG. Its Huffman tables have one 1-bit code each (DC
    difference 0, end of block), so every 8x8 block is the two bits ``00``: the scan is
    zero bytes, a quarter byte per block."""
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + b"\x01" * 64
    dht = b"".join(
        b"\xff\xc4" + struct.pack(">H", 20) + bytes([table]) + b"\x01" + bytes(15) + b"\x00"
        for table in (0x00, 0x10)
    )
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    full, rest = divmod(2 * _jpeg_blocks(width, height), 8)
    scan = list(zeros(full))
    if rest:
        scan.append(bytes([0xFF >> rest]))  # the last byte's unused bits are ones
    return JPEG_SIGNATURE + dqt + _jpeg_sof(width, height) + dht, [sos, *scan], _JPEG_EOI


_JPEG_EOI: Final = b"\xff\xd9"
_JPEG_TABLES: Final = 69 + 2 * 22 + 10  # DQT, two DHT, SOS (see `_jpeg`)


def _jpeg_sof(width: int, height: int) -> bytes:
    """A baseline frame header: 8 bits, ``height`` x ``width``, one component."""
    return b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"


def _jpeg_blocks(width: int, height: int) -> int:
    return -(-width // 8) * -(-height // 8)


def _jpeg_size(width: int, height: int) -> int:
    """The size of `_jpeg`'s image, without building it."""
    scan = -(-2 * _jpeg_blocks(width, height) // 8)
    return len(JPEG_SIGNATURE) + _JPEG_TABLES + len(_jpeg_sof(width, height)) + scan + 2


def _jpeg_header(width: int, height: int) -> tuple[bytes, list[bytes], bytes]:
    """SOI, a frame header, EOI: dimensions, no scan."""
    return JPEG_SIGNATURE + _jpeg_sof(width, height), [], _JPEG_EOI


def _jpeg_padding(room: int) -> list[bytes]:
    # Comment segments (FFFE, length, bytes) between the scan and EOI.
    out = []
    while room >= 4:
        n = min(room - 4, 0xFFFF - 2)
        out.append(b"\xff\xfe" + struct.pack(">H", n + 2) + bytes(n))
        room -= n + 4
    return out


# --- GIF -------------------------------------------------------------------------------------


def _gif(width: int, height: int) -> tuple[bytes, list[bytes], bytes]:
    """A GIF89a with a ``width`` x ``height`` screen and one black 1x1 frame."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # a global table of 2 colours
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return _GIF89A + screen + bytes(6) + frame, [], _GIF_TRAILER


_GIF89A: Final = GIF_SIGNATURES[1]
_GIF_TRAILER: Final = b"\x3b"


def _gif_header(width: int, height: int) -> tuple[bytes, list[bytes], bytes]:
    """A screen without colour table nor frame: dimensions, no pixels."""
    return _GIF89A + struct.pack("<HHBBB", width, height, 0, 0, 0), [], _GIF_TRAILER


def _gif_padding(room: int) -> list[bytes]:
    # Comment extensions: 21 FE, sub-blocks of at most 255 bytes, a zero terminator.
    # A sub-block of n bytes takes n + 1; a lone byte left over goes after the trailer.
    out = []
    while room >= 3:
        full, rest = divmod(min(room - 3, 256 * 255), 256)
        body = (b"\xff" + bytes(255)) * full
        if rest >= 2:
            body += bytes([rest - 1]) + bytes(rest - 1)
        out.append(b"\x21\xfe" + body + b"\x00")
        room -= len(out[-1])
    return out


# --- WebP ------------------------------------------------------------------------------------


def _webp(width: int, height: int) -> tuple[bytes, list[bytes], bytes]:
    """A blank lossless WebP (through Pillow, which matplotlib brings along); over
    `_MAX_WEBP_PIXELS` or without Pillow's WebP, a header-only VP8X file."""
    if width * height <= _MAX_WEBP_PIXELS:
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover - Pillow comes with matplotlib
            pass
        else:
            buffer = io.BytesIO()
            try:
                Image.new("L", (width, height)).save(buffer, "WEBP", lossless=True)
            except (OSError, ValueError):
                pass
            else:
                return buffer.getvalue(), [], b""
    return _webp_header(width, height)


def _webp_header(width: int, height: int) -> tuple[bytes, list[bytes], bytes]:
    """A RIFF WebP of one VP8X chunk: dimensions, no pixels."""
    vp8x = bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return WEBP_RIFF + struct.pack("<I", 4 + len(chunk)) + WEBP_FORM + chunk, [], b""


def _after_riff(room: int) -> list[bytes]:
    # Readers stop at the end of the RIFF chunk: zero bytes after it are never looked at.
    return []


_BUILDERS: Final = {"png": _png, "jpeg": _jpeg, "gif": _gif, "webp": _webp}
_HEADERS: Final = {
    "png": _png_header,
    "jpeg": _jpeg_header,
    "gif": _gif_header,
    "webp": _webp_header,
}
_PADDERS: Final = {
    "png": _png_padding,
    "jpeg": _jpeg_padding,
    "gif": _gif_padding,
    "webp": _after_riff,
}
