"""Image headers read by entry (`Archive.entry_dimensions`, issue 19): the fast path's image
attachments are measured without a `MemberInfo` each, with the same dimensions — or the same
None — as the general reading (`Archive.member_dimensions`), whatever the member's method,
size or damage, and with the same bytes charged against the read limits."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from archivekit.gosem.images import HEAD_BYTES
from archivekit.read.inflate import ReadBudget, ReadLimits, quick_head
from archivekit.read.source import Archive, open_archive
from archivekit.testing.synth import gif_bytes, jpeg_header_bytes, png_bytes, webp_bytes

# APP1 segments of 64 KiB: five of them push a JPEG's frame header past HEAD_BYTES.
_APP1 = b"\xff\xe1" + struct.pack(">H", 65535) + bytes(65533)


def _images() -> dict[str, bytes]:
    png = png_bytes(640, 480)
    jpeg = jpeg_header_bytes(1920, 1080)
    found = {
        "png": png,
        "gif": gif_bytes(20, 30),
        "webp": webp_bytes(300, 200),
        "jpeg": jpeg,
        "jpeg-late-frame": jpeg[:2] + _APP1 * 5 + jpeg[2:],
        "jpeg-frame-in-head": jpeg[:2] + _APP1 * 3 + jpeg[2:],
        "empty": b"",
        "not-an-image": b"hello, world\n" * 50,
    }
    # Around the head's size: read whole (its CRC checked) below it, cut at it and above.
    for size in (HEAD_BYTES - 1, HEAD_BYTES, HEAD_BYTES + 1, 3 * HEAD_BYTES):
        found[f"png-{size}"] = png + bytes(size - len(png))
    return found


def _damage(path: Path, how: dict[str, str]) -> None:
    """Damage members in place: "data" flips the last data byte (a stored member's CRC, a
    deflated one's stream), "early" a byte near the start of the data, "header" the local
    header's signature."""
    with zipfile.ZipFile(path) as zf:
        infos = {info.filename: info for info in zf.infolist()}
    raw = bytearray(path.read_bytes())
    for name, kind in how.items():
        info = infos[name]
        at = info.header_offset
        n_name, n_extra = struct.unpack_from("<HH", raw, at + 26)
        start = at + 30 + n_name + n_extra
        if kind == "header":
            raw[at] ^= 0xFF
        elif info.compress_size:
            raw[start + (info.compress_size - 1 if kind == "data" else 2)] ^= 0x55
    path.write_bytes(bytes(raw))


def _archive(tmp_path: Path) -> Path:
    path = tmp_path / "images.zip"
    damage: dict[str, str] = {}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("import.jsonl", b'{"type":"version","version":1}\n')
        for label, content in _images().items():
            for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                for kind in ("", "data", "early", "header"):
                    name = f"data/{label}~{method}~{kind or 'whole'}.png"
                    zf.writestr(name, content, compress_type=method)
                    if kind:
                        damage[name] = kind
                # A local extra field longer than the room a one-read header leaves.
                info = zipfile.ZipInfo(f"data/{label}~{method}~extra.png")
                info.compress_type = method
                info.extra = struct.pack("<HH", 0xCAFE, 1000) + bytes(1000)
                zf.writestr(info, content)
    _damage(path, damage)
    return path


def _measure(
    path: Path, by_entry: bool, limits: ReadLimits | None = None
) -> tuple[list[tuple[str, int, int] | None], int]:
    with open_archive(path, limits=limits) as archive:
        found = [
            archive.entry_dimensions(i) if by_entry else archive.member_dimensions(archive.index[i])
            for i in range(len(archive.index))
        ]
        return found, _charged(archive)


def _charged(archive: Archive) -> int:
    return archive._budget.total


@pytest.mark.parametrize(
    "limits",
    [None, ReadLimits(max_member_size=HEAD_BYTES - 1), ReadLimits(max_total_size=3 * HEAD_BYTES)],
    ids=["default", "small-members", "small-total"],
)
def test_entries_measure_as_members_do(tmp_path: Path, limits: ReadLimits | None) -> None:
    path = _archive(tmp_path)
    by_entry, charged = _measure(path, True, limits)
    by_member, charged_by_member = _measure(path, False, limits)
    assert by_entry == by_member
    assert charged == charged_by_member
    if limits is None:
        # Undamaged images were measured, damaged small ones not (their CRC fails).
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
        dims = dict(zip(names, by_entry, strict=True))
        assert dims["data/png~0~whole.png"] == dims["data/png~8~whole.png"] == ("png", 640, 480)
        assert dims["data/jpeg~8~whole.png"] == ("jpeg", 1920, 1080)
        assert dims["data/jpeg-late-frame~0~whole.png"] is None  # the frame is past the head
        assert dims["data/jpeg-frame-in-head~8~whole.png"] == ("jpeg", 1920, 1080)
        assert dims["data/png~0~data.png"] is None
        assert dims[f"data/png-{3 * HEAD_BYTES}~0~data.png"] == ("png", 640, 480)


def test_whole_members_are_read_by_entry(tmp_path: Path) -> None:
    """Every undamaged stored or deflated image is read without its `MemberInfo`; a damaged
    local header or a whole member whose CRC fails goes the general way (which says why)."""
    path = _archive(tmp_path)
    with open_archive(path) as archive, path.open("rb") as fh:
        index = archive.index
        budget = ReadBudget(ReadLimits())
        quick = {
            index.name(i): quick_head(
                fh.fileno(), archive.size, index.data_fields(i), HEAD_BYTES, budget
            )
            is not None
            for i in range(1, len(index))
        }
    assert all(read for name, read in quick.items() if name.endswith(("~whole.png", "~extra.png")))
    assert not any(read for name, read in quick.items() if name.endswith("~header.png"))
    assert not quick["data/png~0~data.png"]
    assert quick[f"data/png-{3 * HEAD_BYTES}~0~data.png"]  # its CRC is never checked
