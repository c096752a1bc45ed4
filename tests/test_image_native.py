"""The C reader of image heads (archivekit/read/_imagehead.c) held to its Python reference:
`archivekit.gosem.images.image_dimensions` for the parsing, `Archive.entry_dimensions` (and
so `quick_head`) for the reading.

* the extension is built, from the current source;
* its parsing agrees with images.py on every head generated here: well-formed, truncated at
  every byte, and hostile (random markers, lengths, chunk names and bytes behind each
  signature);
* its bulk reading of a zip's entries gives the dimensions, the entries it leaves to Python
  and the bytes charged to the read limits that reading them one by one gives;
* the member index's capsule keeps its index alive (the C readers hold only the capsule);
* (slow) all of it again through a build with AddressSanitizer and UBSan.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import random
import struct
import sys
import zipfile
from array import array
from pathlib import Path

import pytest
from conftest import require_sanitizers, run_sanitized, sanitized_build
from hypothesis import given, settings
from hypothesis import strategies as st
from test_image_heads import _archive
from test_images import DQT, JFIF, SOS, gif, jpeg, png, segment, sof, webp_vp8, webp_vp8l, webp_vp8x

from archivekit.gosem.images import (
    FORMATS,
    GIF_SIGNATURES,
    HEAD_BYTES,
    PNG_SIGNATURE,
    image_dimensions,
)
from archivekit.read import imageheads, source
from archivekit.read.inflate import ReadLimits
from archivekit.read.source import open_archive
from archivekit.testing.fuzz import scaled_examples

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "archivekit" / "read" / "_imagehead.c"
HEADER = REPO / "archivekit" / "read" / "_memberindex.h"
NATIVE = imageheads.IMAGE_HEADS
PURE_PYTHON = bool(os.environ.get("ARCHIVEKIT_PURE_PYTHON"))

needs_native = pytest.mark.skipif(NATIVE is None, reason="archivekit.read._imagehead not loaded")


@pytest.mark.skipif(PURE_PYTHON, reason="ARCHIVEKIT_PURE_PYTHON is set: the C reader is off")
def test_the_c_reader_is_built_from_the_current_source() -> None:
    assert NATIVE is not None, "archivekit.read._imagehead was not built (is zlib1g-dev there?)"
    digest = hashlib.sha256(SOURCE.read_bytes() + HEADER.read_bytes()).hexdigest()
    assert digest == NATIVE.SOURCE_SHA256, "stale build: reinstall (make rebuilds it)"


# --- the parsing -----------------------------------------------------------------------

_SOF_MARKERS = [0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF]
_MARKERS = [*_SOF_MARKERS, 0x01, 0xC4, 0xC8, 0xCC, *range(0xD0, 0xDB), 0xDB, 0xE0, 0xE1, 0xFE]


def well_formed() -> list[bytes]:
    """One head of every kind images.py measures, and its near misses."""
    return [
        png(7680, 4320),
        png(0, 10),
        png(2**31, 1),
        png(1, 2**32 - 1),
        jpeg(JFIF, DQT, sof(0xC0, 640, 480), SOS),
        jpeg(JFIF, sof(0xC1, 12, 34), SOS),
        jpeg(JFIF, sof(0xC2, 65535, 0), SOS),
        jpeg(JFIF, sof(0xC3, 10, 10), SOS),
        jpeg(JFIF, SOS, sof(0xC0, 10, 10)),
        b"\xff\xd8\xff\xff\xff\xd8\xff\x01" + sof(0xC0, 3, 4),
        b"\xff\xd8\xff\xd9" + sof(0xC0, 3, 4),
        gif(b"87a", 320, 200),
        gif(b"89a", 1, 65535),
        webp_vp8(1920, 1080),
        webp_vp8(16383 | 0xC000, 5),
        webp_vp8l(16384, 16384),
        webp_vp8x(2**24, 1),
        b"RIFF\x00\x00\x00\x00WEBPVP8X",
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        b"BM" + bytes(60),
        b"",
    ]


def segments() -> st.SearchStrategy[bytes]:
    """JPEG segments with any marker and length, fill bytes, bytes out of place."""
    marker = st.sampled_from(_MARKERS) | st.integers(0, 255)
    payload = st.binary(max_size=12)
    honest = st.builds(segment, marker, payload)
    lying = st.builds(
        lambda m, n, p: bytes([0xFF, m]) + struct.pack(">H", n) + p,
        marker,
        st.integers(0, 0xFFFF) | st.integers(0, 12),
        payload,
    )
    frame = st.builds(
        sof, st.sampled_from(_SOF_MARKERS), st.integers(0, 65535), st.integers(0, 65535)
    )
    fill = st.binary(min_size=1, max_size=3).map(lambda b: b"\xff" * len(b))
    return st.one_of(honest, lying, frame, fill, st.binary(max_size=4))


def _riff(chunk: bytes) -> bytes:
    return b"RIFF" + bytes(4) + b"WEBP" + chunk


@st.composite
def heads(draw: st.DrawFn) -> bytes:
    """A head behind each signature (or none), built well, badly or at random, then cut."""
    kind = draw(st.sampled_from(["png", "jpeg", "gif", "webp", "random"]))
    if kind == "png":
        ihdr = draw(st.sampled_from([b"IHDR", b"IDAT", b"ihdr"]))
        sizes = draw(st.binary(min_size=8, max_size=8))
        head = PNG_SIGNATURE + bytes(4) + ihdr + sizes + draw(st.binary(max_size=8))
    elif kind == "jpeg":
        head = b"\xff\xd8" + b"".join(draw(st.lists(segments(), max_size=8)))
    elif kind == "gif":
        head = draw(st.sampled_from(GIF_SIGNATURES)) + draw(st.binary(max_size=8))
    elif kind == "webp":
        fourcc = draw(st.sampled_from([b"VP8 ", b"VP8L", b"VP8X", b"ALPH"]))
        payload = draw(st.binary(max_size=14))
        if fourcc == b"VP8 " and draw(st.booleans()):
            payload = payload[:3].ljust(3, b"\x00") + b"\x9d\x01\x2a" + payload[3:]
        if fourcc == b"VP8L" and draw(st.booleans()):
            payload = b"\x2f" + payload
        head = _riff(fourcc + draw(st.binary(min_size=4, max_size=4)) + payload)
    else:
        head = draw(st.binary(max_size=40))
    cut = draw(st.integers(0, len(head)))
    return head[:cut] if draw(st.booleans()) else head


@needs_native
def test_every_cut_of_a_well_formed_head_parses_as_in_python() -> None:
    assert NATIVE is not None
    for head in well_formed():
        for cut in range(len(head) + 1):
            assert NATIVE.dimensions(head[:cut]) == image_dimensions(head[:cut]), head[:cut]
    # A frame header far behind APPn segments (what HEAD_BYTES is for), in a memoryview too.
    late = jpeg(JFIF, *[segment(0xE1, bytes(65533))] * 3, sof(0xC0, 100, 200), SOS)
    assert NATIVE.dimensions(memoryview(late)) == image_dimensions(late) == ("jpeg", 100, 200)


@needs_native
@settings(max_examples=scaled_examples(5), deadline=None)
@given(heads())
def test_generated_and_hostile_heads_parse_as_in_python(head: bytes) -> None:
    assert NATIVE is not None
    assert NATIVE.dimensions(head) == image_dimensions(head)


# --- the reading -----------------------------------------------------------------------


def _bulk(path: Path, limits: ReadLimits | None, entries: list[int]) -> tuple[list[object], int]:
    """Dimensions of `entries` measured in C calls, each entry the C reader stops at read by
    `entry_dimensions` (as `Dimensions.measure` does), and the bytes charged."""
    with open_archive(path, limits=limits) as archive:
        count = len(archive.index)
        state = bytearray(count)
        width, height = array("I", bytes(4 * count)), array("I", bytes(4 * count))
        packed = array("I", entries).tobytes()
        found: dict[int, object] = {}
        at = 0
        while at < len(entries):
            at = archive.measure_entries(packed, at, state, width, height)
            if at < len(entries):
                i = entries[at]
                if i not in found and (i >= count or state[i] == 0):
                    found[i] = archive.entry_dimensions(i) if i < count else "past the end"
                at += 1
        for i in set(entries) - set(found):
            assert state[i] != 0
            found[i] = None if state[i] == 1 else (FORMATS[state[i] - 2], width[i], height[i])
        return [found.get(i, "unread") for i in range(count)], archive._budget.total


def _one_by_one(
    path: Path, limits: ReadLimits | None, entries: list[int]
) -> tuple[list[object], int]:
    with open_archive(path, limits=limits) as archive:
        count = len(archive.index)
        found: dict[int, object] = {}
        for i in entries:
            if i not in found:
                found[i] = archive.entry_dimensions(i) if i < count else "past the end"
        return [found.get(i, "unread") for i in range(count)], archive._budget.total


@needs_native
@pytest.mark.parametrize(
    "limits",
    [None, ReadLimits(max_member_size=HEAD_BYTES - 1), ReadLimits(max_total_size=3 * HEAD_BYTES)],
    ids=["default", "small-members", "small-total"],
)
def test_entries_read_in_bulk_measure_as_one_by_one(
    tmp_path: Path, limits: ReadLimits | None
) -> None:
    """Stored and deflated images, small (CRC-checked) and larger than the head, damaged
    data, damaged local headers, long local extra fields (test_image_heads' archive); each
    entry asked twice, the JSONL and an entry past the end too."""
    path = _archive(tmp_path)
    with zipfile.ZipFile(path) as zf:
        count = len(zf.infolist())
    entries = [*range(count), *range(count - 1, -1, -3), count + 5]
    bulk = _bulk(path, limits, entries)
    assert bulk == _one_by_one(path, limits, entries)
    if limits is None:
        assert ("png", 640, 480) in bulk[0]
        assert ("jpeg", 1920, 1080) in bulk[0]


def _damaged(tmp_path: Path) -> Path:
    """test_image_heads' archive with a byte flipped every 997 between its JSONL and its
    central directory:
    local headers, names, extra fields and data damaged anywhere."""
    path = _archive(tmp_path)
    with zipfile.ZipFile(path) as zf:
        directory = zf.start_dir
        first = zf.infolist()[1].header_offset  # the JSONL must stay readable
    data = bytearray(path.read_bytes())
    for at in range(first, directory, 997):
        data[at] ^= 0xA5
    path = tmp_path / "damaged.zip"
    path.write_bytes(bytes(data))
    return path


@needs_native
def test_bulk_reading_of_damaged_members_leaves_them_to_python(tmp_path: Path) -> None:
    path = _damaged(tmp_path)
    with zipfile.ZipFile(path) as zf:
        entries = list(range(len(zf.infolist())))
    assert _bulk(path, None, entries) == _one_by_one(path, None, entries)


def test_without_the_c_reader_every_entry_is_left_to_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source, "IMAGE_HEADS", None)
    path = _archive(tmp_path)
    with open_archive(path) as archive:
        count = len(archive.index)
        state = bytearray(count)
        width, height = array("I", bytes(4 * count)), array("I", bytes(4 * count))
        assert archive.measure_entries(array("I", [2, 1]).tobytes(), 1, state, width, height) == 1
        assert state == bytearray(count)


# --- the capsule -----------------------------------------------------------------------


@needs_native
def test_the_index_capsule_keeps_its_index_alive(tmp_path: Path) -> None:
    """A holder of the capsule alone (the C readers) can use it after every other reference
    to the index is gone; the capsule gives its reference back when it goes."""
    path = _archive(tmp_path)
    with open_archive(path) as archive:
        native = archive.index._c  # type: ignore[attr-defined]
        before = sys.getrefcount(native)
        capsule = native.table
        assert sys.getrefcount(native) == before + 1
        del capsule
        assert sys.getrefcount(native) == before


# --- under the sanitizers ----------------------------------------------------------------

ASAN_SCRIPT = """
import gc, os, pickle, sys
from array import array

sys.path.insert(0, sys.argv[1])
import _imagehead, _zipindex
from archivekit.read.zipdir import directory_start

assert _imagehead.__file__.startswith(sys.argv[1]), _imagehead.__file__
with open(sys.argv[2], "rb") as f:
    heads, archives = pickle.load(f)
results = [_imagehead.dimensions(head) for head in heads]
for path in archives:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        start, base, _ = directory_start(fh, size)
        index = _zipindex.read_index(fh.fileno(), start, size, base)
        count = len(index)
        table = index.table
        del index  # only the capsule holds the index now
        gc.collect()
        state = bytearray(count)
        width, height = array("I", bytes(4 * count)), array("I", bytes(4 * count))
        entries = array("I", [*range(count), *range(count), count + 1]).tobytes()
        at, total, stops = 0, 0, []
        while at < len(entries) // 4:
            total, at = _imagehead.measure(
                table, fh.fileno(), size, entries, at, 256 * 1024, state, width, height,
                2**36, 2**40, total, 1000.0,
            )
            stops.append(at)
            at += 1
        results.append((total, stops, bytes(state), width.tobytes(), height.tobytes()))
with open(sys.argv[3], "wb") as f:
    pickle.dump(results, f)
"""


@needs_native
@pytest.mark.slow
def test_the_reader_under_address_and_undefined_behaviour_sanitizers(tmp_path: Path) -> None:
    gcc, libasan = require_sanitizers()
    module_dir = tmp_path / "asan"
    sanitized_build(gcc, SOURCE, module_dir, libraries=["z"])
    sanitized_build(gcc, REPO / "archivekit" / "read" / "_zipindex.c", module_dir)
    heads: list[bytes] = []
    for head in well_formed():
        heads += [head[:cut] for cut in range(len(head) + 1)]
    heads += _mutants(4000)
    archive = _archive(tmp_path)
    damaged = _damaged(tmp_path)
    data_file, out = tmp_path / "cases.pickle", tmp_path / "results.pickle"
    data_file.write_bytes(pickle.dumps((heads, [str(archive), str(damaged)])))
    run_sanitized(
        [sys.executable, "-c", ASAN_SCRIPT, str(module_dir), str(data_file), str(out)], libasan
    )
    results = pickle.loads(out.read_bytes())
    assert results[: len(heads)] == [image_dimensions(head) for head in heads]


def _mutants(n: int) -> list[bytes]:
    """`n` heads: the well-formed ones with bytes flipped, inserted and cut (the same every
    run; the sanitizer build gets a fixed corpus, hypothesis explores in the test above)."""
    rng = random.Random(19)
    bases = well_formed()
    found = []
    for _ in range(n):
        head = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 4)):
            at = rng.randint(0, len(head))
            if rng.random() < 0.5 and at < len(head):
                head[at] = rng.randrange(256)
            else:
                head[at:at] = rng.randbytes(rng.randint(1, 6))
        found.append(bytes(head[: rng.randint(0, len(head))]))
    return found


@needs_native
@settings(max_examples=scaled_examples(1), deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 70_000), st.integers(0, 70_000)), max_size=12
    ),
    st.lists(st.integers(-2, 14), max_size=30),
    st.integers(-3, 2**40),
)
def test_rows_are_kept_in_c_as_in_python(
    entries: list[tuple[int, int, int]], picks: list[int], bound: int
) -> None:
    """The fast path's image rows that can still change a fact: C and its Python twin."""
    assert NATIVE is not None
    state = bytearray(s for s, _, _ in entries)
    width = array("I", (w for _, w, _ in entries))
    height = array("I", (h for _, _, h in entries))
    rows = array("q")
    for n, entry in enumerate(picks):
        rows.extend((n, n % 2, n - 1, n % 3, entry))
    kept = imageheads.keep_rows(rows.tobytes(), state, width, height, bound)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(imageheads, "IMAGE_HEADS", None)
        assert kept == imageheads.keep_rows(rows.tobytes(), state, width, height, bound)


@needs_native
@pytest.mark.parametrize("method", [0, 8])
def test_a_compressed_size_past_the_file_is_left_to_python(tmp_path: Path, method: int) -> None:
    """A zip64 size near 2**64 (hostile): offset + size must not wrap round to look fine."""
    from test_reader_zipmaker import Entry, build_zip, compress

    from archivekit.testing.synth import png_bytes

    image = Entry("data/a.png", png_bytes(640, 480), method=method, zip64=True)
    jsonl = Entry("import.jsonl", b'{"type":"version","version":1}\n')
    pad = Entry("data/pad.bin", random.Random(1).randbytes(400_000), method=0)
    data = build_zip([jsonl, image, pad])
    # The directory's zip64 extra field of the image: (tag 1, 24, size, csize, offset).
    stored = len(image.data) if method == 0 else len(compress(image.data, method))
    extra = struct.pack("<HHQQ", 1, 24, len(image.data), stored)
    assert data.count(extra) == 1
    huge = 2**64 - 100
    forged = struct.pack("<HHQQ", 1, 24, huge if method == 0 else len(image.data), huge)
    path = tmp_path / "huge.zip"
    path.write_bytes(data.replace(extra, forged))
    assert _bulk(path, None, [1]) == _one_by_one(path, None, [1])
