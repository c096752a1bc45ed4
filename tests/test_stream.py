"""Archives read from a stream — ``-`` (standard input), a pipe, ``<(...)`` — get the file's
verdict.

The contract: every sample, the real fixture and generated archives (data descriptors with
and without signature, 32- and 64-bit, sizes in local headers instead, stored, deflate and
Deflate64 members, members before the JSONL, profile, emoji and attachment images, missing
files, a capped issue list, damaged data with --verify-files) go through a real
``cat ARCHIVE | archivekit validate - --format json`` (and ``inspect -``), and the JSON equals
the report of the same file, but for the archive's name. Then what a stream cannot tell: each
is a clear exit-3 message naming the member.
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archivekit.check import streamed as streamed_module
from archivekit.check.engine import LineProcessor
from archivekit.check.fast import fastpath
from archivekit.errors import ArchiveError
from archivekit.inspect import inspect
from archivekit.read import ReadLimits, open_archive
from archivekit.read import members as members_module
from archivekit.read import stream as stream_module
from archivekit.read.members import (
    LOCAL_RENAMED,
    LocalHeaders,
    MemberIndex,
    NativeIndex,
    name_hash,
    read_member_index,
)
from archivekit.read.stream import open_stream
from archivekit.read.zipdir import stored_name
from archivekit.report.render import inspection_json, report_json
from archivekit.runtime import RunDirectory
from archivekit.testing import synth
from archivekit.testing.pipes import fed
from archivekit.testing.synth import (
    ZipMember,
    bot,
    channel,
    direct_channel,
    direct_post,
    emoji,
    gif_bytes,
    jpeg_header_bytes,
    make_archive,
    png_bytes,
    post,
    reply,
    team,
    user,
    version,
    write_zip,
)
from archivekit.validate import validate

ROOT = Path(__file__).parent.parent
SAMPLES = sorted((ROOT / "sample_exports").glob("*.zip"))
FIXTURE = ROOT / "tests" / "fixtures" / "mattermost-server-tests-import_test.zip"
T = 1_700_000_000_000


# --- a generated export that exercises every file check --------------------------------------


def _lines() -> list[synth.Line]:
    """Lines whose verdicts depend on the members: profile images (present with any name,
    missing: the user's rules are then skipped), emoji images (fine, too large, missing),
    attachments (images over the resolution limit, missing ones that stop the resolution of
    the replies', a traversal left raw for the validator, a data/ prefix), next to issues of
    the same lines that do not (a repeated key, unknown users), duplicates."""
    repeated_key = (
        b'{"type":"post","post":{"team":"t","channel":"c","user":"ann","message":"one",'
        b'"message":"two","create_at":1700000000099,"attachments":[{"path":"files/b.txt"},'
        b'{"path":"files/nope.txt"}]}}'
    )
    return [
        version(),
        team("t"),
        channel("t", "c"),
        user("ann", ["t"], profile_image="users/ann/avatar"),
        user("bob", ["t"], profile_image="users/bob.png", email="not an address"),
        bot("botty", "ann", profile_image="users/botty.png"),
        emoji("smile", "emoji/smile/image"),
        emoji("big", "emoji/big/image"),
        emoji("gone", "emoji/gone/image"),
        post(
            "t",
            "c",
            "ann",
            "files",
            T,
            attachments=["files/a.png", "files/missing.txt"],
            replies=[
                reply("bob", "re", T + 1, attachments=["../../escape.txt", "files/b.txt"]),
                reply("nobody", "re 2", T + 2, attachments=["files/c.jpg"]),
            ],
        ),
        post("t", "c", "ann", "fine", T + 3, attachments=["files/b.txt", "files/c.jpg"]),
        # One cause on lines with and without files: the rules of the former wait.
        post("t", "c", "ann", "odd", T + 7, type="system_bogus"),
        post("t", "c", "ann", "odd", T + 8, type="system_bogus", attachments=["files/b.txt"]),
        post("t", "c", "ann", "odd", T + 9, type="system_bogus"),
        emoji("text", "emoji/text/image"),
        emoji("logo", "emoji/logo.svg"),
        post("t", "c", "carol", "before carol", T + 4, attachments=["data/files/b.txt"]),
        repeated_key,
        direct_channel(["ann", "bob"]),
        direct_post(["ann", "bob"], "ann", "dm", T + 5, attachments=["files/d.gif"]),
        post("t", "c", "ann", "again", T + 6),
        post("t", "c", "ann", "again", T + 6),
        user("carol", ["t"]),
    ]


def _files() -> dict[str, bytes]:
    return {
        "data/users/ann/avatar": png_bytes(6000, 6000),  # a profile image without extension
        "data/users/botty.png": png_bytes(64, 64),
        "data/emoji/smile/image": png_bytes(32, 32),
        "data/emoji/big/image": png_bytes(128, 128) + bytes(600_000),
        "data/files/a.png": png_bytes(7000, 6000),
        "data/files/b.txt": b"some text\n" * 50,
        "data/files/c.jpg": jpeg_header_bytes(640, 480),
        "data/files/d.gif": gif_bytes(10, 10),
        "data/emoji/text/image": b"not an image",
        "data/emoji/logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
        "data/unused.txt": b"nobody uses me",
        "attachments/e.txt": b"outside data/",
    }


def _jsonl(lines: list[synth.Line] | None = None) -> bytes:
    return b"".join(synth._line_bytes(line) + b"\n" for line in lines or _lines())


def _synth(method: synth.Method, attachments: synth.Method) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        return make_archive(
            tmp / f"{method}-{attachments}.zip",
            _lines(),
            _files(),
            method=method,
            attachment_method=attachments,
            version_line=False,
        )

    return build


def _zip64(tmp: Path) -> Path:
    """Every member zip64 (64-bit sizes in data descriptors and the central directory)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synth, "write_zip", functools.partial(synth.write_zip, zip64_limit=0))
        path = _synth("deflate", "stored")(tmp)
    assert b"PK\x06\x06" in path.read_bytes()[-200:]  # the zip64 end record
    return path


def _members_first(tmp: Path) -> Path:
    """Files before the JSONL, a nested .jsonl before it (older servers' choice), an extra
    root .jsonl after it, a repeated and an NFD member name."""
    files = _files()
    members = [ZipMember(name, data, "deflate") for name, data in list(files.items())[:5]]
    members += [
        ZipMember("old/import.jsonl", b'{"type":"version","version":1}\n', "deflate"),
        ZipMember("import.jsonl", _jsonl(), "deflate"),
        ZipMember("data/files/b.txt", b"the last one wins\n", "stored"),
        ZipMember("data/files/cafe\u0301.txt", b"nfd", "stored"),
        ZipMember("second.jsonl", b"", "stored"),
    ]
    members += [ZipMember(name, data, "stored") for name, data in list(files.items())[5:]]
    return write_zip(tmp / "members-first.zip", members)


def _local_sizes(tmp: Path) -> Path:
    """Sizes in the local headers, no data descriptors (Python's zipfile, Info-ZIP)."""
    path = tmp / "local-sizes.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("import.jsonl", _jsonl(), zipfile.ZIP_DEFLATED)
        for index, (name, data) in enumerate(_files().items()):
            method = zipfile.ZIP_DEFLATED if index % 2 else zipfile.ZIP_STORED
            archive.writestr(name, data, method)
    return path


def raw_zip(
    members: list[tuple[str, bytes, int]],
    layout: str = "descriptor",
    order: list[int] | None = None,
) -> bytes:
    """A zip written by hand: `layout` is ``descriptor`` (with its signature),
    ``unsigned`` (a descriptor without it), ``descriptor64`` (64-bit sizes, no zip64 extra, as
    Go writes big members) or ``sizes`` (in the local header); `order`: the central
    directory's order of the members (default: theirs). Method 8 is deflated, any other
    method's data is written as given."""
    out = bytearray()
    central = []
    for name, data, method in members:
        raw = name.encode()
        packed = data
        if method == 8:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            packed = compressor.compress(data) + compressor.flush()
        crc = zlib.crc32(data)
        flags = 0 if layout == "sizes" else 8
        sizes = (crc, len(packed), len(data)) if layout == "sizes" else (0, 0, 0)
        offset = len(out)
        out += struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, 0, 33, *sizes, len(raw), 0
        )
        out += raw + packed
        if layout == "descriptor":
            out += struct.pack("<4sIII", b"PK\x07\x08", crc, len(packed), len(data))
        elif layout == "unsigned":
            out += struct.pack("<III", crc, len(packed), len(data))
        elif layout == "descriptor64":
            out += struct.pack("<4sIQQ", b"PK\x07\x08", crc, len(packed), len(data))
        central.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, method, 0, 33, crc,
                len(packed), len(data), len(raw), 0, 0, 0, 0, 0, offset,
            ) + raw
        )  # fmt: skip
    start = len(out)
    for i in order if order is not None else range(len(central)):
        out += central[i]
    count = len(central)
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(out) - start, start, 0)
    return bytes(out)


def _layout(layout: str) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        members = [("import.jsonl", _jsonl(), 8)]
        members += [
            (name, data, 8 if i % 2 else 0) for i, (name, data) in enumerate(_files().items())
        ]
        path = tmp / f"{layout}.zip"
        path.write_bytes(raw_zip(members, layout))
        return path

    return build


def _utf8_flag_in(header: str) -> Callable[[Path], Path]:
    """A name that is not UTF-8 with the UTF-8 flag (bit 11) in one of its headers only:
    the same stored bytes, so the same member (the file's reader decodes the name by the
    directory's flags; the stream must report it so, not as a rename)."""

    def build(tmp: Path) -> Path:
        members = [("import.jsonl", _jsonl(), 8), ("data/files/caf?.txt", b"not utf-8", 0)]
        members += [(name, data, 0) for name, data in _files().items()]
        name = b"data/files/caf\xe9.txt"
        data = bytearray(raw_zip(members).replace(b"data/files/caf?.txt", name))
        # The local header's name is the first, the directory's the last; flags at 6 and 8.
        local = header == "local"
        flags_at = data.index(name) - 30 + 6 if local else data.rindex(name) - 46 + 8
        data[flags_at + 1] |= 0x08  # 0x0800, the flag's high byte
        path = tmp / f"utf8-flag-{header}-only.zip"
        path.write_bytes(bytes(data))
        return path

    return build


def _damaged(tmp: Path) -> Path:
    """A stored attachment whose bytes no longer match its CRC-32 (--verify-files)."""
    path = _synth("deflate", "stored")(tmp)
    data = bytearray(path.read_bytes())
    at = data.index(b"some text\n")
    data[at] ^= 0x20
    path.write_bytes(bytes(data))
    return path


def _attachment_heavy(tmp: Path) -> Path:
    """Issue 19's shape, small: most lines carry files (posts, replies, direct posts), with
    what the fast path leaves to the general one among them — missing files, data/ prefixes,
    a case difference, a missing reply attachment (the server then drops the reply's others),
    eleven files — and what it takes: images, NFC paths to NFD names and NFD paths to NFC
    names, posts by a user defined only later (the general path's while the stream is read,
    the fast path's once its members are known)."""
    nfd, nfc = "cafe\u0301", "caf\u00e9"
    files: dict[str, bytes] = {
        f"data/{nfd}/menu.txt": b"nfd name",
        f"data/{nfc}/carte.txt": b"nfc name",
        "data/files/big.png": png_bytes(7000, 6000),
        "data/files/small.png": png_bytes(10, 10),
        "data/unused/left.txt": b"nobody",
    }
    lines: list[synth.Line] = [team("t"), channel("t", "c"), user("ann", ["t"]), user("bob", ["t"])]
    for i in range(240):
        names = [f"files/{i % 9}/f{i}-{k}.txt" for k in range(1 + i % 3)]
        for name in names:
            files[f"data/{name}"] = b"x" * (1 + i % 5)
        paths = list(names)
        if i % 11 == 3:
            paths.append(f"files/gone-{i}.txt")
        if i % 13 == 4:
            paths[0] = "data/" + paths[0]
        if i % 17 == 5:
            paths[-1] = paths[-1].upper()
        if i % 7 == 2:
            paths.append(f"{nfc}/menu.txt" if i % 2 else f"{nfd}/carte.txt")
        if i % 19 == 6:
            paths.append("files/big.png" if i % 2 else "files/small.png")
        replies = []
        if i % 5 == 0:
            r_paths = [names[0]] + ([f"files/lost-{i}.txt"] if i % 15 == 0 else [])
            replies = [reply("bob", "re", T + 10 * i + 1, attachments=r_paths)]
        author = "carol" if i % 23 == 8 else "ann"
        if i % 10 == 9:
            lines.append(
                direct_post(["ann", "bob"], "bob", f"dm {i}", T + 10 * i, attachments=paths)
            )
        else:
            lines.append(
                post("t", "c", author, f"post {i}", T + 10 * i, attachments=paths, replies=replies)
            )
    lines.insert(40, direct_channel(["ann", "bob"]))
    lines.append(post("t", "c", "ann", "eleven", T, attachments=[names[0]] * 11))
    lines.append(user("carol", ["t"]))
    return make_archive(tmp / "attachment-heavy.zip", lines, files)


GENERATED: dict[str, Callable[[Path], Path]] = {
    "attachment-heavy": _attachment_heavy,
    "go-stored": _synth("deflate", "stored"),
    "go-deflate": _synth("deflate", "deflate"),
    "go-deflate64": _synth("deflate64", "deflate64"),
    "go-zip64": _zip64,
    "members-first": _members_first,
    "local-sizes": _local_sizes,
    "unsigned-descriptors": _layout("unsigned"),
    "descriptors-64": _layout("descriptor64"),
    "utf8-flag-local-only": _utf8_flag_in("local"),
    "utf8-flag-central-only": _utf8_flag_in("central"),
}


# --- running the command on a pipe --------------------------------------------------------------


def _environment() -> dict[str, str]:
    """The tests' environment without a target server's MM_* settings."""
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("MM_")}


def piped(archive: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`cat ARCHIVE | archivekit ARGS` (``-`` among the arguments is the pipe)."""
    cat = subprocess.Popen(["cat", str(archive)], stdout=subprocess.PIPE)
    assert cat.stdout is not None
    try:
        return subprocess.run(
            [sys.executable, "-m", "archivekit", *args],
            stdin=cat.stdout,
            capture_output=True,
            env=_environment(),
            timeout=120,
            check=False,
        )
    finally:
        cat.stdout.close()
        cat.wait()


def _same(streamed: bytes, from_file: str) -> None:
    got, want = json.loads(streamed), json.loads(from_file)
    assert got["archive"] == "-"
    got["archive"] = want["archive"]
    assert got == want


# A stream is read by one process or by two (`archivekit.read.teed`): the same verdict.
WORKERS = pytest.mark.parametrize("workers", [1, 2], ids=["1-process", "2-processes"])


def _validate_both(archive: Path, *options: str, workers: int = 2) -> None:
    max_issues = 1000
    verify = "--verify-files" in options
    if "--max-issues" in options:
        max_issues = int(options[options.index("--max-issues") + 1])
    report = validate(archive, max_issues=max_issues, verify_files=verify)
    workers_option = ("--workers", str(workers))
    result = piped(archive, "validate", "-", "--format", "json", *workers_option, *options)
    assert result.returncode == (0 if report.valid else 1), result.stderr.decode()
    _same(result.stdout, report_json(report))


def _inspect_both(archive: Path, workers: int = 2) -> None:
    result = piped(archive, "inspect", "-", "--format", "json", "--workers", str(workers))
    assert result.returncode == 0, result.stderr.decode()
    _same(result.stdout, inspection_json(inspect(archive, workers=1)))


def _given(archive: Path) -> Callable[[Path], Path]:
    return lambda _: archive


# The samples, the server's own test archive, and the generated archives.
ARCHIVES = {path.name: _given(path) for path in [*SAMPLES, FIXTURE]} | GENERATED


@pytest.mark.slow
@WORKERS
@pytest.mark.parametrize("build", ARCHIVES.values(), ids=list(ARCHIVES))
def test_an_archive_piped_gets_the_files_verdict(
    build: Callable[[Path], Path], tmp_path: Path, workers: int
) -> None:
    archive = build(tmp_path)
    _validate_both(archive, workers=workers)
    _inspect_both(archive, workers)


@pytest.mark.slow
@WORKERS
@pytest.mark.parametrize("build", GENERATED.values(), ids=list(GENERATED))
def test_small_batches_alternating_owners_get_the_files_verdict(
    build: Callable[[Path], Path], tmp_path: Path, workers: int
) -> None:
    """Batches of 4 KiB: the two processes' batches alternate every few lines, with issues
    and definitions near their boundaries."""
    archive = build(tmp_path)
    report = validate(archive, block_size=4096, workers=1)
    with fed(archive.read_bytes()) as path:
        streamed = validate(path, block_size=4096, workers=workers)
    streamed.archive = report.archive
    assert report_json(streamed) == report_json(report)
    counted = inspect(archive, workers=1, block_size=4096)
    with fed(archive.read_bytes()) as path:
        from_stream = inspect(path, workers=workers, block_size=4096)
    from_stream.archive = counted.archive
    assert inspection_json(from_stream) == inspection_json(counted)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("build", "options"),
    [
        (_synth("deflate", "stored"), ("--max-issues", "3")),
        (_members_first, ("--max-issues", "5")),
        (_synth("deflate", "deflate"), ("--verify-files",)),
        (_damaged, ("--verify-files",)),
        (_damaged, ()),
    ],
    ids=["capped", "capped-members-first", "verify", "verify-damaged", "damaged-unverified"],
)
def test_options_piped_get_the_files_verdict(
    build: Callable[[Path], Path], options: tuple[str, ...], tmp_path: Path
) -> None:
    _validate_both(build(tmp_path), *options)


def test_the_generated_archive_has_what_the_comparison_needs(tmp_path: Path) -> None:
    """The comparisons above are only worth something if the verdicts depend on the files."""
    report = validate(_synth("deflate", "stored")(tmp_path))
    codes = set(report.issue_counts)
    assert {
        "profile-image-missing",
        "emoji-image-too-large",
        "emoji-image-missing",
        "attachment-missing",
        "attachment-data-prefix",
        "attachment-unreferenced",
        "attachment-outside-data",
        "duplicate-post",
        "emoji-image-not-image",
    } <= codes
    odd = [c for c in report.causes if c.code == "apply-invalid" and c.line_count == 3]
    assert odd, "a cause shared by lines with and without files"
    assert report.limits  # the images over the resolution limit
    # Bob's bad e-mail address is not reported: his profile image is missing.
    assert not [i for i in report.issues if i.line == 5 and i.code != "profile-image-missing"]


@pytest.mark.skipif(fastpath.NATIVE_BATCH is None, reason="the C scanner is not loaded")
def test_a_streams_attachment_lines_take_the_fast_path_where_a_files_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the stream is read, the C scanner takes posts with plain attachment lists
    (their files wait); at its end it resolves them: only the lines whose files have an issue
    go through the general path, as from a file (`LineProcessor._replay_one`)."""
    archive = _attachment_heavy(tmp_path)
    report = validate(archive)
    general_while_read: list[int] = []
    general_at_end: list[int] = []
    while_read, at_end = LineProcessor._general, LineProcessor._replay_one

    def spy_read(processor: LineProcessor, line: int, raw: Any) -> None:
        general_while_read.append(line)
        while_read(processor, line, raw)

    def spy_end(processor: LineProcessor, record: Any) -> Any:
        general_at_end.append(record.line)
        return at_end(processor, record)

    monkeypatch.setattr(LineProcessor, "_general", spy_read)
    monkeypatch.setattr(LineProcessor, "_replay_one", spy_end)
    with fed(archive.read_bytes()) as path:
        streamed = validate(path, workers=1)
    assert streamed.issues == report.issues
    assert streamed.counts == report.counts
    file_codes = {"attachment-missing", "attachment-data-prefix", "attachment-dropped"}
    file_codes.add("too-many-files")
    assert set(general_at_end) == {i.line for i in report.issues if i.code in file_codes}
    # While read: only the definitions and the lines with issues (of the 241 posts).
    with zipfile.ZipFile(archive) as opened:
        jsonl = opened.read("import.jsonl").splitlines()
    posts = (fastpath.POST_PREFIX, fastpath.DIRECT_POST_PREFIX)
    definitions = {n for n, raw in enumerate(jsonl, 1) if not raw.startswith(posts)}
    with_issues = {i.line for i in report.issues if i.line is not None}
    assert set(general_while_read) - with_issues == definitions - with_issues
    assert len(general_while_read) < 20


@pytest.mark.parametrize("keep", [0, 20_000, None], ids=["spooled", "some-kept", "kept"])
@pytest.mark.parametrize("workers", [1, 2])
def test_waiting_post_lines_resolve_at_the_end_as_a_files(
    tmp_path: Path, workers: int, keep: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Post lines whose files wait for a stream's members, in small batches so that runs of
    them meet the general path's lines: posts and replies with files, repeated files,
    duplicate posts, images over the resolution limit, missing files among them, and lines
    with errors of their own. Every issue, in the same order, with the same counts and
    limits as from the file — read by one process or two (batches of 4 KiB: their owners
    alternate every few lines, the definitions among them in both), the batches' findings
    waiting in memory, on disk, or the first in memory and the rest on disk
    (`FindingsSpool`)."""
    if keep is not None:
        monkeypatch.setattr(streamed_module, "KEEP_FINDINGS", keep)
    files: dict[str, bytes] = {
        "data/img/big.png": png_bytes(7000, 6000),
        "data/img/small.png": png_bytes(10, 10),
    }
    lines: list[synth.Line] = [team("t"), channel("t", "c"), user("ann", ["t"]), user("bob", ["t"])]
    for i in range(300):
        name = f"f/{i % 7}/n{i}.txt"
        files[f"data/{name}"] = b"y" * (1 + i % 9)
        paths = [name, name] if i % 6 == 1 else [name]  # the same file twice
        if i % 29 == 3:
            paths.append(f"f/missing-{i}.txt")
        if i % 31 == 7:
            paths.append("img/big.png" if i % 2 else "img/small.png")
        replies = [reply("bob", "re", T + 10 * i + 1, attachments=[name])] if i % 4 == 0 else []
        message = "same" if i % 50 == 10 else f"post {i}"  # duplicates: same time and message
        at = T if i % 50 == 10 else T + 10 * i
        if i % 37 == 11:
            lines.append(post("t", "c", "ann", "x" * 20_000, at, attachments=paths))  # too long
        elif i % 41 == 13:
            lines.append(post("t", "nowhere", "ann", message, at, attachments=paths))
        else:
            lines.append(post("t", "c", "ann", message, at, attachments=paths, replies=replies))
        if i % 43 == 20:
            lines.append(user(f"late{i}", ["t"]))  # a definition between runs
    archive = make_archive(tmp_path / "waiting.zip", lines, files)
    report = validate(archive, block_size=4096, workers=1)
    with fed(archive.read_bytes()) as path:
        streamed = validate(path, block_size=4096, workers=workers)
    assert streamed.issues == report.issues
    assert streamed.issue_counts == report.issue_counts
    assert streamed.counts == report.counts
    assert streamed.limits == report.limits
    assert streamed.attachments == report.attachments
    codes = set(report.issue_counts)
    assert {"attachment-missing", "duplicate-post"} <= codes, codes
    assert report.limits  # the image over the resolution limit


@pytest.mark.parametrize(
    "limits",
    [ReadLimits(max_member_size=2 << 20), ReadLimits(max_ratio=50)],
    ids=["member-too-large", "member-ratio"],
)
def test_a_streams_zip_bomb_stops_are_the_files_issues(limits: ReadLimits, tmp_path: Path) -> None:
    """--verify-files: reading a member stops at the zip-bomb limits with the file reader's
    issues, structured values included."""
    lines = [team("tt"), channel("tt", "c"), user("ann", ["tt"])]
    lines.append(post("tt", "c", "ann", "zeros", T, attachments=["zeros.bin"]))
    files = {"data/zeros.bin": bytes(3 << 20)}
    archive = make_archive(tmp_path / "bomb.zip", lines, files, attachment_method="deflate")
    report = validate(archive, verify_files=True, read_limits=limits)
    with fed(archive.read_bytes()) as path:
        streamed = validate(path, verify_files=True, read_limits=limits)
    assert streamed.issues == report.issues
    (stop,) = [issue for issue in report.issues if issue.code.startswith("member-")]
    assert stop.values["member"] == "data/zeros.bin"
    assert stop.values["limit"] in (2 << 20, 50)


def test_an_encrypted_members_head_is_refused_as_from_a_file(tmp_path: Path) -> None:
    data = bytearray(raw_zip([("import.jsonl", _jsonl(), 8), ("data/x.png", b"abc", 0)], "sizes"))
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature, data.index(signature) + 1) + flags_at] |= 1  # encrypted
    path = tmp_path / "encrypted.zip"
    path.write_bytes(data)
    with open_archive(path) as archive, pytest.raises(ArchiveError) as from_file:
        archive.read_member_head(archive.index[1], 8)
    with RunDirectory() as run, fed(bytes(data)) as piped, open_stream(piped, run=run) as stream:
        b"".join(stream.iter_jsonl_blocks())
        stream.finish(keep={"data/x.png"})
        with pytest.raises(ArchiveError) as from_stream:
            stream.read_member_head(stream.index[1], 8)
    assert from_stream.value.issue == from_file.value.issue
    assert from_file.value.issue.values == {"member": "data/x.png"}


# --- in process: a pipe fed by a thread -------------------------------------------------------


def stream_error(data: bytes, **options: Any) -> ArchiveError:
    with fed(data) as path, pytest.raises(ArchiveError) as caught:
        validate(path, **options)
    return caught.value


@pytest.mark.parametrize("layout", ["descriptor", "unsigned", "descriptor64", "sizes"])
def test_each_descriptor_layout_is_delimited(layout: str) -> None:
    data = b"x" * 70_000 + b"PK\x07\x08" + b"y" * 100  # a signature inside the data
    members = [("import.jsonl", _jsonl(), 8), ("data/files/b.txt", data, 0), ("data/e", b"", 0)]
    archive = raw_zip(members, layout)
    with RunDirectory() as run, fed(archive) as path, open_stream(path, run=run) as stream:
        jsonl = b"".join(stream.iter_jsonl_blocks())
        stream.finish()
        assert jsonl == _jsonl()
        assert [m.name for m in stream.index] == ["import.jsonl", "data/files/b.txt", "data/e"]
        assert stream.size == len(archive)


@pytest.mark.parametrize("layout", ["descriptor", "sizes"])
def test_a_large_last_member_and_a_comment_leave_the_end_records_readable(
    layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end record is looked for in the last 64 KiB of the zip, which here lie in the
    last member's data and a comment: what the stream keeps of its past (read in small
    chunks here) must reach there."""
    monkeypatch.setattr(stream_module, "_CHUNK", 4096)
    big = os.urandom(3 << 20)
    archive = raw_zip([("import.jsonl", _jsonl(), 8), ("data/big.bin", big, 0)], layout)
    archive = archive[:-2] + struct.pack("<H", 40_000) + b"c" * 40_000  # an EOCD comment
    with RunDirectory() as run, fed(archive) as path, open_stream(path, run=run) as stream:
        b"".join(stream.iter_jsonl_blocks())
        stream.finish()
        assert [m.size for m in stream.index] == [len(_jsonl()), len(big)]
        assert stream.size == len(archive)


def _looks_like_an_end(prefix: bytes, tail: bytes, crc: int) -> bytes:
    """Attachment bytes that hold, after `prefix`, what looks like its data descriptor (sizes
    right, CRC-32 `crc`) and the local header of a member with known sizes whose data is
    `tail`."""
    header = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 33, zlib.crc32(tail), len(tail), len(tail),
        len(b"data/x.png"), 0,
    ) + b"data/x.png"  # fmt: skip
    descriptor = struct.pack("<4sIII", b"PK\x07\x08", crc, len(prefix), len(prefix))
    return prefix + descriptor + header + tail


def _crafted(crc_right: bool) -> bytes:
    prefix, tail = b"a" * 300, b"b" * 200
    crc = zlib.crc32(prefix) if crc_right else zlib.crc32(prefix) ^ 1
    data = _looks_like_an_end(prefix, tail, crc)
    members = [("import.jsonl", _jsonl(), 8), ("data/files/b.txt", data, 0)]
    return raw_zip([*members, ("data/files/z.txt", b"last", 0)])


class _CountedFinds(bytes):
    """Bytes that count the searches made in them."""

    finds = 0

    def find(self, *args: Any) -> int:
        type(self).finds += 1
        return super().find(*args)


def test_the_scan_for_a_descriptor_stops_at_the_first_that_ends_the_member() -> None:
    """A window holds many small stored members: finding where the first ends looks at the
    signatures up to its end only (it once looked at all of them, for every member: from a
    pipe, an archive of 100,000 attachments took 580x as long as from the file)."""
    members = [(f"data/f{i}.txt", b"x" * 100, 0) for i in range(2000)]
    window = _CountedFinds(raw_zip(members)[30 + len("data/f0.txt") :])  # the first data
    found = stream_module._find_descriptor(window, 0, len(window), 0, zlib.crc32(b""), False)
    assert found == (100, 16, 0)
    assert _CountedFinds.finds <= 3  # the descriptor's signature, the next header's


@pytest.mark.parametrize("layout", ["descriptor", "unsigned", "descriptor64"])
def test_the_quick_end_of_an_attachment_is_the_scans_or_left_to_it(layout: str) -> None:
    """Most attachments end without the full scan (`_quick_descriptor`): where the quick
    test answers, the scan gives the same end; where it cannot tell — a "PK" in the data, a
    descriptor without its signature, a fake end whose CRC-32 is not the data's, the window's
    end too near — it leaves it to the scan."""
    fake = _looks_like_an_end(b"a" * 300, b"b" * 200, zlib.crc32(b"a" * 300) ^ 1)
    answered = []
    for data in (b"x" * 100, b"", b"aPKb" * 10, fake):
        window = raw_zip([("data/a.txt", data, 0), ("data/z.txt", b"last", 0)], layout)
        at = 30 + len("data/a.txt")
        for end in (len(window), at + len(data) + 18):  # whole; the descriptor cut
            for eof in (False, True):
                quick = stream_module._quick_descriptor(window[:end], at, eof)
                if quick is None:
                    continue
                scan = stream_module._find_descriptor(window, at, end, 0, 0, eof)
                assert quick == (scan[0], scan[1], zlib.crc32(data))
                answered.append((data, end == len(window)))
    whole = [(b"x" * 100, True)] * 2 + [(b"", True)] * 2  # eof or not
    assert answered == ([] if layout == "unsigned" else whole)


def test_a_fake_end_inside_an_attachment_with_another_crc_does_not_split_it() -> None:
    archive = _crafted(crc_right=False)
    with RunDirectory() as run, fed(archive) as path, open_stream(path, run=run) as stream:
        b"".join(stream.iter_jsonl_blocks())
        stream.finish()
        member = stream.index[1]
        assert stream.member_dimensions(member) is None  # read as the file holds it
        assert [m.name for m in stream.index] == ["import.jsonl", *_CRAFTED_FILES]


_CRAFTED_FILES = ["data/files/b.txt", "data/files/z.txt"]


def test_a_fake_end_with_the_right_crc_is_caught_by_the_central_directory(tmp_path: Path) -> None:
    """A file can hold a data descriptor with the right CRC-32 and a header: the stream
    splits there, and the central directory at the end says it was wrong: exit 3, while
    the file is read as it is."""
    archive = _crafted(crc_right=True)
    found = stream_error(archive).issue
    assert found.code == "stream-unreadable"
    assert found.values["member"] == "data/files/b.txt"
    assert "the stream found it 300 bytes long, the directory says" in found.message
    assert "Save the archive to a file first" in found.message
    path = tmp_path / "crafted.zip"
    path.write_bytes(archive)
    validate(path)  # no ArchiveError
    result = piped(path, "validate", "-")
    assert result.returncode == 3, result.stderr.decode()
    assert b"'data/files/b.txt'" in result.stderr


def test_a_local_header_naming_another_member_stops_the_stream() -> None:
    archive = raw_zip([("import.jsonl", _jsonl(), 8), ("data/files/b.txt", b"text", 0)])
    at = archive.index(b"data/files/b.txt")  # the local header's name comes first
    archive = archive[:at] + b"data/files/c.txt" + archive[at + 16 :]
    found = stream_error(archive).issue
    assert found.code == "stream-unreadable"
    assert "its local header gives another name" in found.message


def _renamed_in_its_local_header() -> bytes:
    """data/files/b.txt in the directory, data/files/c.txt in its local header."""
    archive = raw_zip([("import.jsonl", _jsonl(), 8), ("data/files/b.txt", b"text", 0)])
    at = archive.index(b"data/files/b.txt")  # the local header's name comes first
    return archive[:at] + b"data/files/c.txt" + archive[at + 16 :]


@pytest.mark.parametrize("index", ["c", "python", "pure-python"])
def test_a_local_name_of_the_same_hash_is_still_another_name(index: str) -> None:
    """Names are held to the directory's by their bytes, not only their hashes (two names of
    one hash are conceivable with PYTHONHASHSEED fixed): a collision made here by patching
    `name_hash`, in the Python pass with the C or the Python check and with no C at all."""
    real = members_module.name_hash

    def colliding(raw: bytes) -> int:
        return real(b"data/files/b.txt" if raw == b"data/files/c.txt" else raw)

    archive = _renamed_in_its_local_header()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(members_module, "name_hash", colliding)
        patch.setattr(stream_module, "name_hash", colliding)
        patch.setattr(stream_module, "_WALK_MEMBERS", None)
        if index == "python":
            patch.setattr(NativeIndex, "check_local", MemberIndex.check_local)
        elif index == "pure-python":
            patch.setattr(members_module, "NATIVE", None)
        found = stream_error(archive).issue
    assert found.code == "stream-unreadable"
    assert "its local header gives another name" in found.message
    assert found.values["member"] == "data/files/b.txt"


@pytest.mark.skipif(members_module.NATIVE is None, reason="the C index is not loaded")
def test_the_c_check_compares_the_names_where_their_hashes_agree(tmp_path: Path) -> None:
    path = tmp_path / "renamed.zip"
    path.write_bytes(_renamed_in_its_local_header())
    with open(path, "rb") as fh:
        index = read_member_index(fh, path.stat().st_size)
    assert isinstance(index, NativeIndex)
    offsets = array("Q", [m.header_offset for m in index])
    central = [stored_name(m) for m in index]
    hashes = array("q", [hash(raw) for raw in central])  # as if the local names collided
    states, sizes = bytearray(2), array("Q", [m.compressed_size for m in index])
    local = [central[0], b"data/files/c.txt"]
    lengths = array("H", [len(raw) for raw in local])
    same, other = bytearray(b"".join(central)), bytearray(b"".join(local))
    assert index.check_local(LocalHeaders(offsets, hashes, states, sizes, same, lengths)) is None
    found = index.check_local(LocalHeaders(offsets, hashes, states, sizes, other, lengths))
    assert found == (1, LOCAL_RENAMED, 1)


@pytest.mark.skipif(members_module.NATIVE is None, reason="the C index is not loaded")
@pytest.mark.parametrize("order", ["stream", "reversed", "shuffled", "swapped"])
def test_the_c_check_of_local_headers_is_pythons_in_any_directory_order(
    order: str, tmp_path: Path
) -> None:
    """The C check takes the header after the last one it found for the next entry (a
    directory in the stream's order) and searches otherwise: whatever the directory's order,
    and whatever the stream noted wrong (a header missing, renamed, resized), it finds what
    the Python reference finds, at the same entry and header."""
    count = 40
    members = [("import.jsonl", _jsonl(), 8)]
    members += [(f"data/f/{i}.txt", bytes([65 + i % 26]) * (i + 1), 0) for i in range(count)]
    ranks = list(range(len(members)))
    if order == "reversed":
        ranks.reverse()
    elif order == "shuffled":
        random.Random(18).shuffle(ranks)
    elif order == "swapped":
        ranks[5], ranks[6] = ranks[6], ranks[5]
    path = tmp_path / "ordered.zip"
    path.write_bytes(raw_zip(members, "descriptor", order=ranks))
    with open(path, "rb") as fh:
        index = read_member_index(fh, path.stat().st_size)
    assert isinstance(index, NativeIndex)
    by_offset = sorted(index, key=lambda m: m.header_offset)  # as the stream met them
    for wrong in ["none", "missing-first", "missing", "renamed", "resized", "renamed-last"]:
        local = [stored_name(m) for m in by_offset]
        offsets = array("Q", [m.header_offset for m in by_offset])
        sizes = array("Q", [m.compressed_size for m in by_offset])
        states = bytearray([stream_module._SCANNED] * len(by_offset))
        if wrong == "missing-first":
            del offsets[0], local[0], sizes[0], states[0]
        elif wrong == "missing":
            del offsets[17], local[17], sizes[17], states[17]
        elif wrong == "renamed":
            local[9] = b"data/f/other.txt"
        elif wrong == "resized":
            sizes[23] += 1
        elif wrong == "renamed-last":
            local[-1] = local[-1][:-1] + b"x"
        headers = LocalHeaders(
            offsets,
            array("q", [name_hash(raw) for raw in local]),
            states,
            sizes,
            bytearray(b"".join(local)),
            array("H", [len(raw) for raw in local]),
        )
        expected = MemberIndex.check_local(index, headers)
        assert index.check_local(headers) == expected, (order, wrong)
        assert (expected is None) == (wrong == "none"), (order, wrong)


def test_a_member_the_stream_did_not_meet_stops_the_stream() -> None:
    """Junk between two members: the stream sees the members end there."""
    members = [("import.jsonl", _jsonl(), 8), ("data/a.txt", b"a", 0)]
    archive = raw_zip(members, "sizes")
    at = archive.index(b"PK\x03\x04", 1)
    archive = archive[:at] + b"junk" + archive[at:]
    # Shift the directory's offsets past the junk, as a file's reader then finds them.
    directory = archive.index(b"PK\x01\x02")
    fixed = bytearray(archive)
    for entry in (directory, archive.index(b"PK\x01\x02", directory + 1)):
        offset = struct.unpack_from("<I", fixed, entry + 42)[0]
        if offset >= at:
            struct.pack_into("<I", fixed, entry + 42, offset + 4)
    end = fixed.index(b"PK\x05\x06")
    struct.pack_into("<I", fixed, end + 16, directory)
    found = stream_error(bytes(fixed)).issue
    assert found.code == "stream-unreadable"
    assert found.values["member"] == "data/a.txt"


_PEAK_SCRIPT = """
import sys, tracemalloc
from pathlib import Path
from archivekit.read.stream import open_stream
from archivekit.runtime import RunDirectory
from archivekit.testing.pipes import fed

def read(data):
    with RunDirectory() as run, fed(data) as path, open_stream(path, run=run) as stream:
        b"".join(stream.iter_jsonl_blocks())
        stream.finish()
        return tracemalloc.get_traced_memory()[0]  # what the stream holds for the checks

data = Path(sys.argv[1]).read_bytes()
read(data)  # once unmeasured: the modules it imports on first use are not what is measured
tracemalloc.start()
print(read(data))
"""


@pytest.mark.slow
def test_memory_held_from_a_pipe_is_a_few_numbers_per_member(tmp_path: Path) -> None:
    """An attachment-heavy archive from a pipe, in a fresh interpreter: once read, the stream
    holds a few numbers and the stored bytes of its name per member (~57 bytes here) beside
    the central directory's index (as for a file) — not the members' names as strings (~90
    bytes each more) nor any of their data."""
    held = []
    for count in (2_000, 20_000):
        path = tmp_path / f"m{count}.zip"
        # A large first member fills the stream's buffers (a few MiB, whatever the members).
        files = {"data/large.bin": bytes(range(256)) * (16 << 10)}
        files.update({f"data/{i:06d}/some-file-name-{i}.txt": b"x" * 20 for i in range(count)})
        make_archive(path, [team("t")], files)
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_SCRIPT, str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        held.append(int(done.stdout))
    per_member = (held[1] - held[0]) / 18_000
    assert per_member < 100, (held, per_member)


def test_a_stored_member_written_with_a_descriptor_of_another_method_cannot_be_delimited() -> None:
    members = [("import.jsonl", _jsonl(), 8), ("data/files/b.bz2", b"BZh9...", 12)]
    found = stream_error(raw_zip(members)).issue
    assert found.code == "stream-unreadable"
    assert "'data/files/b.bz2'" in found.message
    assert "Save the archive to a file first" in found.message


def test_a_truncated_stream_is_truncated() -> None:
    archive = raw_zip([("import.jsonl", _jsonl(), 8), ("data/f.txt", b"abc" * 1000, 0)])
    assert stream_error(archive[: len(archive) // 2]).issue.code == "zip-truncated"
    assert stream_error(archive[:-10]).issue.code in ("zip-truncated", "zip-corrupt")


@pytest.mark.parametrize("method", ["deflate", "deflate64"])
@pytest.mark.parametrize("member", ["import.jsonl", "data/f.txt"])
def test_a_stream_cut_inside_a_descriptor_after_a_deflate_stream_is_truncated(
    method: synth.Method, member: str, tmp_path: Path
) -> None:
    """Issue 18 (found by tests/test_stream_differential.py, a long run): a download cut
    after a deflated member's data, inside its data descriptor or the next header's
    signature. The stream found no whole descriptor there and said it cannot tell where
    the member ends (``stream-unreadable``); fewer bytes than a descriptor and a signature
    left, where a whole zip has its directory and end record: an incomplete download."""
    members = [
        ZipMember("import.jsonl", _jsonl(), method if member == "import.jsonl" else "deflate"),
        ZipMember("data/f.txt", b"abc" * 3000, method if member == "data/f.txt" else "stored"),
        ZipMember("data/g.txt", b"x", "stored"),
    ]
    archive = write_zip(tmp_path / "export.zip", members).read_bytes()
    with zipfile.ZipFile(io.BytesIO(archive)) as listing:
        names = [info.filename for info in listing.infolist()]
        following = listing.infolist()[names.index(member) + 1].header_offset
    for cut in range(following - 16, following + 4):  # the descriptor (16 bytes), a signature
        found = stream_error(archive[:cut]).issue
        assert found.code == "zip-truncated", (cut - following, found)
        assert found.values["member"] == member


def _local_field(archive: bytes, member: int, at: int, value: bytes) -> bytes:
    """`archive` with `value` over byte `at` of the `member`-th local header."""
    start = -1
    for _ in range(member + 1):
        start = archive.index(b"PK\x03\x04", start + 1)
    return archive[: start + at] + value + archive[start + at + len(value) :]


def test_a_local_header_leading_past_the_end_records_is_no_incomplete_download(
    tmp_path: Path,
) -> None:
    """Issue 18 (found by tests/test_stream_differential.py): a member's local header gives a
    size that runs past the end of a whole archive. A file's reader goes by the central
    directory and reports on the archive; the stream cannot tell where the member ends, and
    says so, not that the download is incomplete."""
    members = [("import.jsonl", _jsonl(), 8), ("data/unused.txt", b"x" * 100, 0)]
    archive = _local_field(raw_zip(members, "sizes"), 1, 18, struct.pack("<I", 1 << 30))
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    assert validate(path).counts  # a report
    found = stream_error(archive).issue
    assert found.code == "stream-unreadable", found
    assert "at member 'data/unused.txt'" in found.message
    assert "end records" in found.message
    assert "incomplete download" not in found.message
    assert found.values == {"path": found.values["path"], "member": "data/unused.txt"}


def _jsonl_in_method(local: int, central: int, layout: str) -> bytes:
    archive = raw_zip([("import.jsonl", _jsonl(), 0), ("data/f.txt", b"x", 0)], layout)
    archive = _local_field(archive, 0, 8, struct.pack("<H", local))
    at = archive.index(b"PK\x01\x02") + 10
    return archive[:at] + struct.pack("<H", central) + archive[at + 2 :]


def test_a_jsonls_local_method_is_checked_against_the_central_directory(tmp_path: Path) -> None:
    """Issue 18 (found by tests/test_stream_differential.py): a JSONL whose local header
    names a method that cannot be read, its sizes there. The stream passes over it and
    goes by the central directory, as a file's reader does: the same error when it names
    that method too; ``stream-unreadable`` when it names a readable one (the file's reader
    then reads it, the stream has passed it)."""
    found = stream_error(_jsonl_in_method(11, 0, "sizes")).issue
    assert found.code == "stream-unreadable", found
    assert found.values == {"member": "import.jsonl", "method": 11, "directory": 0}
    both = _jsonl_in_method(11, 11, "sizes")
    path = tmp_path / "export.zip"
    path.write_bytes(both)
    with pytest.raises(ArchiveError) as from_file:
        validate(path)
    assert stream_error(both).issue == from_file.value.issue
    # With a data descriptor, its end cannot be found: the local header's word is taken.
    found = stream_error(_jsonl_in_method(11, 0, "descriptor")).issue
    assert found.code == "jsonl-unsupported-compression"


@pytest.mark.parametrize("method", [0, 8])
def test_a_jsonls_local_descriptor_flag_beside_its_sizes_is_passed_by_them(
    method: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by tests/test_stream_differential.py (a long run: bits 0 and 3 of the flags of
    a JSONL written with its sizes flipped). Its local header says encrypted, with a data
    descriptor, and gives its sizes: the stream refused it on that header's word
    (``jsonl-unsupported-compression``, "is encrypted"), where a file's reader, going by the
    directory, reads it and reports. Sizes there beside the flag (which says they are 0)
    mean damage: it is passed over by them and held to the directory, as without the flag
    (``stream-unreadable``; the file's error where the directory says encrypted too)."""
    good = raw_zip([("import.jsonl", _jsonl(), method), ("data/f.txt", b"x", 0)], "sizes")
    archive = _local_field(good, 0, 6, struct.pack("<H", 9))
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    assert validate(path).issues  # a report
    found = stream_error(archive).issue
    assert found.code == "stream-unreadable", found
    assert found.values == {"member": "import.jsonl", "method": method, "directory": method}
    assert "encrypted, which cannot be read" in found.message
    both = _central_field(archive, 0, 8, struct.pack("<H", 9))  # the directory's flags too
    path.write_bytes(both)
    with pytest.raises(ArchiveError) as from_file:
        validate(path)
    assert stream_error(both).issue == from_file.value.issue
    # A descriptor after the data as well: passed too.
    with_descriptor = raw_zip([("import.jsonl", _jsonl(), method), ("data/f.txt", b"x", 0)])
    start = with_descriptor.index(b"PK\x01\x02")
    sizes = with_descriptor[start + 16 : start + 28]  # CRC-32 and sizes, from the directory
    flagged = _local_field(with_descriptor, 0, 6, struct.pack("<H", 9))
    flagged = _local_field(flagged, 0, 14, sizes)
    read_directory = stream_module.StreamArchive._read_directory
    members_met: list[int] = []

    def counted(self: stream_module.StreamArchive) -> None:
        members_met.append(len(self._offsets))
        read_directory(self)

    monkeypatch.setattr(stream_module.StreamArchive, "_read_directory", counted)
    found = stream_error(flagged).issue
    assert members_met == [2]  # the member after the descriptor met, not taken for the end
    assert found.code == "stream-unreadable", found
    assert "encrypted, which cannot be read" in found.message


def test_members_after_a_passed_jsonl_keep_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSONL passed over (its local header says it cannot be read) ends the run in an
    error whatever the directory says: the members after it pass as after a JSONL, no head
    of theirs kept (review 27: 455 MB of temporary files for a 240 MB archive, each
    member's first 512 KiB, as for members before a JSONL)."""
    images = [(f"data/{n}.png", png_bytes(40, 30), 0) for n in range(5)]
    archive = raw_zip([("import.jsonl", _jsonl(), 0), *images], "sizes")
    archive = _local_field(archive, 0, 8, struct.pack("<H", 11))

    def kept(self: object, head: bytes) -> None:
        raise AssertionError("a head kept")

    monkeypatch.setattr(stream_module.StreamArchive, "_keep_head", kept)
    assert stream_error(archive).issue.code == "stream-unreadable"


def test_a_download_cut_after_a_zip_stored_as_a_member_is_incomplete() -> None:
    """An Office document is a zip, stored whole as an attachment, with its own end record:
    a download cut within 64 KiB after it still holds that record, whose directory lies at
    a prefix and whose comment the cut file's bytes follow. Not the archive's end records:
    "incomplete download", not ``stream-unreadable`` (review 27: 46 of 150 cuts)."""
    document = io.BytesIO()
    with zipfile.ZipFile(document, "w") as inner:
        inner.writestr("word/document.xml", "<w:document/>")
    nested = document.getvalue()
    after = random.Random(27).randbytes(300_000)
    members = [("import.jsonl", _jsonl(), 8), ("data/report.docx", nested, 0)]
    archive = raw_zip([*members, ("data/photo.bin", after, 0)])
    cut = archive.index(nested) + len(nested) + 5_000
    found = stream_error(archive[:cut]).issue
    assert found.code == "zip-truncated", found
    assert "incomplete download" in found.message


# A local header's method (2 bytes at 8) or flags (at 6: bit 0, encrypted) changed.
_LOCAL_ONLY = {"method": (8, struct.pack("<H", 8)), "encrypted": (6, struct.pack("<H", 1))}


@pytest.mark.parametrize("verify", [False, True], ids=["measured", "verified"])
@pytest.mark.parametrize("header", list(_LOCAL_ONLY))
def test_a_member_read_as_its_local_header_says_is_held_to_the_directory(
    header: str, verify: bool, tmp_path: Path
) -> None:
    """Issue 18 (found with the check of tests/test_stream_differential.py on local headers
    changed by hand, the shape its JSONL cases suggested): an image whose local header
    says deflated, or encrypted, the central directory stored. A file's reader reads it
    stored and measures it (over the resolution limit); the stream read it otherwise and
    measured nothing: ``stream-unreadable``, not a report without the limit (nor, verified,
    a damaged file)."""
    lines = [version(), team("tt"), channel("tt", "c"), user("ann", ["tt"])]
    lines.append(post("tt", "c", "ann", "big", T, attachments=["big.png"]))
    members = [("import.jsonl", _jsonl(lines), 8), ("data/big.png", png_bytes(7000, 6000), 0)]
    good = raw_zip(members, "sizes")
    archive = _local_field(good, 1, *_LOCAL_ONLY[header])
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    report = validate(path, verify_files=verify)
    assert report.limits
    found = stream_error(archive, verify_files=verify).issue
    assert found.code == "stream-unreadable", found
    method = 8 if header == "method" else 0
    assert found.values == {"member": "data/big.png", "method": method, "directory": 0}
    # The headers agreeing, the stream measures it as the file's reader does.
    path.write_bytes(good)
    with fed(good) as piped:
        assert (
            validate(piped, verify_files=verify).limits
            == validate(path, verify_files=verify).limits
        )


def test_an_emoji_image_its_local_header_says_is_encrypted_stops_the_stream(
    tmp_path: Path,
) -> None:
    """Issue 18 (found with the check of tests/test_stream_differential.py on local headers
    changed by hand): its head was not kept (the
    stream does not read an encrypted member's data), and reading it raised ValueError, a
    traceback; the central directory says it is not encrypted, and a file's reader finds it
    is no image: ``stream-unreadable`` (not swallowed as damage by the emoji check)."""
    lines = [version(), emoji("ak_text", "emoji/text/image")]
    members = [("import.jsonl", _jsonl(lines), 8), ("data/emoji/text/image", b"no image", 0)]
    archive = _local_field(raw_zip(members, "sizes"), 1, *_LOCAL_ONLY["encrypted"])
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    assert "emoji-image-not-image" in validate(path).issue_counts
    found = stream_error(archive).issue
    assert found.code == "stream-unreadable", found
    assert "encrypted" in found.message


# A JSONL's local header damaged (Go's layout): its flags cleared (no data descriptor, so
# sizes 0), or its method 0 made 12 (bzip2, readable).
_JSONL_LOCAL_DAMAGE = {"descriptor-flag-lost": (8, 6, b"\x00"), "method-changed": (0, 8, b"\x0c")}
# ... what the stream then says the local header and the directory say (the directory's
# sizes, where the local header gives sizes: a file's reader reads by them, whatever the
# directory's data descriptor flag says).
_JSONL_LOCAL_DIFFERS = {
    "descriptor-flag-lost": (
        "0 bytes compressed (0 uncompressed)",
        "{csize:,} bytes compressed ({usize:,} uncompressed)",
    ),
    "method-changed": ("method 12", "method 0"),
}


@pytest.mark.parametrize("damage", list(_JSONL_LOCAL_DAMAGE))
def test_a_jsonls_damaged_local_header_is_stream_unreadable(damage: str, tmp_path: Path) -> None:
    """Issue 18 (found by tests/test_stream_differential.py: an overwrite of byte 6 with 0; a
    flip of byte 8). A file's reader goes by the central directory and reports (exit 1); the
    stream read the JSONL as its local header says and stopped at the data error: "Member
    'import.jsonl': the compressed data ends early (truncated archive?)" (zip-truncated), or
    "... is damaged (bzip2: Invalid data stream)" (zip-corrupt). Which header is right, it
    cannot tell before the directory: it reads on to it (keeping nothing else) and says
    ``stream-unreadable``, naming the member and what differs."""
    method, at, value = _JSONL_LOCAL_DAMAGE[damage]
    members = [("import.jsonl", _jsonl(), method), ("data/files/b.txt", b"x" * 100, 0)]
    archive = _local_field(raw_zip(members), 0, at, value)
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    assert validate(path).issues  # a report
    csize, usize = struct.unpack_from("<II", archive, archive.index(b"PK\x01\x02") + 20)
    for workers in (1, 2):
        found = stream_error(archive, workers=workers).issue
        assert found.code == "stream-unreadable", found
        said, directory = _JSONL_LOCAL_DIFFERS[damage]
        directory = directory.format(csize=csize, usize=usize)
        assert found.values == {"member": "import.jsonl", "found": said, "expected": directory}
        assert "its data, read as its local header" in found.message
        assert "Save the archive to a file first" in found.message


def _damaged_jsonl(layout: str) -> bytes:
    """A deflated JSONL whose data is damaged in its middle, both headers agreeing."""
    members = [("import.jsonl", _jsonl(), 8), ("data/files/b.txt", b"x" * 100, 0)]
    archive = raw_zip(members, layout)
    data = archive.index(b"import.jsonl") + len("import.jsonl")
    middle = data + (archive.index(b"PK", data) - data) // 2
    return archive[:middle] + bytes(200) + archive[middle + 200 :]


@pytest.mark.parametrize("layout", ["descriptor", "sizes"])
def test_a_jsonls_damaged_data_under_agreeing_headers_is_the_files_error(
    layout: str, tmp_path: Path
) -> None:
    """Issue 18: the stream reads on past a JSONL whose data fails to the central directory,
    which here agrees with its local header: the data error stands, as a file's reader
    gives it (exit 3)."""
    archive = _damaged_jsonl(layout)
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    with pytest.raises(ArchiveError) as from_file:
        validate(path)
    found = stream_error(archive).issue
    assert found.code in ("zip-corrupt", "zip-truncated"), found
    assert found == from_file.value.issue
    result = piped(path, "validate", "-")
    assert result.returncode == 3, result.stderr
    assert result.stderr.decode() == f"archivekit: {found.message}\n"


def test_a_jsonls_damaged_local_header_in_a_cut_download_is_an_incomplete_download(
    tmp_path: Path,
) -> None:
    """The stream read on past the JSONL's failed data and ended without a zip's end records
    (an incomplete download): what a file's reader meets first, the missing end (review 28:
    it said the data error, zip-corrupt), not ``stream-unreadable``."""
    method, at, value = _JSONL_LOCAL_DAMAGE["method-changed"]
    members = [("import.jsonl", _jsonl(), method), ("data/files/b.txt", b"x" * 5000, 0)]
    archive = _local_field(raw_zip(members), 0, at, value)
    whole = stream_error(archive).issue
    cut = archive[: archive.index(b"PK\x01\x02") - 100]
    found = stream_error(cut).issue
    assert (whole.code, found.code) == ("stream-unreadable", "zip-truncated"), found
    assert "incomplete download" in found.message
    assert _file_error(cut, tmp_path).issue.code == "zip-truncated"


def test_a_jsonl_cut_by_an_incomplete_download_says_so() -> None:
    """Cut inside the JSONL's data, its local header damaged or not: the stream ends there,
    and says the download is incomplete (nothing is left to read on to)."""
    lines = [version(), team("t"), channel("t", "c"), user("ann", ["t"])]
    lines += [post("t", "c", "ann", f"message {i}", T + i) for i in range(3000)]
    for method, at, value in [(8, 0, b"PK"), *_JSONL_LOCAL_DAMAGE.values()]:
        members = [("import.jsonl", _jsonl(lines), method), ("data/b.txt", b"x", 0)]
        archive = _local_field(raw_zip(members), 0, at, value)
        found = stream_error(archive[: archive.index(b"PK\x07\x08") // 2]).issue
        assert found.code in ("zip-truncated", "zip-corrupt"), found
        if method == 8 and at == 0:
            assert "incomplete download" in found.message, found


def test_reading_on_past_a_jsonls_failed_data_finds_a_large_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The central directory the stream reads on to may be far longer than what it keeps of
    its past (~1 MiB; 20,000 members, 1.6 MiB, here), and a zip stored whole as a member (an Office
    document) holds a directory and end records of its own: the stream finds the archive's,
    and reads in small chunks (a signature cut by a read) still finds it."""
    monkeypatch.setattr(stream_module, "_CHUNK", 4096)
    document = io.BytesIO()
    with zipfile.ZipFile(document, "w") as inner:
        inner.writestr("word/document.xml", "<w:document/>")
    files = [(f"data/files/{n:05}-a-long-enough-name.txt", b"", 0) for n in range(20_000)]
    members = [("import.jsonl", _jsonl(), 0), ("data/report.docx", document.getvalue(), 0)]
    good = raw_zip([*members, *files])
    directory = struct.unpack("<I", good[-6:-2])[0]  # its offset, in the end record
    assert good[directory : directory + 4] == b"PK\x01\x02"
    assert len(good) - directory > 3 << 19  # more than the ~1 MiB kept
    for method, at, value in _JSONL_LOCAL_DAMAGE.values():
        if method:
            continue
        archive = _local_field(good, 0, at, value)
        found = stream_error(archive).issue
        assert found.code == "stream-unreadable", found
        assert found.values["expected"] == "method 0"
    # The headers agreeing, the data error stands.
    data = good.index(b"import.jsonl") + len("import.jsonl")
    archive = _local_field(good, 0, 8, b"\x0c")  # bzip2 in both headers
    at = directory + 10
    archive = archive[:at] + b"\x0c" + archive[at + 1 :]
    assert archive[data : data + 1] == b"{"
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    with pytest.raises(ArchiveError) as from_file:
        validate(path)
    assert stream_error(archive).issue == from_file.value.issue


def test_reading_on_past_a_jsonls_failed_data_to_no_directory_or_another_jsonl() -> None:
    """Read on to the end past the JSONL's failed data: a damaged directory (its first
    header's signature) is the error a file's reader meets parsing it (review 28: it was
    ``stream-unreadable``, "no central directory could be read"), and a directory that
    imports another JSONL says so."""
    method, at, value = _JSONL_LOCAL_DAMAGE["method-changed"]
    members = [("import.jsonl", _jsonl(), method), ("a.jsonl", b"", 0)]
    archive = _local_field(raw_zip(members), 0, at, value)
    damaged = _central_field(archive, 0, 0, b"PK\x01\x00")
    found = stream_error(damaged).issue
    assert found.code == "zip-corrupt", found
    assert "The central directory lists 2 entries but only 0 could be read" in found.message
    other = _local_field(raw_zip(members, order=[1, 0]), 0, at, value)
    found = stream_error(other).issue
    assert found.code == "stream-unreadable", found
    assert found.values == {"member": "a.jsonl", "streamed": "import.jsonl"}


def test_a_jsonls_damaged_local_header_from_a_pipe_exits_3(tmp_path: Path) -> None:
    """`cat ARCHIVE | archivekit validate -` (one process and two): exit 3 and the
    ``stream-unreadable`` message, one line on standard error, nothing on standard output;
    the file itself gets a report (exit 1)."""
    method, at, value = _JSONL_LOCAL_DAMAGE["method-changed"]
    members = [("import.jsonl", _jsonl(), method), ("data/files/b.txt", b"x" * 100, 0)]
    path = tmp_path / "export.zip"
    path.write_bytes(_local_field(raw_zip(members), 0, at, value))
    from_file = subprocess.run(
        [sys.executable, "-m", "archivekit", "validate", str(path)],
        capture_output=True,
        env=_environment(),
        check=False,
    )
    assert from_file.returncode == 1, from_file.stderr
    for workers in ("1", "2"):
        result = piped(path, "validate", "-", "--workers", workers)
        assert result.returncode == 3, result.stderr
        assert result.stdout == b""
        message = result.stderr.decode()
        assert message.startswith("archivekit: Member 'import.jsonl': its data, read as its")
        assert "— method 12 — failed" in message
        assert "which a file's reader goes by, says method 0" in message
        assert "Save the archive to a file first" in message
        assert len(message.splitlines()) == 1


def _central_field(archive: bytes, member: int, at: int, value: bytes) -> bytes:
    """`archive` with `value` over byte `at` of the `member`-th central directory entry."""
    start = -1
    for _ in range(member + 1):
        start = archive.index(b"PK\x01\x02", start + 1)
    return archive[: start + at] + value + archive[start + at + len(value) :]


def _end_record_field(archive: bytes, at: int, value: bytes) -> bytes:
    """`archive` with `value` over byte `at` of its end of central directory record."""
    start = archive.rindex(b"PK\x05\x06")
    return archive[: start + at] + value + archive[start + at + len(value) :]


def _file_error(archive: bytes, tmp_path: Path, **options: Any) -> ArchiveError:
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    with pytest.raises(ArchiveError) as caught:
        validate(path, **options)
    return caught.value


_SMALL = ReadLimits(max_member_size=8 << 20, max_total_size=64 << 20)


def test_a_damaged_jsonl_then_a_cut_download_is_an_incomplete_download(tmp_path: Path) -> None:
    """Review 28: read on past a damaged JSONL, the stream meets the end of the download
    without a zip's end records, as a file's reader meets it first: "incomplete download"
    (it said the JSONL's damage)."""
    damaged = _damaged_jsonl("sizes")
    cut = damaged[: damaged.index(b"data/files/b.txt") + 40]
    assert _file_error(cut, tmp_path).issue.code == "zip-truncated"
    found = stream_error(cut).issue
    assert found.code == "zip-truncated"
    assert "incomplete download" in found.message


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda a: _end_record_field(a, 4, struct.pack("<H", 1)), id="other-disk"),
        pytest.param(lambda a: _end_record_field(a, 8, struct.pack("<HH", 3, 3)), id="count"),
    ],
)
def test_a_damaged_jsonl_then_damaged_end_records_or_directory_is_the_files_error(
    damage: Callable[[bytes], bytes], tmp_path: Path
) -> None:
    """Review 28: past a damaged JSONL, end records on another disk (zip-multidisk) or a
    directory that does not parse (3 entries listed, 2 there) are what a file's reader says
    first; the stream said the JSONL's damage, or that no directory could be read."""
    archive = damage(_damaged_jsonl("sizes"))
    assert stream_error(archive).issue == _file_error(archive, tmp_path).issue


@pytest.mark.parametrize(
    ("at", "value", "code"),
    [
        pytest.param(4, struct.pack("<H", 1), "zip-multidisk", id="other-disk"),
        pytest.param(12, struct.pack("<I", 1 << 30), "zip-corrupt", id="directory-too-long"),
        # Accepted, but the directory they lead to does not parse (3 entries said, 2 there).
        pytest.param(8, struct.pack("<HH", 3, 3), "zip-corrupt", id="entry-count"),
    ],
)
def test_a_member_that_leads_past_damaged_end_records_is_the_files_error(
    at: int, value: bytes, code: str, tmp_path: Path
) -> None:
    """A member whose local header's size leads the stream on to the end of its input,
    where end records a file's reader refuses lie (on another disk; a directory longer than
    what precedes it): a file's reader says that first; the stream said the download was cut
    short ("fetch the archive again", which would not help)."""
    members = [("import.jsonl", _jsonl(), 8), ("data/f.bin", b"x" * 4000, 8)]
    intact = raw_zip(members, "sizes")
    second = intact.index(b"PK\x03\x04", 1)  # its compressed size: past the end
    archive = intact[: second + 18] + struct.pack("<I", 1 << 24) + intact[second + 22 :]
    archive = _end_record_field(archive, at, value)
    found = stream_error(archive).issue
    assert found == _file_error(archive, tmp_path).issue
    assert found.code == code


@pytest.mark.parametrize(
    ("at", "value", "options"),
    [
        pytest.param(20, struct.pack("<I", 0x7FFFFFFF), {}, id="data-past-the-end"),
        pytest.param(24, struct.pack("<I", 9 << 20), {"read_limits": _SMALL}, id="too-large"),
        # Both: a file's reader meets the data past the end first, at open (review 28b).
        pytest.param(
            20,
            struct.pack("<II", 0x7FFFFFFF, 9 << 20),
            {"read_limits": _SMALL},
            id="past-the-end-and-too-large",
        ),
    ],
)
def test_a_jsonls_directory_sizes_are_checked_as_a_files_reader_does(
    at: int, value: bytes, options: dict[str, Any], tmp_path: Path
) -> None:
    """Review 28 (the first found by a long run of tests/test_stream_differential.py): the
    directory's compressed size puts the JSONL's data past the end of the file
    (zip-truncated), or its size is over the limit (member-too-large): a file's reader says
    so before it reads the JSONL; the stream said its sizes differ (stream-unreadable) or
    that it decompressed fewer bytes (zip-corrupt)."""
    intact = raw_zip([("import.jsonl", _jsonl(), 8), ("data/f.txt", b"x", 0)], "sizes")
    archive = _central_field(intact, 0, at, value)
    assert stream_error(archive, **options).issue == _file_error(archive, tmp_path, **options).issue


def test_a_jsonls_damaged_data_sized_alike_under_a_descriptor_flag_is_the_files_error(
    tmp_path: Path,
) -> None:
    """The JSONL's local header gives its sizes, its directory entry the same sizes and the
    data descriptor flag: a file's reader reads the same bytes by them, and the damage in
    them is its error (zip-corrupt); the stream said the headers differ (stream-unreadable)."""
    archive = _central_field(_damaged_jsonl("sizes"), 0, 8, struct.pack("<H", 8))
    found = stream_error(archive).issue
    assert found == _file_error(archive, tmp_path).issue
    assert found.code == "zip-corrupt"


@pytest.mark.parametrize(("layout", "refused"), [("descriptor", False), ("sizes", True)])
def test_a_jsonls_local_uncompressed_size_over_the_limit_counts_where_it_is_a_size(
    layout: str, refused: bool, tmp_path: Path
) -> None:
    """The JSONL's local header says 16 MiB uncompressed, over the limit; its directory entry
    is intact. With a data descriptor (no compressed size there) that field is no size: the
    stream reads the JSONL as a file's reader does, and gives its report (found by a long run
    of tests/test_stream_differential.py: it said member-too-large). With its sizes there,
    the stream refuses it on that word before its data (a stop of its own, documented in
    archivekit.read.stream); a file's reader goes by the directory's."""
    intact = raw_zip([("import.jsonl", _jsonl(), 8), ("data/f.txt", b"x", 0)], layout)
    archive = _local_field(intact, 0, 22, struct.pack("<I", 1 << 24))
    if refused:
        found = stream_error(archive, read_limits=_SMALL).issue
        assert found.code == "member-too-large"
        assert found.values["found"] == 1 << 24
        _file_report(archive, tmp_path, read_limits=_SMALL)  # a file's reader: a report
        return
    from_file, streamed = _reports(archive, tmp_path, read_limits=_SMALL)
    assert streamed == from_file


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param(ReadLimits(max_member_size=2 << 20), id="size"),
        pytest.param(ReadLimits(max_member_size=2 << 20, max_ratio=20), id="ratio-first"),
    ],
)
def test_a_descriptor_jsonl_stopped_by_a_limit_gets_the_directorys_declared_size(
    limits: ReadLimits, tmp_path: Path
) -> None:
    """Review 29c: a 3 MB JSONL written with a data descriptor (Go's layout: no sizes in its
    local header), over the member limit. A file's reader refuses the directory's declared
    size before reading ("declares 3,003,657 ..."); the stream, which cannot know it before
    the directory, met a limit while reading it ("expands more than 20 times"; or "more
    than ... came out"). It reads on to the directory, as past damage, and says the file's."""
    text = _jsonl()
    line = text.splitlines(keepends=True)[-1]
    members = [("import.jsonl", text + line * (3_000_000 // len(line)), 8), ("data/f", b"x", 0)]
    archive = raw_zip(members)
    found = stream_error(archive, read_limits=limits, workers=1).issue
    assert found == _file_error(archive, tmp_path, read_limits=limits).issue
    assert found.code == "member-too-large"
    assert "declares" in found.message
    # Its directory declaring 5,000 bytes, under the limit (review 29d): a file's reader
    # meets more data than declared first, the stream having read past that size too.
    archive = _central_field(archive, 0, 24, struct.pack("<I", 5000))
    found = stream_error(archive, read_limits=limits, workers=1).issue
    assert found == _file_error(archive, tmp_path, read_limits=limits).issue
    assert "more data than the 5,000 bytes" in found.message


@pytest.mark.parametrize(
    ("at", "value", "options"),
    [
        pytest.param(24, struct.pack("<I", 4000), {"read_limits": ReadLimits(3000)}, id="limit"),
        pytest.param(20, struct.pack("<I", 1 << 20), {}, id="data-past-the-end"),
    ],
)
def test_a_jsonls_damaged_data_read_on_gets_the_checks_before_reading(
    at: int, value: bytes, options: dict[str, Any], tmp_path: Path
) -> None:
    """Review 29b: past a JSONL's damaged data (written with a data descriptor, both headers
    agreeing), a file's reader checks the directory's sizes before it reads a byte: declared
    over the limit (member-too-large), its data past the end of the file (zip-truncated).
    The stream, reading on to the directory, said the damage."""
    archive = _central_field(_damaged_jsonl("descriptor"), 0, at, value)
    found = stream_error(archive, **options).issue
    assert found == _file_error(archive, tmp_path, **options).issue
    assert found.code in ("member-too-large", "zip-truncated")


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        # Its size put the directory's start long before the bytes the stream keeps.
        pytest.param(lambda size, count: (12, struct.pack("<I", size + 100_000)), None, id="size"),
        pytest.param(
            lambda size, count: (8, struct.pack("<HH", count + 1, count + 1)),
            "zip-corrupt",
            id="count",
        ),
    ],
)
def test_damaged_end_records_after_members_that_end_at_the_directory(
    damage: Callable[[int, int], tuple[int, bytes]], code: str | None, tmp_path: Path
) -> None:
    """Review 29b: the members end where the central directory begins; only the end records
    are damaged. Where the directory they give lies in the bytes the stream keeps (its entry
    count), the parse's error, as a file's reader gives it; where it lies before them (its
    size), the stream cannot tell what a file's reader finds there (review 29c: a copy of a
    directory in an attachment's data may be one it reads): stream-unreadable. It said it
    had read into the directory, then (29b) the parse of the bytes it kept."""
    big = random.Random(1).randbytes(150_000)
    members = [("import.jsonl", _jsonl(), 8), ("data/big.bin", big, 0), ("data/f.txt", b"x", 0)]
    archive = raw_zip(members)
    count, size = struct.unpack_from("<HI", archive, archive.rindex(b"PK\x05\x06") + 10)
    archive = _end_record_field(archive, *damage(size, count))
    found = stream_error(archive).issue
    if code is None:
        assert _file_error(archive, tmp_path).issue.code == "zip-corrupt"
        assert found.code == "stream-unreadable"
        assert "point before the last bytes it keeps" in found.message
        return
    assert found == _file_error(archive, tmp_path).issue
    assert found.code == code


def test_a_member_leading_onto_a_later_header_of_a_long_directory_cannot_tell(
    tmp_path: Path,
) -> None:
    """Review 29c: a member's local size leads the stream exactly onto the third header of a
    central directory longer than the bytes it keeps (entries with 40,000-byte comments).
    A file's reader gives a report; the stream parsed the directory without its start and
    said it was damaged (zip-corrupt). It cannot tell: stream-unreadable."""
    big = random.Random(1).randbytes(20_000)
    members = [("import.jsonl", _jsonl(), 8), ("data/a.bin", big, 0), ("data/x.txt", b"x" * 300, 0)]
    intact = _with_entry_comments(raw_zip(members, "sizes"), 40_000)
    x_data = intact.index(b"data/x.txt") + len("data/x.txt")  # its local header's name's end
    to_third = intact.rindex(b"PK\x01\x02") - x_data
    archive = _local_field(intact, 2, 18, struct.pack("<I", to_third))
    _file_report(archive, tmp_path)  # a file's reader: a report
    assert stream_error(archive).issue.code == "stream-unreadable"


def test_a_jsonls_data_ending_early_after_the_stream_was_read_to_its_end_is_the_files_error(
    tmp_path: Path,
) -> None:
    """Review 29: a stored attachment written with a data descriptor and damaged (the scan
    for its descriptor reads the small stream to its end), then the JSONL, its compressed
    size 10 bytes short in both headers: its data ends early (zip-truncated), as a file's
    reader says. The stream took its input's end for the place where its headers had led it
    and said they led it astray (stream-unreadable)."""
    intact = raw_zip([("data/files/b.txt", b"a" * 1000, 0), ("import.jsonl", _jsonl(), 8)])
    damaged = intact[:546] + b"Z" + intact[547:]  # in b.txt's data (from byte 46)
    entry = damaged.rindex(b"PK\x01\x02")  # the JSONL's directory entry
    crc, csize, usize = struct.unpack_from("<III", damaged, entry + 16)
    short = csize - 10
    archive = _local_field(damaged, 1, 6, struct.pack("<H", 0))  # no data descriptor ...
    archive = _local_field(archive, 1, 14, struct.pack("<III", crc, short, usize))  # sizes
    archive = _central_field(archive, 1, 8, struct.pack("<H", 0))
    archive = _central_field(archive, 1, 20, struct.pack("<I", short))
    found = stream_error(archive).issue
    assert found == _file_error(archive, tmp_path).issue
    assert found.code == "zip-truncated"


def _zip64_end_records(archive: bytes, comment: int) -> bytes:
    """`archive` (`raw_zip`'s) ending in zip64 end records (the end record's directory
    offset 0xFFFFFFFF) and an end-record comment of `comment` bytes."""
    end = archive.rindex(b"PK\x05\x06")
    here, total, size, offset = struct.unpack_from("<HHII", archive, end + 8)
    record = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, here, total, size, offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, end, 1)
    record_end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, here, total, size, 0xFFFFFFFF, comment
    )
    return archive[:end] + record + locator + record_end + b"z" * comment


def _with_entry_comments(archive: bytes, comment: int) -> bytes:
    """`archive` (`raw_zip`'s: no extra fields or comments) with a comment of `comment`
    bytes on every central directory entry."""
    start, end = archive.index(b"PK\x01\x02"), archive.rindex(b"PK\x05\x06")
    entries = bytearray()
    at = start
    while at < end:
        length = 46 + struct.unpack_from("<H", archive, at + 28)[0]
        entry = bytearray(archive[at : at + length])
        struct.pack_into("<H", entry, 32, comment)
        entries += entry + b"c" * comment
        at += length
    record_end = bytearray(archive[end:])
    struct.pack_into("<I", record_end, 12, len(entries))
    return archive[:start] + bytes(entries) + bytes(record_end)


def _file_report(archive: bytes, tmp_path: Path, **options: Any) -> str:
    """The JSON report of `archive` read as a file (its path as "X")."""
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    return report_json(validate(path, **options)).replace(str(path), "X")


def _reports(archive: bytes, tmp_path: Path, **options: Any) -> tuple[str, str]:
    """The JSON reports of `archive` read as a file and from a pipe (each path as "X")."""
    from_file = _file_report(archive, tmp_path, **options)
    with fed(archive) as piped_path:
        streamed = report_json(validate(piped_path, **options)).replace(str(piped_path), "X")
    return from_file, streamed


@pytest.mark.parametrize("comment", [0, 65_500, 0xFFFF])
def test_zip64_end_records_behind_a_long_comment_are_in_a_streams_tail(
    comment: int, tmp_path: Path
) -> None:
    """Review 29: the stream kept the last 64 KiB + 22 bytes as its tail, where a file's
    reader looks for the end record; behind a long comment, the zip64 records before it
    fell outside. A member whose local size led the stream past the end then met them as
    damaged (zip-corrupt, the file gives a report) or crashed (struct.error, exit 4). The
    tail holds them now: the stream's own stop (stream-unreadable), and, intact, the
    file's report."""
    members = [("import.jsonl", _jsonl(), 8), ("data/f.bin", b"x" * 4000, 8)]
    intact = _zip64_end_records(raw_zip(members, "sizes"), comment)
    from_file, streamed = _reports(intact, tmp_path)
    assert streamed == from_file
    damaged = _local_field(intact, 1, 18, struct.pack("<I", 1 << 24))  # past the end
    _file_report(damaged, tmp_path)  # a file's reader: a report
    assert stream_error(damaged).issue.code == "stream-unreadable"


def _zip64_locator_pointing_at(archive: bytes, record_offset: int) -> bytes:
    """`_zip64_end_records`'s `archive` with its locator's record offset made another."""
    locator = archive.rindex(b"PK\x06\x07")
    return archive[: locator + 8] + struct.pack("<Q", record_offset) + archive[locator + 16 :]


@pytest.mark.parametrize("record_offset", [0, 1 << 62, (1 << 64) - 1])
def test_a_zip64_locator_pointing_elsewhere_is_damage_from_a_file_or_a_stream(
    record_offset: int, tmp_path: Path
) -> None:
    """Review 29b: the zip64 locator's record offset made 0 (a local header there), 2**62 or
    2**64 - 1. A file's reader said of the last "internal error" (OverflowError, exit 4)
    and of 2**62 that the file cannot be read (check permissions); a stream failed as
    oddly. Go's reader cannot read a record there: a damaged zip64 record for both."""
    members = [("import.jsonl", _jsonl(), 8), ("data/f.txt", b"x", 0)]
    archive = _zip64_locator_pointing_at(_zip64_end_records(raw_zip(members), 0), record_offset)
    found = stream_error(archive).issue
    assert found == _file_error(archive, tmp_path).issue
    assert found.code == "zip-corrupt"


def test_a_member_leading_past_end_records_that_point_before_the_kept_tail_cannot_tell(
    tmp_path: Path,
) -> None:
    """Review 29b: a member's local size leads the stream past the end; the zip64 locator
    points at offset 0, long before the last bytes the stream keeps. A file's reader finds
    no zip64 record there (zip-corrupt); the stream did not keep those bytes (it knows only
    that a local header begins there) and cannot tell (stream-unreadable), where it said the
    download was cut short ("fetch the archive again")."""
    members = [
        ("import.jsonl", _jsonl(), 8),
        ("data/big.bin", random.Random(1).randbytes(150_000), 0),
        ("data/x.txt", b"x" * 300, 8),
    ]
    intact = _zip64_end_records(raw_zip(members, "sizes"), 0)
    archive = _local_field(_zip64_locator_pointing_at(intact, 0), 2, 18, struct.pack("<I", 1 << 20))
    assert _file_error(archive, tmp_path).issue.code == "zip-corrupt"
    found = stream_error(archive).issue
    assert found.code == "stream-unreadable"
    assert "cannot tell" in found.message


def test_a_stream_led_into_its_central_directory_says_it_cannot_tell(tmp_path: Path) -> None:
    """Review 29: a member's local size led the stream more than 64 KiB into the central
    directory (its entries have long comments), which it then parsed from there without
    its start: "lists 2 entries but only 0 could be read" (zip-corrupt), where a file's
    reader gives a report. The stream cannot tell: stream-unreadable."""
    members = [("data/a.txt", b"a" * 100, 0), ("import.jsonl", _jsonl(), 8)]
    intact = _with_entry_comments(raw_zip(members, "sizes"), 0xFFFF)
    landing = intact.index(b"PK\x01\x02") + 0x10000 + 2000  # in the second entry's comment
    archive = _local_field(intact, 0, 18, struct.pack("<I", landing - 30 - len("data/a.txt")))
    _file_report(archive, tmp_path)  # a file's reader: a report
    found = stream_error(archive).issue
    assert found.code == "stream-unreadable"
    assert "read into its central directory" in found.message


def _jsonl_not_met(layout: str) -> bytes:
    """The directory's JSONL is the second member, whose local header's name the stream
    does not take for a root JSONL."""
    members = [("data/files/b.txt", b"x" * 100, 0), ("import.jsonl", _jsonl(), 8)]
    archive = raw_zip(members, layout)
    local = archive.index(b"import.jsonl")
    return archive[:local] + b"import.jsonX" + archive[local + len("import.jsonX") :]


@pytest.mark.parametrize(
    "situation",
    [
        pytest.param(
            (lambda: raw_zip([("import.jsonl", _jsonl(), 8), ("data/f.txt", b"x", 0)]), 0),
            id="read-whole",
        ),
        pytest.param((lambda: _damaged_jsonl("sizes"), 0), id="read-on-past-damage"),
        pytest.param((lambda: _jsonl_not_met("sizes"), 1), id="none-met"),
    ],
)
@pytest.mark.parametrize(
    ("where", "method", "code"),
    [
        pytest.param(lambda size: 0x7FFFFFF0, 8, "zip-corrupt", id="outside-the-file"),
        pytest.param(lambda size: size - 10, 8, "zip-truncated", id="header-cut-by-the-end"),
        pytest.param(lambda size: 0x7FFFFFF0, 99, "jsonl-unsupported-compression", id="method"),
    ],
)
def test_a_jsonl_the_directory_puts_where_no_header_can_be_is_the_files_error(
    situation: tuple[Callable[[], bytes], int],
    where: Callable[[int], int],
    method: int,
    code: str,
    tmp_path: Path,
) -> None:
    """The directory's JSONL begins elsewhere than the stream read one, where a file's reader
    tells what is wrong before it reads a byte there (in its order: the method, then the
    offset outside the file or the header cut by its end): the stream says the same, not
    that it read another JSONL (stream-unreadable), whether it read the JSONL whole, read on
    past its damaged data, or met none."""
    build, entry = situation  # the JSONL's entry in the directory
    archive = build()
    archive = _central_field(archive, entry, 10, struct.pack("<H", method))
    archive = _central_field(archive, entry, 42, struct.pack("<I", where(len(archive))))
    found = stream_error(archive).issue
    assert found == _file_error(archive, tmp_path).issue
    assert found.code == code


def test_data_dense_with_directory_signatures_after_a_damaged_jsonl_is_read_on_in_linear_time(
    tmp_path: Path,
) -> None:
    """Review 28: every "PK\1\2" in the data after a damaged JSONL was taken as a directory
    header and put back (up to ~192 KiB copied each): a MiB of them took 21 s (0.65 s now).
    The verdict, on 256 KiB of them: the local header's method against the directory's."""
    packed = raw_zip(
        [("import.jsonl", _jsonl(), 8), ("data/files/b.bin", b"PK\x01\x02" * 65536, 0)]
    )
    archive = packed[:8] + b"\x0c" + packed[9:]  # the JSONL's local method 8 made 12
    found = stream_error(archive).issue
    assert found.code == "stream-unreadable"
    assert found.values == {"member": "import.jsonl", "found": "method 12", "expected": "method 8"}


def test_a_jsonls_compressed_size_is_held_to_the_directorys() -> None:
    """Issue 18 (found by tests/test_stream_differential.py, a long run): the JSONL's sizes
    in its local header, the directory's compressed size one byte short. A file's reader
    reads that many bytes (its deflate stream then ends early); the stream read the local
    header's and gave a report: ``stream-unreadable``."""
    members = [("import.jsonl", _jsonl(), 8), ("data/files/b.txt", b"x" * 100, 0)]
    good = raw_zip(members, "sizes")
    csize = struct.unpack_from("<I", good, good.index(b"PK\x01\x02") + 20)[0]
    archive = _central_field(good, 0, 20, struct.pack("<I", csize - 1))
    found = stream_error(archive).issue
    assert found.code == "stream-unreadable", found
    assert found.values == {
        "member": "import.jsonl",
        "found": csize,
        "expected": csize - 1,
        "unit": "bytes",
    }


def test_a_measured_members_compressed_size_is_held_to_the_directorys(tmp_path: Path) -> None:
    """Found by tests/test_stream_differential.py (a long run: a profile image, deflated,
    sizes in its local header, the directory's compressed size changed). A file's reader
    reads the directory's size of compressed data (here one byte short: no dimensions, or
    with --verify-files a damaged file); the stream measured what the local header
    delimited: ``stream-unreadable``."""
    lines = [version(), team("tt"), channel("tt", "c"), user("ann", ["tt"])]
    lines.append(post("tt", "c", "ann", "big", T, attachments=["big.png"]))
    members = [("import.jsonl", _jsonl(lines), 8), ("data/big.png", png_bytes(7000, 6000), 8)]
    good = raw_zip(members, "sizes")
    at = good.index(b"PK\x01\x02", good.index(b"PK\x01\x02") + 1)
    csize = struct.unpack_from("<I", good, at + 20)[0]
    archive = _central_field(good, 1, 20, struct.pack("<I", csize - 1))
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    validate(path, verify_files=True)  # the file's reader: a report
    assert stream_error(archive, verify_files=True).issue.code == "stream-unreadable"


def _overflowing(archive: bytes, member: int) -> bytes:
    """`archive` (sizes in the local headers) with the deflated data of its `member`-th
    member replaced by as many bytes of a deflate stream that does not end there and
    decompresses to more than the member's size."""
    start = -1
    for _ in range(member + 1):
        start = archive.index(b"PK\x03\x04", start + 1)
    csize, _size, name, extra = struct.unpack_from("<IIHH", archive, start + 18)
    data = start + 30 + name + extra
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = compressor.compress(b'{"a":1}\n' * 100_000) + compressor.flush(zlib.Z_SYNC_FLUSH)
    stream += b"\x00\x00\x00\xff\xff" * max(0, (csize - len(stream)) // 5 + 1)  # empty blocks
    return archive[:data] + stream[:csize] + archive[data + csize :]


def test_a_verified_member_that_overflows_its_size_is_more_data_as_from_a_file(
    tmp_path: Path,
) -> None:
    """Issue 18 (found by tests/test_stream_differential.py, a long run, on the JSONL): a
    member whose compressed data decompresses to more than its size and does not end
    within it. A file's reader stops once past the size ("holds more data than ... its
    header declares"); the stream read the data to its end and noted "ends early": the
    verified reports differed. The note of data that ends early after more than the
    directory's size is, for the checks, the file's error."""
    members = [("import.jsonl", _jsonl(), 8), ("data/files/b.txt", b"some text\n" * 400, 8)]
    archive = _overflowing(raw_zip(members, "sizes"), 1)
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    from_file = validate(path, verify_files=True).issues
    with fed(archive) as piped:
        assert validate(piped, verify_files=True).issues == from_file
    assert "holds more data than the 4,000 bytes" in " ".join(i.message for i in from_file)


def test_a_jsonl_that_overflows_its_size_is_more_data_as_from_a_file(tmp_path: Path) -> None:
    """Found by tests/test_stream_differential.py (a long run: an overwrite in a JSONL
    sized in its local header). A file's reader: "Member 'import.jsonl' holds more data
    than the N bytes its header declares" (zip-corrupt); the stream: "the compressed data
    ends early" (zip-truncated). Once the directory is read (`_held_after_damage`) and
    agrees with the local header, the stream tells, as `_damage` does for the other
    members."""
    members = [("import.jsonl", _jsonl(), 8), ("data/files/b.txt", b"x" * 100, 0)]
    archive = _overflowing(raw_zip(members, "sizes"), 0)
    path = tmp_path / "export.zip"
    path.write_bytes(archive)
    with pytest.raises(ArchiveError) as from_file:
        validate(path)
    assert "holds more data" in from_file.value.issue.message
    assert stream_error(archive).issue == from_file.value.issue


def test_a_stream_cut_inside_its_central_directory_is_an_incomplete_download() -> None:
    # The last member is longer than the end record's reach: the stream's copy of its tail
    # (what a file's reader would search) begins inside that member's data.
    last = bytes(range(256)) * 1024
    archive = raw_zip([("import.jsonl", _jsonl(), 8), ("data/f.bin", last, 0)])
    directory = archive.rindex(b"PK\x01\x02")  # the last central directory entry
    for cut in (directory + 10, len(archive) - 10):
        found = stream_error(archive[:cut]).issue
        assert found.code == "zip-truncated", (cut, found)
        assert "incomplete download" in found.message


def test_a_central_directory_choosing_another_jsonl_stops_the_stream() -> None:
    members = [("import.jsonl", _jsonl(), 8), ("other.jsonl", b"", 0)]
    found = stream_error(raw_zip(members, order=[1, 0])).issue
    assert found.code == "stream-unreadable"
    assert "'other.jsonl'" in found.message
    assert "'import.jsonl'" in found.message


def test_a_prefixed_or_foreign_stream_is_not_a_zip() -> None:
    archive = raw_zip([("import.jsonl", _jsonl(), 8)])
    found = stream_error(b"#!/bin/sh\nexit 0\n" + archive).issue
    assert found.code == "not-a-zip"
    assert "self-extracting" in found.message
    assert stream_error(b"").issue.code == "not-a-zip"


def test_no_root_jsonl_is_jsonl_missing_as_for_a_file(tmp_path: Path) -> None:
    archive = raw_zip([("sub/import.jsonl", _jsonl(), 8), ("data/f.txt", b"x", 0)])
    found = stream_error(archive).issue
    path = tmp_path / "x.zip"
    path.write_bytes(archive)
    with pytest.raises(ArchiveError) as from_file:
        validate(path)
    assert found == from_file.value.issue


def test_closing_a_stream_its_writer_still_holds_does_not_wait_for_the_writer() -> None:
    """The input is read ahead by a thread. Closed while that thread waits for the writer,
    the stream returns at once; the thread closes the input when its read returns (not the
    closing thread: a descriptor closed under a read may be another file's by the next)."""
    archive = raw_zip([("import.jsonl", _jsonl(), 8), ("data/f.txt", b"x", 0)])
    read, write = os.pipe()
    os.write(write, archive[: len(archive) // 2])
    try:
        with RunDirectory() as run:
            stream = open_stream(f"/dev/fd/{read}", run=run)
            raw = stream._in._raw
            started = time.monotonic()
            stream.close()
            assert time.monotonic() - started < 1
        os.close(write)  # the writer goes: the waiting read returns
        write = -1
        deadline = time.monotonic() + 10
        while not raw.closed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert raw.closed
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


@pytest.mark.parametrize("comment", [b"", b"made by hand", b"c" * 0xFFFF])
def test_an_empty_zip_is_jsonl_missing_as_for_a_file(comment: bytes, tmp_path: Path) -> None:
    """A stream that is only an end record (with its comment) is an empty zip, which the
    stream can tell: it says what a file says, not that a stream cannot read it."""
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as empty:
        empty.comment = comment
    found = stream_error(path.read_bytes()).issue
    with pytest.raises(ArchiveError) as from_file:
        validate(path)
    assert found == from_file.value.issue
    assert found.code == "jsonl-missing"
    # More than an end record and its comment: not an empty zip, and a stream cannot tell.
    longer = stream_error(path.read_bytes() + b"x" * (0x10000 + 22 - len(comment))).issue
    assert longer.code == "stream-unreadable"


def test_a_bare_jsonl_on_standard_input_is_validated_as_a_bare_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "import.jsonl"
    path.write_bytes(_jsonl())
    report = validate(path)
    result = subprocess.run(
        [sys.executable, "-m", "archivekit", "validate", "-", "--format", "json"],
        input=_jsonl(),
        capture_output=True,
        env=_environment(),
        check=False,
    )
    got = json.loads(result.stdout)
    assert got["jsonl"] == "-"
    assert [i["code"] for i in got["issues"]] == [i.code for i in report.issues]
    assert got["lines"] == report.lines


def test_standard_input_from_a_file_is_read_as_a_file() -> None:
    with SAMPLES[0].open("rb") as archive:
        result = subprocess.run(
            [sys.executable, "-m", "archivekit", "validate", "-", "--format", "json"],
            stdin=archive,
            capture_output=True,
            env=_environment(),
            check=False,
        )
    assert json.loads(result.stdout)["archive"] == "-"
    assert result.returncode in (0, 1), result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["inspect", "-", "--by", "channel"],
        ["report", "-", "-o", "{out}/page.html"],
        ["filter", "-", "-o", "{out}/some.zip"],
        ["split", "-", "-o", "{out}/parts", "--max-bytes", "1MB"],
        ["merge", str(SAMPLES[0]), "-", "-o", "{out}/all.zip"],
        ["redact", "-", "-o", "{out}/redacted.zip"],
        ["fix", "-", "-o", "{out}/fixed.zip"],
        ["reconcile", "-", str(SAMPLES[0])],
    ],
    ids=lambda command: command[0] + (" --by" if "--by" in command else ""),
)
def test_commands_that_read_twice_say_a_stream_needs_saving(
    command: list[str], tmp_path: Path
) -> None:
    """These read an archive more than once (or need its central directory first): from a
    pipe they stop before writing anything, exit 3, and say to save the file first."""
    args = [part.format(out=tmp_path) for part in command]
    result = piped(SAMPLES[-1], *args)
    assert result.returncode == 3, result.stderr
    assert b"is a pipe or another stream, which can be read only once" in result.stderr
    if command[0] == "report":  # says why it needs a file
        assert b"`report` needs the archive as a file (seekable): after" in result.stderr
    else:
        assert b"only `validate` and `inspect` without --by read a stream" in result.stderr
    assert b"Save the archive to a file first" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def _stopped_stalled(data: bytes, tmp_path: Path, ready: Callable[[int], bool]) -> None:
    """`archivekit validate -` fed `data`, then stalled: once `ready(pid)`, SIGTERM ends the
    run at once, exit 143, no temporary file left."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "archivekit", "validate", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**_environment(), "TMPDIR": str(temporary)},
    )
    assert process.stdin is not None
    process.stdin.write(data)
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not ready(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    try:
        # Not a measure of speed (it ends in well under a second): a run held up by its
        # reader waits for the stalled pipe for ever — as 1 run in 10 to 20 did while the
        # input thread could take the SIGTERM (before runtime.start_thread).
        assert process.wait(timeout=30) == 143
    finally:
        process.kill()
        process.wait()  # reaped here, not reported as still running by a later test
        process.stdin.close()
        assert process.stderr is not None
        process.stderr.close()
    assert list(temporary.iterdir()) == []


def test_sigterm_stops_a_stalled_stream_and_cleans_up(tmp_path: Path) -> None:
    """A download that stalls mid-JSONL: SIGTERM still ends the run at once (the reader
    thread blocked on the pipe does not hold it up), exit 143, no temporary file left."""

    def reading(pid: int) -> bool:
        return len(list(Path(f"/proc/{pid}/task").iterdir())) >= 2  # the reader thread

    _stopped_stalled(SAMPLES[0].read_bytes()[:3000], tmp_path, reading)


def test_sigterm_stops_a_stream_read_on_past_a_failed_jsonl(tmp_path: Path) -> None:
    """The JSONL's local header damaged, its data fails: the stream reads on to the central
    directory (it does not stop at the damage, but waits for the rest of a download that
    stalls there), and SIGTERM still ends the run at once."""
    method, at, value = _JSONL_LOCAL_DAMAGE["method-changed"]
    members = [("import.jsonl", _jsonl(), method), ("data/files/b.txt", b"x" * 200_000, 0)]
    archive = _local_field(raw_zip(members), 0, at, value)
    started = time.monotonic()

    def waiting(pid: int) -> bool:  # read on, not stopped: still running after a while
        return time.monotonic() - started > 2 and Path(f"/proc/{pid}").exists()

    _stopped_stalled(archive[: archive.index(b"data/files/b.txt") + 100_000], tmp_path, waiting)
