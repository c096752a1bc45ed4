"""The compact member index (archivekit/read/_zipindex.c, archivekit/read/members.py) held to
the reference parser (`zipdir.read_central_directory`, one `MemberInfo` per entry).

For every archive here both readers must give the same entries, the same entry for every key
the server could look up (the last of duplicates, NFC keys, aliases such as KELVIN SIGN -> K),
the same counts over a referenced bitmap, and the same archive-level issues. And the index
must stay within 250 bytes per entry, its name included, for export-shaped names.
"""

from __future__ import annotations

import importlib.util
import os
import random
import re
import struct
import unicodedata
import zipfile
from array import array
from pathlib import Path
from typing import Any

import pytest
from conftest import require_sanitizers, run_sanitized, sanitized_build
from test_reader_zipmaker import Entry, build_zip

from archivekit.check.archive import archive_issues, member_issues
from archivekit.read import members as members_module
from archivekit.read import open_archive
from archivekit.read.members import ListIndex, MemberIndex, NativeIndex, read_member_index
from archivekit.read.zipdir import read_central_directory

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "sample_exports").glob("*.zip"))
REAL = REPO / "tests" / "fixtures" / "mattermost-server-tests-import_test.zip"
JSONL = b'{"type":"version","version":1}\n'
S_IFLNK = 0o120000
PURE_PYTHON = bool(os.environ.get("ARCHIVEKIT_PURE_PYTHON"))
NFC_TABLE_SCRIPT = REPO / "scripts" / "nfc_safe_table.py"

needs_native = pytest.mark.skipif(
    members_module.NATIVE is None, reason="archivekit.read._zipindex is not loaded"
)


@pytest.mark.skipif(PURE_PYTHON, reason="ARCHIVEKIT_PURE_PYTHON is set: the C index is off")
def test_the_c_index_is_built_from_the_current_source() -> None:
    import hashlib

    assert members_module.NATIVE is not None, "archivekit.read._zipindex was not built"
    source = (REPO / "archivekit" / "read" / "_zipindex.c").read_bytes()
    header = (REPO / "archivekit" / "read" / "_memberindex.h").read_bytes()
    assert hashlib.sha256(source + header).hexdigest() == members_module.NATIVE.SOURCE_SHA256, (
        "archivekit/read/_zipindex.c changed since the extension was built: run `make test`"
    )


def _entries() -> list[Entry]:
    nfd = unicodedata.normalize("NFD", "data/café.txt")
    return [
        Entry("import.jsonl", JSONL),
        Entry("data/", b"", method=0),
        Entry("data/a.txt", b"a"),
        Entry("data/a.txt", b"second a", method=0),  # a duplicate: the last wins
        Entry("data/b.bin", b"b" * 100, method=12),  # bzip2: unreadable for the server
        Entry("data/enc.txt", b"e", flags=1),
        Entry(nfd, b"nfd"),
        Entry("data/café.txt", b"nfc"),  # the same key as the NFD name
        Entry("data/\u212a.txt", b"kelvin"),  # NFC: data/K.txt
        Entry("data/K.txt", b"K"),  # shadows the Kelvin sign's alias
        Entry("data/\u212b.txt", b"angstrom"),  # NFC: data/Å.txt (non-ASCII key)
        Entry("data/link", b"/etc/passwd", method=0, external_attr=(S_IFLNK | 0o777) << 16),
        Entry("C:\\x", b"x"),
        Entry("/abs", b"x"),
        Entry("data/../up", b"x"),
        Entry("data/zip64.txt", b"z" * 10, zip64=True),
        Entry("outside/notes.txt", b"o"),
        Entry("warnings.txt", b"w"),
        Entry("nested/old.jsonl", JSONL),
        Entry("data/日本語.png", b"jp"),
    ]


def corpus(tmp_path: Path) -> list[Path]:
    paths = [*SAMPLES, REAL]
    entries = _entries()
    for name, data in [
        ("mixed.zip", build_zip(entries)),
        ("reversed.zip", build_zip([entries[0], *reversed(entries[1:])])),
        ("prefixed.zip", b"#!/bin/sh\nexit 0\n" + build_zip(entries)),
        ("comment.zip", build_zip(entries, comment=b"a comment")),
        ("zip64end.zip", build_zip(entries, zip64_end=True)),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(path)
    # A name that is not UTF-8 (cp437 for display, never found by a JSONL path).
    raw = build_zip([Entry("import.jsonl", JSONL), Entry("data/XX.txt", b"x")])
    path = tmp_path / "cp437.zip"
    path.write_bytes(raw.replace(b"data/XX.txt", b"data/\xff\xfe.txt"))
    paths.append(path)
    names = tmp_path / "names.zip"
    names.write_bytes(names_zip())
    paths.append(names)
    descriptors = tmp_path / "descriptors.zip"
    descriptors.write_bytes(build_zip(_described()))
    paths.append(descriptors)
    return paths


def _described() -> list[Entry]:
    """Stored members written with data descriptors whose data holds "PK": signatures of
    descriptors and headers, and what looks like a member's end with the wrong CRC-32 (a
    stream's pass scans each for its end: `walk_members`)."""
    fake = b"0123456789" + struct.pack("<4sIII", b"PK\x07\x08", 1, 10, 10) + b"PK\x03\x04"
    datas = [b"xPK\x07\x08y", b"PK\x03\x04" + b"z" * 40, b"PK" * 30, fake, b"PK\x01\x02" * 9]
    return [Entry("import.jsonl", JSONL)] + [
        Entry(f"data/d{i}-{layout}.bin", data, method=0, data_descriptor=True, descriptor=layout)
        for i, data in enumerate(datas)
        for layout in ("signed", "unsigned", "64")
    ]


def names_zip() -> bytes:
    """Non-ASCII names of every kind the index tells apart: NFC (its own key), NFD and mixed
    (keyed in Python), NFC but not vouched for by the quick check, U+202F of macOS screenshot
    names, names that are not UTF-8 (with and without the UTF-8 flag), and duplicates across
    the kinds in both orders."""
    nfd = unicodedata.normalize
    entries = [
        Entry("import.jsonl", JSONL),
        Entry("data/Übersicht/", b"", method=0),
        Entry("data/Übersicht-report.pdf", b"1"),
        Entry("data/Screenshot 2026-01-01 at 10.00.00\u202fAM.png", b"2"),
        Entry(nfd("NFD", "data/Übersicht-notes.txt"), b"3"),
        Entry("data/Übersicht-notes.txt", b"4"),  # shadows the NFD name (a key-apart entry)
        Entry("data/naïve.txt", b"5"),
        Entry(nfd("NFD", "data/naïve.txt"), b"6"),  # its alias shadows the NFC name
        Entry("data/Über" + nfd("NFD", "é") + ".txt", b"7"),  # mixed
        Entry("data/q\u0301.txt", b"8"),  # NFC, but a combining mark: keyed in Python
        Entry("data/\u1100\u1161.txt", b"9"),  # conjoining jamo: NFC is data/가.txt
        Entry("data/가.txt", b"10"),
        Entry("data/日本語/写真.jpg", b"11"),
        Entry("data/\u2000.txt", b"12"),  # EN QUAD: NFC is EN SPACE
        Entry("data/Ångström\u212b.txt", b"13"),
        Entry("data/emoji-\U0001f600.png", b"14"),
        Entry("outside/Übersicht.txt", b"15"),
        Entry("data/P1.txt", b"16"),  # UTF-8 without the flag: data/é.txt
        Entry("data/é.txt", b"17"),
        Entry("data/P2PP.txt", b"18"),  # cp437 data/über.txt: no key, no JSONL path finds it
        Entry("data/über.txt", b"19"),  # a key of its own: not a duplicate of the one above
        Entry("data/P3.txt", b"20", flags=0x800),  # not UTF-8 despite the flag
        Entry("data/P4P.txt", b"21"),  # an encoded surrogate
        Entry("data/P5P.txt", b"22"),  # an overlong '/'
        Entry("data/P6PP.txt", b"23"),  # beyond U+10FFFF
    ]
    data = build_zip(entries)
    for placeholder, raw in [
        (b"P1", b"\xc3\xa9"),
        (b"P2PP", b"\x81ber"),
        (b"P3", b"\xc3\x28"),
        (b"P4P", b"\xed\xa0\x80"),
        (b"P5P", b"\xe0\x80\xaf"),
        (b"P6PP", b"\xf4\x90\x80\x80"),
    ]:
        data = data.replace(b"data/" + placeholder + b".txt", b"data/" + raw + b".txt")
    return data


def reference(path: Path) -> list[object]:
    with open(path, "rb", buffering=0) as fh:
        return list(read_central_directory(fh, os.fstat(fh.fileno()).st_size))


def native(path: Path) -> MemberIndex:
    with open(path, "rb", buffering=0) as fh:
        return read_member_index(fh, os.fstat(fh.fileno()).st_size)


def keys_to_try(index: MemberIndex) -> set[str]:
    keys = {m.key for m in index} | {m.name for m in index}
    return keys | {"", "data", "data/", "data/K.txt", "data/missing", "DATA/a.txt", "data/a.tx"}


@needs_native
def test_the_c_index_reads_what_the_reference_parser_reads(tmp_path: Path) -> None:
    rng = random.Random(5)
    for path in corpus(tmp_path):
        expected = ListIndex(reference(path))
        index = native(path)
        assert isinstance(index, NativeIndex)
        assert list(index) == list(expected), path.name
        for key in keys_to_try(expected):
            assert index.find(key) == expected.find(key), (path.name, key)
            assert index.lookup(key) == expected.lookup(key)
        assert index.file_totals() == expected.file_totals()
        assert index.ending_with(".jsonl") == expected.ending_with(".jsonl")
        jsonl = expected[expected.ending_with(".jsonl")[0]]
        # The archive-level issues need only the suspects.
        assert member_issues([index[i] for i in index.suspects()], jsonl) == member_issues(
            list(expected), jsonl
        )
        for _ in range(20):
            bits = bytearray(rng.randbytes((len(index) + 7) // 8))
            skip = rng.choice([-1, expected.find(jsonl.key)])
            assert index.stats(bits, skip) == expected.stats(bits, skip), path.name
            assert list(index.unreferenced(bits, skip)) == expected.unreferenced(bits, skip)


def test_a_name_that_is_not_utf8_is_never_found(tmp_path: Path) -> None:
    # Go compares the stored bytes with a JSONL path's UTF-8: shown decoded (cp437 without
    # the UTF-8 flag, U+FFFD with it), these names read like paths but match none.
    path = tmp_path / "names.zip"
    path.write_bytes(names_zip())
    for index in (native(path), ListIndex(reference(path))):
        names = [m.name for m in index]
        assert names[19:22] == ["data/über.txt", "data/über.txt", "data/\ufffd(.txt"]
        assert index.find("data/über.txt") == 20  # the UTF-8 one; the cp437 one is not found
        assert index.find("data/\ufffd(.txt") == -1
        assert [index[i].utf8 for i in (19, 20, 21)] == [False, True, False]
        assert index.not_utf8()[:2] == [19, 21]
        # Nothing finds them, no line references them: unreferenced, each on its own.
        assert {19, 20, 21} <= set(index.unreferenced(bytearray(len(index)), 0))


@needs_native
def test_duplicates_aliases_and_nfc_keys_find_the_server_s_entry(tmp_path: Path) -> None:
    path = tmp_path / "mixed.zip"
    path.write_bytes(build_zip(_entries()))
    with open_archive(path) as archive:
        names = [m.name for m in archive.members()]
        assert archive.lookup("data/a.txt") == archive.members()[3]  # the last one
        # The NFD and the NFC name share a key: the later (NFC) entry wins.
        cafe = archive.lookup("data/café.txt")
        assert cafe is not None
        assert cafe.name == "data/café.txt"
        # KELVIN SIGN normalises to K; the plain K that follows it wins.
        k = archive.lookup("data/K.txt")
        assert k is not None
        assert k.index == names.index("data/K.txt")
        assert archive.lookup("data/\u212a.txt") is None  # keys are NFC: never found so
        angstrom = archive.lookup("data/Å.txt")
        assert angstrom is not None
        assert angstrom.name == "data/\u212b.txt"


@pytest.mark.parametrize(
    "prefix",
    ["screenshot-", "Übersicht-", "Screenshot 2026-01-01 at 10.00.00\u202fAM "],
    ids=["ascii", "umlaut", "macos-screenshot"],
)
def test_an_index_entry_fits_in_250_bytes_with_an_export_shaped_name(
    tmp_path: Path, prefix: str
) -> None:
    # data/<day>/teams/<id>/channels/<id>/users/<id>/<id>/<name>, as `mmctl export` writes;
    # non-ASCII (NFC) names must cost no more: no Python object per entry for their keys.
    import tracemalloc

    rng = random.Random(1)
    count = 20_000

    def ident() -> str:
        return "".join(rng.choice("abcdefghijkmnopqrstuvwxyz0123456789") for _ in range(26))

    path = tmp_path / "export.zip"
    names = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("import.jsonl", JSONL, zipfile.ZIP_DEFLATED)
        team, channel = ident(), ident()
        for i in range(count):
            name = (
                f"data/2024{1 + i % 12:02d}{1 + i % 28:02d}/teams/{team}/channels/{channel}/"
                f"users/{ident()}/{ident()}/{prefix}{i}.log"
            )
            names.append(name)
            zf.writestr(name, b"")
    tracemalloc.start()
    index = native(path)
    python_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    per_entry = index.nbytes / len(index)
    name_bytes = sum(len(n.encode()) for n in names) / count
    assert name_bytes > 150  # the long names of a real export
    if isinstance(index, NativeIndex):
        assert per_entry <= 250, f"{per_entry:.0f} bytes per entry ({name_bytes:.0f} of name)"
        # A few fixed allocations; a MemberInfo or a key per entry would be 100s of bytes.
        assert python_bytes / count < 10, f"{python_bytes} bytes of Python objects kept"
        assert index.find(names[-1]) == count
        assert index.suspects() == []


def test_a_spawned_process_reads_the_directory_itself(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "mixed.zip"
    path.write_bytes(build_zip(_entries()))
    with open_archive(path) as archive:
        # Forked workers share the parent's index; pickled for a spawned one it is None, and
        # open_archive(index=None) reads the central directory again.
        assert pickle.loads(pickle.dumps(archive.index)) is None
        with open_archive(path, index=archive.index) as again:
            assert again.index is archive.index
            assert archive_issues(again) == archive_issues(archive)


@needs_native
def test_marking_packed_entries_in_c_sets_the_bits_python_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(5)
    for entries in (0, 1, 7, 8, 9, 1000):
        indexes = array("I", (rng.randrange(entries) for _ in range(entries * 2) if entries))
        found = bytearray((entries + 7) // 8)
        members_module.mark_entries(found, indexes.tobytes())
        with monkeypatch.context() as patch:
            patch.setattr(members_module, "NATIVE", None)
            expected = bytearray((entries + 7) // 8)
            members_module.mark_entries(expected, indexes.tobytes())
            assert found == expected
            assert sorted(set(indexes)) == [
                i for i in range(entries) if expected[i >> 3] >> (i & 7) & 1
            ]
            with pytest.raises(IndexError):
                members_module.mark_entries(expected, array("I", [8 * len(expected)]).tobytes())
        with pytest.raises(IndexError):
            members_module.mark_entries(found, array("I", [8 * len(found)]).tobytes())


ASAN_SCRIPT = """
import os, pickle, random, sys
from array import array

sys.path.insert(0, sys.argv[1])
import _zipindex

assert _zipindex.__file__.startswith(sys.argv[1]), _zipindex.__file__
with open(sys.argv[2], "rb") as f:
    cases = pickle.load(f)

def walked(path):
    # A stream's pass over its members (walk_members): from each local header, the archive
    # cut at many places, whole and with bytes flipped.
    with open(path, "rb") as fh:
        data = fh.read()
    rng = random.Random(len(data))
    flipped = bytearray(data)
    for _ in range(len(data) // 50 + 1):
        flipped[rng.randrange(len(data))] = rng.randrange(256)
    out = []
    for variant in (data, bytes(flipped)):
        starts, at = [], variant.find(b"PK\\x03\\x04")
        while at >= 0 and len(starts) < 40:
            starts.append(at)
            at = variant.find(b"PK\\x03\\x04", at + 1)
        for at in starts:
            for cut in (at + 3, at + 31, at + 200, len(variant) - 30, len(variant)):
                if at <= cut <= len(variant):
                    out.append(_zipindex.walk_members(
                        variant[:cut], at, cut == len(variant), at, (b".png", b".jpg"),
                        {"data/a.png"},
                    ))
    return out

def checked(index):
    # The local headers a stream noted against the directory (check_local): every entry's
    # header, then one missing, one renamed (another name of the same hash, then another
    # hash), one of another scanned size; columns that disagree are refused.
    count = len(index)
    records = sorted(index.record(i) for i in range(count))
    by_offset = sorted((r[6], r) for r in records)
    offsets = array("Q", [o for o, _ in by_offset])
    names = array("q", [hash(r[0]) for _, r in by_offset])
    states = bytearray([2] * count)
    sizes = array("Q", [r[3] for _, r in by_offset])
    raws = bytearray(b"".join(r[0] for _, r in by_offset))
    lens = array("H", [len(r[0]) for _, r in by_offset])
    out = [index.check_local(offsets, names, states, sizes, raws, lens)]
    if count:
        out.append(index.check_local(
            offsets[1:], names[1:], states[1:], sizes[1:], raws[lens[0]:], lens[1:]
        ))
        if raws:
            other = bytearray(raws)
            other[-1] ^= 1
            out.append(index.check_local(offsets, names, states, sizes, other, lens))
        names[-1] ^= 1
        out.append(index.check_local(offsets, names, states, sizes, raws, lens))
        sizes[0] += 1
        out.append(index.check_local(offsets, names, states, sizes, raws, lens))
    for wrong in ((offsets, names[1:], states, sizes, raws, lens),
                  (offsets, names, states, sizes, raws + b"x", lens)):
        try:
            index.check_local(*wrong)
        except ValueError:
            out.append("refused")
    return out

results = []
for path, start, base in cases:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        try:
            index = _zipindex.read_index(fh.fileno(), start, size, base)
        except (ValueError, OSError) as exc:
            results.append(("error", type(exc).__name__))
            continue
    bits = bytearray(b"\\x55" * ((len(index) + 7) // 8))
    results.append((
        [index.record(i) for i in range(len(index))],
        [index.find(index.record(i)[0]) for i in range(len(index))],
        index.select("suspects"), index.select(b".jsonl"), index.files(),
        index.stats(bits, 0), index.unreferenced(bits, 0),
        walked(path), checked(index),
        _zipindex.mark(bits, bytes(4 * min(len(index), 1))) or bytes(bits),
    ))
with open(sys.argv[3], "wb") as f:
    pickle.dump(results, f)
"""


@needs_native
@pytest.mark.slow
def test_the_index_under_address_and_undefined_behaviour_sanitizers(tmp_path: Path) -> None:
    import pickle
    import subprocess
    import sys

    from archivekit.read.zipdir import directory_start

    gcc, libasan = require_sanitizers()
    module_dir = tmp_path / "asan"
    sanitized_build(gcc, REPO / "archivekit" / "read" / "_zipindex.c", module_dir)
    # Every archive of the corpus, cut at many places and with bytes flipped in its directory.
    cases = []
    rng = random.Random(3)
    for number, path in enumerate(corpus(tmp_path)):
        data = path.read_bytes()
        with open(path, "rb") as fh:
            start, base, _ = directory_start(fh, len(data))
        variants = [data, data[: start + (len(data) - start) // 2]]
        for _ in range(20):
            broken = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                broken[rng.randrange(start, len(data))] = rng.randrange(256)
            variants.append(bytes(broken))
        for k, variant in enumerate(variants):
            case = tmp_path / f"case-{number}-{k}.zip"
            case.write_bytes(variant)
            cases.append((str(case), start, base))
    data_file, out = tmp_path / "cases.pickle", tmp_path / "results.pickle"
    data_file.write_bytes(pickle.dumps(cases))
    argv = [sys.executable, "-c", ASAN_SCRIPT, str(module_dir), str(data_file), str(out)]
    # walk_members and check_local hash names: the same seed in both runs.
    run_sanitized(argv, libasan, env={"PYTHONHASHSEED": "0"})
    # The installed build answers the same.
    installed = subprocess.run(
        [sys.executable, "-c", ASAN_SCRIPT, str(Path(members_module.NATIVE.__file__).parent),
         str(data_file), str(tmp_path / "installed.pickle")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert pickle.loads(out.read_bytes()) == pickle.loads(
        (tmp_path / "installed.pickle").read_bytes()
    )


def _nfc_table_script() -> Any:
    spec = importlib.util.spec_from_file_location("nfc_safe_table", NFC_TABLE_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_nfc_safe_table_holds_only_characters_that_keep_a_name_nfc() -> None:
    script = _nfc_table_script()
    header = (REPO / "archivekit" / "read" / "_memberindex.h").read_text()
    block = header[header.index(script.BEGIN) : header.index(script.END) + len(script.END)]
    ranges = [
        (int(a, 16), int(b, 16)) for a, b in re.findall(r"\{0x([0-9A-F]+), 0x([0-9A-F]+)\}", block)
    ]
    assert ranges[0] == (0x80, 0x2FF)
    seconds = script.composing_seconds()
    # Whatever Unicode version this Python has: every listed code point keeps the property
    # (a code point unassigned here is its own NFC form, class 0, composing with nothing).
    bad = [hex(c) for a, b in ranges for c in range(a, b + 1) if not script.nfc_stable(c, seconds)]
    assert bad == []
    version = re.search(r"/\* Unicode ([0-9.]+):", block)
    assert version is not None
    if version.group(1) == unicodedata.unidata_version:
        assert block == script.block(script.safe_ranges()), "run scripts/nfc_safe_table.py"


@needs_native
def test_the_quick_nfc_check_never_vouches_for_a_name_python_would_change() -> None:
    quick = members_module.NATIVE.nfc_quick
    pool = [
        "a", "/", ".", "é", "Ü", "ß", "\u202f", "\u00a0", "日", "本", "가", "\u1100", "\u1161",
        "\u11a8", "\u0301", "\u0308", "\u0345", "\u212a", "\u212b", "\u2000", "\u2002", "Ω",
        "\u0386", "\u0387", "ا", "\u0653", "\u0b47", "\u0b3e", "\u3099", "か", "\U0001f600",
        "\U0001d15e", "\u0f73", "\uff21",
    ]  # fmt: skip
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choices(pool, k=rng.randint(1, 6)))
        if quick(text.encode()):
            assert unicodedata.is_normalized("NFC", text), ascii(text)
    # The names of real exports are vouched for: their keys need no Python.
    for name in ["Übersicht-1.pdf", "Screenshot 2026-01-01 at 10.00.00\u202fAM.png", "写真.jpg",
                 "naïve café.txt", "가.txt", "Ωmega\U0001f600.png"]:  # fmt: skip
        assert quick(name.encode()), name
    for raw in [b"\xff", b"\xc3", b"\xc3\x28", b"\xed\xa0\x80", b"\xe0\x80\xaf", b"\xc0\xaf",
                b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80"]:  # fmt: skip
        assert not quick(raw), raw  # not UTF-8 as Python decodes it: Python's decision


@needs_native
def test_files_outside_data_are_listed_like_the_reference(tmp_path: Path) -> None:
    for path in corpus(tmp_path):
        expected = ListIndex(reference(path))
        assert list(native(path).outside_data()) == expected.outside_data(), path.name
