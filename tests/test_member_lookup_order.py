"""Attachment lookups that try the entry after the last one first (`member_table_find_next`
in archivekit/read/_memberindex.h) give the table's answer whatever the order: random member
lists (duplicates, NFC/NFD pairs, the KELVIN and ANGSTROM signs, directories, names past the
255-byte front-coding limit, sorted runs across its restarts, a name that is not UTF-8) and
random lookups (runs in the archive's order with gaps and repeats, random picks), through
each C path that resolves attachments: a file's scan, a stream's waiting lines, the report
page's file items. Every entry used must be `MemberIndex.find`'s for its key."""

from __future__ import annotations

import random
import unicodedata
from array import array
from pathlib import Path
from typing import Any

from test_native_scan import MAX_POST_SIZE, T0, WORLD, needs_native
from test_tables_native import Lines, state

from archivekit.check.fast import fastpath
from archivekit.check.rules.post_types import is_allowed_post_type
from archivekit.testing.fuzz import dump_json_line
from archivekit.testing.synth import ZipMember, post, write_zip

LONG = "p" * 270
NAMES = [
    "a.txt", "b.txt", "c.txt", "K.txt", "\u212a.txt", "\u00c5.bin", "A\u030a.bin", "\u212b.bin",
    "caf\u00e9.txt", "cafe\u0301.txt", "d/x.txt", "d/y.txt", "d/", "e/", f"{LONG}/1.txt",
    f"{LONG}/2.txt", f"{LONG}1.txt", "\u0301.txt", "x", "xy", "xyz", "QQ-not-utf8.txt",
]  # fmt: skip
REFS = (WORLD.users, WORLD.teams, WORLD.channels, is_allowed_post_type, MAX_POST_SIZE)
SEEDS = 200


def _archive(folder: Path, rng: random.Random) -> tuple[Path, list[str]]:
    """Up to 60 members drawn from NAMES (each entry's size its own: sizes tell copies apart),
    sorted one time in three; one name's bytes made invalid UTF-8."""
    names = [rng.choice(NAMES) for _ in range(rng.randint(1, 60))]
    if rng.random() < 0.3:
        names.sort()
    members = [ZipMember("import.jsonl", b"{}\n", "deflate")]
    members += [ZipMember(f"data/{n}", b"x" * (i + 1), "stored") for i, n in enumerate(names)]
    path = write_zip(folder / "members.zip", members)
    path.write_bytes(path.read_bytes().replace(b"QQ-not-utf8", b"\xff\xfe-not-utf8"))
    return path, names


def _lookups(rng: random.Random, names: list[str], index: Any) -> list[str]:
    """About 80 paths: mostly runs of the archive's names in its order, with gaps and
    repeats, else any name; only those that find a file (a line whose file is missing or a
    directory stops a scan's run, which would end the comparison early)."""
    paths: list[str] = []
    while len(paths) < 80:
        if rng.random() < 0.6:
            start = rng.randrange(len(names))
            for name in names[start : start + rng.randint(1, 20)]:
                if rng.random() < 0.15:
                    continue
                paths += [name] * (2 if rng.random() < 0.1 else 1)
        else:
            paths.append(rng.choice(NAMES))
    return [p for p in paths if _find(index, p) >= 0 and not index[_find(index, p)].is_dir]


def _find(index: Any, path: str) -> int:
    return int(index.find(unicodedata.normalize("NFC", f"data/{path}")))


def _lines(paths: list[str], rng: random.Random, most: int) -> list[bytes]:
    lines, at = [], 0
    while at < len(paths):
        n = rng.randint(1, most)
        record = post("team1", "chan1", "alice", "f", T0, attachments=paths[at : at + n])
        lines.append(dump_json_line(record))
        at += n
    return lines


@needs_native
def test_lookups_in_any_order_find_the_tables_entry(tmp_path: Path) -> None:
    from archivekit.check.fast._scan import resolve_waiting, scan_batch
    from archivekit.read import open_archive
    from archivekit.read._zipindex import nfc_quick

    compared = 0
    for seed in range(SEEDS):
        rng = random.Random(seed)
        folder = tmp_path / str(seed)
        folder.mkdir()
        path, names = _archive(folder, rng)
        with open_archive(path) as archive:
            index = archive.index
            paths = _lookups(rng, names, index)
            expected = [_find(index, p) for p in paths]
            table = (index.table, 1 << 40, fastpath.IMAGE_EXTENSION_BYTES)
            table += (fastpath.key_finder(index),)
            batch = _lines(paths, rng, 10)
            # A file's scan.
            found = scan_batch(batch, 0, 10, *REFS, table)
            assert found[0] == len(batch), (seed, names, paths)
            assert list(array("I", found[10][4])) == expected, (seed, names, paths)
            # A stream's: waiting, then resolved once the members are known.
            waited = scan_batch(batch, 0, 10, *REFS, fastpath.DEFER_FILES)
            records = waited[10][2]
            stop, resolved = resolve_waiting(records, 0, table)
            assert stop == len(records)
            assert list(array("I", resolved[4])) == expected, (seed, names, paths)
            # The report page's file items (paths it takes in C), against Python's.
            plain = [p for p in paths if nfc_quick(p.encode())]
            lines = _lines(plain, rng, 3)
            tables = Lines(archive)
            taken, native = tables.native(lines)
            assert taken == len(lines)
            assert state(native) == state(tables.python(lines)), (seed, names, plain)
            compared += len(paths)
    assert compared > 5_000  # the lookups are not all filtered away
