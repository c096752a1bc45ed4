"""Same-size placeholders for the files `redact` replaces.

A placeholder has exactly the original's size (so size limits and the archive's size judge it
alike) and none of its bytes. An image whose header the server reads (`gosem.images`) gets a
valid image of the same format and dimensions — a blank one, written here without decoding or
holding pixels — padded to the original's size where the format allows it (a private PNG
chunk, a JPEG comment segment, a GIF comment block; bytes after a WebP's RIFF chunk). Any other
file, and an image whose header the server cannot read either, becomes zero bytes.

Everything is produced as an iterator of blocks, so a placeholder for a multi-gigabyte file
costs one block of memory. When even the smallest image of those dimensions is larger than the
original (rare: a highly compressed huge image), the placeholder is that image, larger than
the original; `Placeholder.size` says so.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

_BLOCK: Final = 1 << 20
_ZEROS: Final = bytes(_BLOCK)
# Pixel counts above which no pixel data is written (header-only image: the server's header
# read sees the same dimensions; a decoder would refuse the pixels).
_MAX_PNG_PIXELS: Final = 1 << 32
_MAX_WEBP_PIXELS: Final = 1 << 24


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
        build = _BUILDERS.get(fmt)
        if build is not None and width > 0 and height > 0:
            head, body, tail = build(width, height)
            base = len(head) + sum(len(b) for b in body) + len(tail)
            pad = _PADDERS[fmt](size - base)
            total = base + sum(len(p) for p in pad)
            return Placeholder(fmt, max(size, total), _join(head, body, pad, tail, size - total))
    return Placeholder("zeros", size, zeros(size))


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
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    head = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
    if width * height > _MAX_PNG_PIXELS:
        return head, [], _png_chunk(b"IEND", b"")
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
    return head, [_png_chunk(b"IDAT", b"".join(parts))], _png_chunk(b"IEND", b"")


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
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    dht = b"".join(
        b"\xff\xc4" + struct.pack(">H", 20) + bytes([table]) + b"\x01" + bytes(15) + b"\x00"
        for table in (0x00, 0x10)
    )
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    blocks = -(-width // 8) * -(-height // 8)
    full, rest = divmod(2 * blocks, 8)
    scan = list(zeros(full))
    if rest:
        scan.append(bytes([0xFF >> rest]))  # the last byte's unused bits are ones
    return b"\xff\xd8" + dqt + sof + dht, [sos, *scan], b"\xff\xd9"


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
    return b"GIF89a" + screen + bytes(6) + frame, [], b"\x3b"


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
    vp8x = bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk, [], b""


def _after_riff(room: int) -> list[bytes]:
    # Readers stop at the end of the RIFF chunk: zero bytes after it are never looked at.
    return []


_BUILDERS: Final = {"png": _png, "jpeg": _jpeg, "gif": _gif, "webp": _webp}
_PADDERS: Final = {
    "png": _png_padding,
    "jpeg": _jpeg_padding,
    "gif": _gif_padding,
    "webp": _after_riff,
}
