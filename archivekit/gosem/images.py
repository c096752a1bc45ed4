"""Image dimensions read from file headers, the way the server's decoders see them.

The server checks ``FileSettings.MaxImageResolution`` (width × height) with Go's
``image.DecodeConfig``, which reads only the header. We do the same for the four formats it
registers that matter for imports (PNG, JPEG, GIF, WebP) without decoding pixels.

``None`` means "no dimensions": unknown format, truncated or malformed header, or a variant
Go's decoder refuses (e.g. lossless/arithmetic JPEG). In all those cases the server gets no
dimensions either, so no resolution check happens for an attachment. Parsing never raises.

This is the reference: archivekit/read/_imagehead.c parses the same heads in C for the fast
path's image attachments, and tests/test_image_native.py holds it to these functions.
"""

from __future__ import annotations

from archivekit.gosem.strings import go_lower

# A JPEG's SOF marker comes after every APPn segment (EXIF with its thumbnail, ICC profile,
# XMP, Photoshop IRB). Each segment is at most 64 KiB; 256 KiB holds the frame header even
# behind three full-size segments plus the usual small ones, which covers what cameras and
# editors write, and is still a small read next to a photo. Other formats need < 32 bytes.
HEAD_BYTES = 256 * 1024

# Go's mime.TypeByExtension: the extensions for which the server's FileInfo.IsImage() is
# true, so that it checks MaxImageResolution (other files are stored without a look).
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".webp"})

# The formats `image_dimensions` names.
FORMATS = ("png", "jpeg", "gif", "webp")

# The signatures Go's image.Decode recognises (WebP's is split around the size: `signature`).
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8"
GIF_SIGNATURES = (b"GIF87a", b"GIF89a")
WEBP_RIFF = b"RIFF"  # then the RIFF size (4 bytes), then:
WEBP_FORM = b"WEBP"
_GO_MAX_INT32 = 2**31 - 1

# JPEG markers without a length field: TEM, RST0-7, SOI, EOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), 0xD8, 0xD9})
# Baseline, extended sequential, progressive: what Go's image/jpeg decodes. Other SOFn
# (lossless, hierarchical, arithmetic) make DecodeConfig fail, so the server sees no size.
_SUPPORTED_SOF = frozenset({0xC0, 0xC1, 0xC2})
_OTHER_SOF = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_SOS = 0xDA


def is_image_name(name: str) -> bool:
    """Whether the server treats a file of this name as an image (by its extension)."""
    dot = name.rfind(".")
    return dot > name.rfind("/") and go_lower(name[dot:]) in IMAGE_EXTENSIONS


def signature(head: bytes) -> str | None:
    """The format (of `FORMATS`) whose signature `head` starts with, or None: what Go's
    image.Decode picks its decoder by, before it reads any header."""
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head.startswith(JPEG_SIGNATURE):
        return "jpeg"
    if head.startswith(GIF_SIGNATURES):
        return "gif"
    if head.startswith(WEBP_RIFF) and head[8:12] == WEBP_FORM:
        return "webp"
    return None


def image_dimensions(head: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) from the first bytes of a file, or None (see module doc).

    `head` should be the first `HEAD_BYTES` bytes (or the whole file if shorter).
    """
    kind = signature(head)
    if kind == "png":
        return _png(head)
    if kind == "jpeg":
        return _jpeg(head)
    if kind == "gif":
        return _gif(head)
    if kind == "webp":
        return _webp(head)
    return None


def _png(head: bytes) -> tuple[str, int, int] | None:
    # The first chunk must be IHDR: length (4) "IHDR" (4) width (4) height (4), big-endian.
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    width = int.from_bytes(head[16:20], "big")
    height = int.from_bytes(head[20:24], "big")
    # Go's png decoder rejects non-positive sizes and sizes that overflow int32.
    if not (0 < width <= _GO_MAX_INT32 and 0 < height <= _GO_MAX_INT32):
        return None
    return ("png", width, height)


def _gif(head: bytes) -> tuple[str, int, int] | None:
    # Go's gif.DecodeConfig reports the logical screen size (little-endian u16 at 6 and 8).
    if len(head) < 10:
        return None
    return ("gif", int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little"))


def _jpeg(head: bytes) -> tuple[str, int, int] | None:
    pos = 2
    end = len(head)
    while pos < end:
        if head[pos] != 0xFF:
            return None  # not at a marker: corrupt stream
        # Any number of 0xFF fill bytes may precede a marker code.
        while pos < end and head[pos] == 0xFF:
            pos += 1
        if pos >= end:
            return None
        marker = head[pos]
        pos += 1
        if marker in _STANDALONE:
            if marker == 0xD9:
                return None  # EOI before any frame header
            continue
        if pos + 2 > end:
            return None
        length = int.from_bytes(head[pos : pos + 2], "big")
        if length < 2:
            return None
        if marker in _SUPPORTED_SOF:
            # Segment: length (2) precision (1) height (2) width (2) ...
            if pos + 7 > end or length < 7:
                return None
            height = int.from_bytes(head[pos + 3 : pos + 5], "big")
            width = int.from_bytes(head[pos + 5 : pos + 7], "big")
            return ("jpeg", width, height)
        if marker in _OTHER_SOF or marker == _SOS:
            return None  # unsupported frame type, or scan data before any frame header
        pos += length
    return None


def _webp(head: bytes) -> tuple[str, int, int] | None:
    # RIFF header (12) then the first chunk: FourCC (4) size (4) payload at offset 20.
    fourcc = head[12:16]
    payload = head[20:]
    if fourcc == b"VP8 ":
        # Frame tag (3), start code 9d 01 2a, then 14-bit width and height (2 scale bits).
        if len(payload) < 10 or payload[3:6] != b"\x9d\x01\x2a" or payload[0] & 1:
            return None  # bit 0 of the frame tag set = not a key frame
        width = int.from_bytes(payload[6:8], "little") & 0x3FFF
        height = int.from_bytes(payload[8:10], "little") & 0x3FFF
        return ("webp", width, height)
    if fourcc == b"VP8L":
        # Signature 0x2f, then 14 bits width-1, 14 bits height-1, alpha bit, 3 version bits.
        if len(payload) < 5 or payload[0] != 0x2F:
            return None
        bits = int.from_bytes(payload[1:5], "little")
        if bits >> 29:
            return None  # version must be 0
        return ("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if fourcc == b"VP8X":
        # Flags (1) reserved (3), then 24-bit canvas width-1 and height-1.
        if len(payload) < 10:
            return None
        width = int.from_bytes(payload[4:7], "little") + 1
        height = int.from_bytes(payload[7:10], "little") + 1
        return ("webp", width, height)
    return None
