"""Image heads measured in bulk: the C reader (archivekit/read/_imagehead.c; its Python twins
are `archivekit.gosem.images.image_dimensions` and `archivekit.read.inflate.quick_head`,
which `Archive.entry_dimensions` runs) and the selection of the fast path's image
attachments that can still change a fact (`keep_rows`).

The dimensions live in arrays over the member index (`archivekit.check.files.Dimensions`):
`state` 0 not read, 1 no dimensions, 2 + the format's position in `FORMATS`; `width` and
`height` as native uint32."""

from __future__ import annotations

from array import array

from archivekit.native import native_module

IMAGE_HEADS = native_module("archivekit.read._imagehead")

# Dimensions' states (the C reader writes the same).
UNREAD, NO_DIMENSIONS, FIRST_FORMAT = 0, 1, 2


def keep_rows(
    rows: bytes, state: bytearray, width: array[int], height: array[int], bound: int
) -> array[int]:
    """The rows (packed int64, five a row, the entry last: _scan.c's image attachments) whose
    entry is past the arrays, or is an image of more than `bound` pixels (any size when
    `bound` < 0), as an int64 array: every other row is an image that cannot change a fact
    (or no image at all). In C when built: no Python object for the others."""
    if IMAGE_HEADS is not None:
        return array("q", IMAGE_HEADS.keep(rows, state, width, height, bound))
    packed = array("q", rows)
    kept = array("q")
    for k in range(0, len(packed), 5):
        entry = packed[k + 4]
        if not 0 <= entry < len(state) or (
            state[entry] >= FIRST_FORMAT and (bound < 0 or width[entry] * height[entry] > bound)
        ):
            kept.extend(packed[k : k + 5])
    return kept
