"""What the server and mmctl make of an emoji image's content (the engine reads the bytes).

The server's importer (``importEmoji``) writes the file without decoding it, so any content
imports; but the server serves a custom emoji through ``GetEmojiImage``, which runs Go's
``image.DecodeConfig`` on it and answers an error when no registered decoder reads it, so
clients show a broken image. ``mmctl import validate`` decodes it: as XML when the name's
extension maps to image/svg+xml (``.svg``), else with ``image.Decode`` (GIF, JPEG, PNG and
WebP registered), and reports a failure as an error. We read the header only (a small read
per emoji, the whole file for an SVG): a body damaged after a valid header is
``--verify-files``' business.
"""

from __future__ import annotations

from archivekit.gosem.images import HEAD_BYTES, JPEG_SIGNATURE, image_dimensions, signature
from archivekit.gosem.strings import go_lower
from archivekit.issues import Issue, Scalar, warning

CODE = "emoji-image-not-image"
_SERVED = "GIF, JPEG, PNG or WebP"
_BROKEN = (
    "the server's importer stores it without decoding it, so the import goes on, but the"
    " server serves custom emoji only in formats Go's image.DecodeConfig reads"
    f" ({_SERVED}), so this emoji shows as a broken image"
)


def is_svg_name(name: str) -> bool:
    """mmctl's test: ``mime.TypeByExtension(strings.ToLower(path.Ext(name)))`` is
    image/svg+xml, which Go's built-in table gives for ``.svg`` only."""
    dot = name.rfind(".")
    return dot > name.rfind("/") and go_lower(name[dot:]) == ".svg"


# Enough for the PNG, GIF and WebP headers (and to see that a file is a JPEG).
_SMALL_HEAD = 64


def head_size(name: str, size: int, head: bytes | None = None) -> int:
    """How many bytes of the image to read: the whole SVG (XML needs its first element), a
    small header of anything else; asked again with that `head`, more only for a JPEG (its
    frame header follows the EXIF and other segments). 0: `head` is enough."""
    if is_svg_name(name):
        return size if head is None else 0
    if head is None:
        return min(size, _SMALL_HEAD)
    wanted = min(size, HEAD_BYTES)
    return wanted if head.startswith(JPEG_SIGNATURE) and len(head) < wanted else 0


def emoji_image_issue(path: str, name: str, head: bytes, field: str) -> Issue | None:
    """A warning when the server cannot serve the image or mmctl refuses it, else None.

    `head` is what `head_size` asked for; `name` is the member's name, `path` the JSONL's.
    """
    raster = image_dimensions(head) is not None
    values: dict[str, Scalar] = {"path": path, "member": name}
    if not is_svg_name(name):
        if raster:
            return None
        # Past a known signature, image.Decode's error is that decoder's own.
        known = signature(head) is not None
        # A known signature with a broken header: mmctl quotes that decoder's error instead.
        mmctl = '"error decoding emoji image: ' + ("…" if known else 'image: unknown format"')
        if known:
            mmctl += "\", with the decoder's reason"
        return warning(
            CODE,
            f"emoji image {name!r} is not a {_SERVED} image (by its header): {_BROKEN};"
            f" mmctl import validate refuses it ({mmctl}). Replace it with a PNG or GIF.",
            field=field,
            values=values,
        )
    # Imported here: only a .svg name gets this far (start-up: most runs never load it).
    from archivekit.gosem.xml import first_element_error

    xml_error = first_element_error(head)
    if xml_error is not None:
        values["xml_error"] = xml_error  # what mmctl quotes
    if raster:
        if xml_error is None:
            return None
        return warning(
            CODE,
            f"emoji image {name!r} is a raster image named .svg: the server serves it, but"
            ' mmctl import validate reads a .svg as XML and refuses it ("error decoding'
            f' emoji SVG file: {xml_error}"). Rename it after its format (e.g. .png).',
            field=field,
            values=values,
        )
    if xml_error is None:
        mmctl = "mmctl import validate accepts it (it only checks that the XML is well-formed)"
    else:
        mmctl = f'mmctl import validate refuses it ("error decoding emoji SVG file: {xml_error}")'
    return warning(
        CODE,
        f"emoji image {name!r} is an SVG: {_BROKEN}; {mmctl}. Convert it to a PNG.",
        field=field,
        values=values,
    )
