"""The C pass over a stream's members (`walk_members` and the index's `check_local`, in
archivekit/read/_zipindex.c) held to the Python it stands in for.

Generated archives with the awkward cases — data descriptors (signed, unsigned, 64-bit) and
sizes in local headers, stored and deflated members, names with NFC and NFD accents, names
that are not UTF-8, a non-ASCII extension Go lowers to an image one, repeated names, "PK" and
whole fake ends inside data, image names and the profile and emoji images the JSONL names,
encrypted members, members larger than the stream's window, truncated streams — are read from
a pipe twice: with the C pass, and with the Python one. The reports (or the errors), and what
the stream noted of every member, are the same.
"""

from __future__ import annotations

import json
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_reader_zipmaker import Entry, build_zip
from test_stream import _utf8_flag_in

from archivekit.errors import ArchiveError
from archivekit.read import members as members_module
from archivekit.read import stream as stream_module
from archivekit.read.members import MemberIndex, NativeIndex
from archivekit.read.stream import open_stream
from archivekit.report.render import report_json
from archivekit.runtime import RunDirectory
from archivekit.testing.pipes import fed
from archivekit.testing.synth import (
    channel,
    emoji,
    gif_bytes,
    png_bytes,
    post,
    reply,
    team,
    user,
    version,
)
from archivekit.validate import validate

needs_native = pytest.mark.skipif(
    members_module.NATIVE is None, reason="archivekit.read._zipindex is not loaded"
)
T = 1_700_000_000_000
# Keys whose heads the checks read besides image names: the profile image and the emoji
# image the JSONL names.
MEASURE = frozenset({"data/users/ann/avatar"})
KEEP = frozenset({"data/emoji/smile/image"})


def _fake_end(prefix: bytes, crc_right: bool) -> bytes:
    """Data holding what looks like the end of a stored member: a data descriptor with the
    sizes of the bytes before it, then a local header's signature."""
    crc = zlib.crc32(prefix) ^ (0 if crc_right else 1)
    size = len(prefix)
    return prefix + struct.pack("<4sIII", b"PK\x07\x08", crc, size, size) + b"PK\x03\x04tail"


def _data(rng: random.Random) -> bytes:
    kind = rng.randrange(8)
    if kind == 0:
        return b""
    if kind == 1:
        return b"x" * rng.randrange(1, 50) + b"PK\x07\x08" + b"y" * rng.randrange(30)
    if kind == 2:
        return b"PK\x03\x04" + rng.randbytes(rng.randrange(40))
    if kind == 3:
        return _fake_end(rng.randbytes(rng.randrange(1, 300)), crc_right=False)
    return rng.randbytes(rng.randrange(1, 3000))


def _name(rng: random.Random, i: int, taken: list[str]) -> str:
    kind = rng.randrange(12)
    if kind == 0 and taken:
        return rng.choice(taken)  # a repeated name
    if kind == 1:
        return f"data/caf\u00e9/{i}.txt"  # NFC: its own key
    if kind == 2:
        return f"data/cafe\u0301/{i}.txt"  # NFD: keyed in Python
    if kind == 3:
        return f"data/img/{i}.png"
    if kind == 4:
        return f"data/img/{i}.JPG"
    if kind == 5:
        return f"data/img/{i}.g\u0130f"  # Go lowers the dotted I to i: an image name
    if kind == 6:
        return f"data/@@{i:05d}.bin"  # made not UTF-8 below
    if kind == 7:
        return f"outside/{i}.txt"
    return f"data/files/{i % 17}/f{i}.txt"


def _jsonl(names: list[str], rng: random.Random) -> bytes:
    paths = [n.removeprefix("data/") for n in names if n.startswith("data/") and "@@" not in n]
    lines: list[Any] = [
        version(),
        team("t"),
        channel("t", "c"),
        user("ann", ["t"], profile_image="users/ann/avatar"),
        user("bob", ["t"]),
        emoji("smile", "emoji/smile/image"),
    ]
    for k in range(60):
        chosen = rng.sample(paths, min(len(paths), rng.randrange(4)))
        if k % 7 == 0:
            chosen.append(f"files/missing-{k}.txt")
        replies = [reply("bob", "re", T + k, attachments=chosen[:1])] if k % 5 == 0 else []
        lines.append(post("t", "c", "ann", f"p{k}", T + k, attachments=chosen, replies=replies))
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def awkward_archive(seed: int, count: int = 300, *, trouble: str = "") -> bytes:
    """An archive of `count` members after the JSONL, of every awkward kind (see the module
    doc); `trouble`: "encrypted" (one encrypted member with its sizes, one with a descriptor:
    a stream cannot delimit it), "crafted" (a fake end with the right CRC-32: the directory
    says the stream split a member), "large" (a member larger than the stream's window)."""
    rng = random.Random(seed)
    entries: list[Entry] = []
    names: list[str] = []
    for i in range(count):
        name = _name(rng, i, names)
        names.append(name)
        data = png_bytes(20, 10) if name.endswith(".png") else _data(rng)
        if name.endswith("JPG"):
            data = gif_bytes(3, 4)  # not a JPEG: measured as what it is
        descriptor = rng.random() < 0.75
        entries.append(
            Entry(
                name,
                data,
                method=rng.choice((0, 0, 8)),
                data_descriptor=descriptor,
                descriptor=rng.choice(("signed", "signed", "unsigned", "64")),
            )
        )
    # The images the JSONL names, after it, as an export writes them.
    for name, data in (
        ("data/users/ann/avatar", png_bytes(9000, 9000)),
        ("data/emoji/smile/image", png_bytes(16, 16)),
    ):
        entries.insert(rng.randrange(len(entries)), Entry(name, data, method=0))
    if trouble == "encrypted":
        entries.insert(5, Entry("data/secret-sizes.bin", b"z" * 40, method=0, flags=1))
        entries.insert(9, Entry("data/secret-dd.bin", b"z" * 40, method=0, flags=1,
                                data_descriptor=True))  # fmt: skip
    elif trouble == "crafted":
        entries.insert(7, Entry("data/crafted.bin", _fake_end(b"a" * 300, True) + b"z" * 9,
                                method=0, data_descriptor=True))  # fmt: skip
    elif trouble == "large":
        big = rng.randbytes(1_500_000)
        entries.insert(3, Entry("data/big-sizes.bin", big, method=0))
        entries.insert(8, Entry("data/big-dd.bin", big, method=0, data_descriptor=True))
    jsonl = Entry("import.jsonl", _jsonl(names, rng), method=8, data_descriptor=seed % 2 == 0)
    return build_zip([jsonl, *entries]).replace(b"data/@@", b"data/\xff\xfe")


def _noted(stream: stream_module.StreamArchive) -> tuple[Any, ...]:
    """What the stream noted of every member, for the checks."""
    return (
        stream._offsets.tolist(),
        bytes(stream._state),
        stream._names.tolist(),
        bytes(stream._name_bytes),
        stream._name_lens.tolist(),
        stream._crc.tolist(),
        stream._size.tolist(),
        bytes(stream._dim_kind),
        stream._dim_width.tolist(),
        stream._dim_height.tolist(),
        stream._kept_at.tolist(),
        stream._kept_len.tolist(),
        sorted((i, e.issue.code, n) for i, (e, n) in stream._errors.items()),
    )


def _outcome(data: bytes) -> tuple[Any, Any]:
    """(the report without the archive's name, or the error; what the stream noted)."""
    noted: Any
    try:
        with RunDirectory() as run, fed(data) as path, open_stream(path, run=run) as stream:
            b"".join(stream.iter_jsonl_blocks())
            stream.finish(MEASURE, KEEP)
            noted = _noted(stream)
    except ArchiveError as exc:
        noted = (exc.issue.code, exc.issue.message, exc.issue.values)
    try:
        with fed(data) as path:
            report = json.loads(report_json(validate(path)))
        report.pop("archive")
    except ArchiveError as exc:
        report = (exc.issue.code, exc.issue.message, exc.issue.values)
    return report, noted


class _Counted:
    """The C pass, counting the members it passes."""

    def __init__(self, walk: Any) -> None:
        self.walk = walk
        self.members = 0

    def __call__(self, *args: Any) -> Any:
        found = self.walk(*args)
        self.members += len(found[-2])  # the states column (one byte a member); then `short`
        return found


@pytest.fixture
def python_pass() -> Iterator[None]:
    """Within: the stream passes its members in Python, and checks its local headers against
    the directory in Python (MemberIndex.check_local)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream_module, "_WALK_MEMBERS", None)
        patch.setattr(NativeIndex, "check_local", MemberIndex.check_local)
        yield


def _compare(data: bytes) -> int:
    """Both passes give the same outcome; returns how many members the C pass took."""
    counted = _Counted(stream_module._WALK_MEMBERS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream_module, "_WALK_MEMBERS", counted)
        native = _outcome(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream_module, "_WALK_MEMBERS", None)
        patch.setattr(NativeIndex, "check_local", MemberIndex.check_local)
        python = _outcome(data)
    assert native == python
    return counted.members


@needs_native
@pytest.mark.parametrize("seed", range(6))
def test_the_c_pass_gives_the_pythons_report_and_notes(seed: int) -> None:
    data = awkward_archive(seed)
    taken = _compare(data)
    assert taken > 100  # most members passed in C (two reads: each counts)
    report, _ = _outcome(data)
    assert isinstance(report, dict)  # a verdict, not an error


@needs_native
@pytest.mark.parametrize("trouble", ["encrypted", "crafted", "large"])
def test_the_c_pass_meets_trouble_as_python_does(trouble: str) -> None:
    data = awkward_archive(11, 120, trouble=trouble)
    _compare(data)
    report, _ = _outcome(data)
    if trouble == "large":
        assert isinstance(report, dict)
    else:
        # (The crafted split reads junk as the next header: the error names what it read.)
        assert report[0] == "stream-unreadable"
        if trouble == "encrypted":
            assert report[2]["member"] == "data/secret-dd.bin"


@needs_native
def test_a_truncated_stream_fails_alike_wherever_it_is_cut() -> None:
    data = awkward_archive(21, 150)
    directory = data.rindex(b"PK\x05\x06")
    for cut in sorted({len(data) * k // 13 for k in range(1, 13)} | {directory + 5}):
        report, _ = _outcome(data[:cut])
        assert isinstance(report, tuple)  # an error: the archive is cut short
        _compare(data[:cut])


@needs_native
@pytest.mark.parametrize("header", ["local", "central"])
def test_a_utf8_flag_in_one_header_only_is_one_name_in_both_passes(
    header: str, tmp_path: Path
) -> None:
    """A name that is not UTF-8, flagged UTF-8 in one header only: the same stored bytes, so
    the same member for the C check and the Python one (which gets the bytes back from the
    directory's `MemberInfo.raw`)."""
    data = _utf8_flag_in(header)(tmp_path).read_bytes()
    _compare(data)
    report, _ = _outcome(data)
    assert isinstance(report, dict)  # a verdict, not "its local header gives another name"


def _walk(data: bytes, at: int, eof: bool) -> tuple[int, list[bytes], bool]:
    walk = members_module.NATIVE.walk_members  # type: ignore[union-attr]
    end, *columns, short = walk(data, at, eof, at, stream_module._IMAGE_EXTENSIONS, MEASURE | KEEP)
    return end, columns, short


@needs_native
def test_the_c_pass_passes_the_same_members_whatever_the_window() -> None:
    """Where a window ends changes only where the pass stops: walking a window cut anywhere,
    then the rest, notes what walking it whole does (the stream's pipe reads end anywhere)."""
    rng = random.Random(31)
    entries = [
        Entry(
            f"data/caf\u00e9/{i}.txt" if i % 3 else f"data/f/{i}.txt",
            rng.randbytes(rng.randrange(200)),
            method=0 if i % 4 else 8,
            data_descriptor=i % 4 != 0,
            descriptor="64" if i % 5 == 0 else "signed",
        )
        for i in range(200)
    ]
    data = build_zip([Entry("import.jsonl", b"{}\n"), *entries])
    start = data.index(b"PK\x03\x04", 1)  # past the JSONL
    whole_end, whole, short = _walk(data, start, True)
    assert len(whole[-1]) == 200  # (a "PK" in the random data does not stop it)
    assert not short  # (never at the end of the stream)
    for cut in range(start, whole_end, 97):
        end, first, short = _walk(data[:cut], start, False)
        assert end <= cut
        assert short  # it stopped only because the window ends: the stream reads on
        rest_end, rest, _ = _walk(data, end, True)
        assert rest_end == whole_end
        assert [a + b for a, b in zip(first, rest, strict=True)] == whole


@needs_native
def test_the_walks_crc32_is_zlibs_at_every_length_and_alignment() -> None:
    """The walk checks the CRC-32 of every stored attachment it passes, folded with
    carry-less multiplication where the CPU has it (64 bytes and more, 16 at a time, the
    rest by table): zlib's value at every length around those steps, from every alignment,
    on random bytes and on runs of one byte."""
    native = members_module.NATIVE
    assert native is not None
    data = random.Random(18).randbytes(1 << 16)
    for length in [*range(0, 300), 1023, 1024, 1025, 4095, 65_519, 65_535]:
        for start in (0, 1, 7, 15) if length < 65_000 else (0, 1):
            piece = data[start : start + length]
            assert native.crc32(piece) == zlib.crc32(piece), (length, start)
    for byte in (0, 0xFF):
        assert native.crc32(bytes([byte]) * 1000) == zlib.crc32(bytes([byte]) * 1000)
    assert native.crc32(memoryview(data)[3:2003]) == zlib.crc32(data[3:2003])
