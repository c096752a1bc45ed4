"""The tables' C counter (`archivekit.check.fast._report.Tally`) held to the Python count.

The contract (archivekit/check/fast/_report.c): C counts a post or direct_post line only when
every figure it adds is the one `TableCounts.add` adds; anything unusual stops its run at that
line and Python counts it. So, for any line, the tally C leaves (folded by
`TableCounts.add_counted`) equals Python's tally of that line, or C does not take the line; and
for any archive the tables are the same with and without C. Here:

* the extension is built, from the current sources;
* line by line: seeds (files found and missing, escapes, odd case, dates before 1970, nulls)
  are all taken and agree; an edge table pins what C leaves to Python; every prefix and random
  mutations of generated and seed lines, and record mutations (property test), never disagree;
* archive by archive: the samples, the real fixture, generated exports, a directory (no member
  index: lines with files go to Python) and mutated archives give identical tables either way,
  and C takes the post lines;
* counting leaks no Python objects (the sanitizer build is in test_native_scan).
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import random
import struct
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from line_mutations import generated_post_lines, mutate, variants
from test_reader_zipmaker import Entry, build_zip

from archivekit.check import periods, table_counts, table_lines
from archivekit.check.fast.fastpath import non_ascii_extension
from archivekit.check.table_counts import TableCounts
from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.read import LineTooLong, open_archive
from archivekit.read import members as members_module
from archivekit.read.records import decode_plain
from archivekit.read.source import Archive
from archivekit.report.tables import COLUMNS, tables
from archivekit.testing.fuzz import (
    apply_record_mutations,
    dump_json_line,
    load_fuzz_profile,
    record_mutations,
    scaled_examples,
)
from archivekit.testing.synth import (
    channel,
    direct_channel,
    direct_post,
    generate_export,
    make_archive,
    post,
    reaction,
    reply,
    team,
    user,
)

load_fuzz_profile()

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "sample_exports").glob("*.zip"))
REAL = REPO / "tests" / "fixtures" / "mattermost-server-tests-import_test.zip"
SOURCES = [
    REPO / "archivekit" / "check" / "fast" / "_report.c",
    REPO / "archivekit" / "check" / "fast" / "_identity.h",
    REPO / "archivekit" / "check" / "fast" / "_jsonline.h",
    REPO / "archivekit" / "read" / "_memberindex.h",
]
PURE_PYTHON = bool(os.environ.get("ARCHIVEKIT_PURE_PYTHON"))
TALLY = table_lines.NATIVE_TALLY
needs_c = pytest.mark.skipif(TALLY is None, reason="archivekit.check.fast._report is not loaded")
T0 = 1_700_000_000_000
DAY = 86_400_000
FILES = {
    "data/a.txt": b"x" * 7,
    "data/b/c.LOG": b"y" * 11,
    "data/d.tar.gz": b"z" * 5,
    "data/dir/": b"",
    "data/noext": b"n" * 3,
    "data/.hidden": b"h",
    "data/\u00fcbersicht/caf\u00e9 \u202f.txt": b"u" * 2,
}


# --- the extension is there ---------------------------------------------------------------------


def c_counter(table: Any) -> Any:
    """The C counter of post lines, with the tables' caps on the periods it holds."""
    assert TALLY is not None
    return TALLY(table, table_counts.PERIODS_HELD, table_counts.BUCKETS_HELD)


@pytest.mark.skipif(PURE_PYTHON, reason="ARCHIVEKIT_PURE_PYTHON is set: the C counter is off")
def test_the_c_counter_is_built_from_the_current_source() -> None:
    assert TALLY is not None, (
        "archivekit.check.fast._report did not import: the C counter was not built "
        "(pip install -e '.[dev]' with a C compiler)"
    )
    from archivekit.check.fast import _report

    digest = hashlib.sha256(b"".join(path.read_bytes() for path in SOURCES)).hexdigest()
    assert digest == _report.SOURCE_SHA256, (
        "archivekit/check/fast/_report.c (or a header) changed since the extension was built: "
        "run `make test` (or pip install -e '.[dev]') to rebuild it"
    )


# --- line by line ---------------------------------------------------------------------------------


def state(tally: TableCounts) -> dict[str, Any]:
    """Everything a tally holds, comparable (day groups by their names, not their ids)."""
    groups = tally.group_keys()
    return {
        "teams": {k: dataclasses.asdict(v) for k, v in tally.teams.items()},
        "places": {k: dataclasses.asdict(v) | {"group": None} for k, v in tally.places.items()},
        "people": {k: dataclasses.asdict(v) for k, v in tally.people.items()},
        "days": {
            (day, groups[group]): dataclasses.asdict(tally.days[key])
            for key in tally.days
            for day, group in [TableCounts.split_day_key(key)]
        },
        "line_types": {k: dataclasses.asdict(v) for k, v in tally.line_types.items()},
        "file_types": {k: dataclasses.asdict(v) for k, v in tally.file_types.items()},
        "undecodable": tally.undecodable,
    }


class Lines:
    """Counts lines both ways against one archive's members (attachment sizes)."""

    def __init__(self, archive: Archive | None) -> None:
        self.archive = archive
        self.table = None if archive is None else archive.index.table

    def size_of(self, key: str) -> int | None:
        member = None if self.archive is None else self.archive.lookup(key)
        return None if member is None or member.is_dir else member.size

    def python(self, lines: list[bytes]) -> TableCounts:
        tally = TableCounts(self.size_of)
        for number, raw in enumerate(lines, 1):
            tally.add(number, len(raw), decode_plain(raw))
        return tally

    def native(self, lines: list[bytes]) -> tuple[int, TableCounts]:
        """(lines C took from the start, the tally it leaves)."""
        assert TALLY is not None
        counter = c_counter(self.table)
        taken = counter.count(list(lines), 0)
        tally = TableCounts(self.size_of)
        tally.add_counted(counter.counts())
        return taken, tally

    def check(self, raw: bytes) -> str:
        """ "taken" (and C's tally is Python's) or "declined"."""
        taken, native = self.native([raw])
        if taken == 0:
            assert state(native) == state(TableCounts(self.size_of)), "declined, yet counted"
            return "declined"
        assert taken == 1
        expected = state(self.python([raw]))
        assert state(native) == expected, f"C and Python count {raw[:400]!r} differently"
        return "taken"


@pytest.fixture(scope="module")
def lines_with_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lines]:
    path = make_archive(tmp_path_factory.mktemp("files") / "files.zip", [], FILES)
    with open_archive(path) as archive:
        yield Lines(archive)


SEED_RECORDS: list[dict[str, Any]] = [
    post(
        "Team1", "Chan-1", "Alice", "hello", T0,
        attachments=["a.txt", "b/c.LOG", "missing.PNG", "", "d.tar.gz", "noext", ".hidden"],
        reactions=[reaction("bob", "+1", T0 + 5), reaction("Bob", "smile", T0 - DAY)],
        replies=[
            reply("bob", "next day", T0 + DAY, attachments=["a.txt"]),
            reply("ALICE", "before the post", T0 - 10, reactions=[reaction("carol", "x", 1)]),
            reply("", "empty user", -1, attachments=["gone/x.Txt"]),
        ],
        props={"n": 1.5, "nested": {"deep": [1, "two", None, True, {"x": []}]}},
        thread_followers=[{"user": "bob", "last_viewed": 3}],
        flagged_by=["bob"],
        is_pinned=True,
    ),
    post("team1", "chan-1", "bob", "before 1970", -DAY - 1),
    post("team1", "chan-1", "bob", "day zero", 0, attachments=["dir"]),
    post("tEam", "caf\u00e9 \u2603", "\u00fcser", "non-ASCII names (the team's is Python's)", T0),
    post(
        "team1", "chan-1", "bob", "NFC paths: C finds them", T0,
        attachments=["\u00fcbersicht/caf\u00e9 \u202f.txt", "\u00fcbersicht/gone.PNG"],
    ),
    post("team2", "", "bob", "an empty channel name", T0),
    post("", "x", "bob", "an empty team name", T0),
    direct_post(["alice", "bob"], "alice", "dm", T0 + 3),
    direct_post(["Bob", "alice"], "bob", "the same DM as written otherwise", T0 + 4),
    direct_post(["alice", "ALICE"], "alice", "note to self", T0 + 5),
    direct_post(["alice", "bob", "Carol"], "carol", "gm", T0 + 6, attachments=["a.txt"]),
    direct_post(["alice", "Alice", "BOB"], "bob", "a DM written as three", T0 + 7),
]  # fmt: skip
SEEDS = [dump_json_line(record) for record in SEED_RECORDS]
# What exporters do not write but JSON and Python allow: C takes these too.
SEEDS += [
    b'{"type":"post","post":{"team":"tA","channel":"c\\n\\u00e9\\ud83d\\ude00",'
    b'"user":"u\\"q","create_at":5,"message":"m"}}',
    b'{"type":"post","post": { "team" : "t" , "channel":"c","user":null,"create_at":null,'
    b'"replies":null,"reactions":null,"attachments":null } }',
    b'{"type":"post","post":{"team":"t","channel":"c","replies":[{}],"reactions":[{}],'
    b'"attachments":[{},{"path":null},{"path":""},{"other":1}]}}',
    b'{"type":"post","post":{"team":"t","channel":"c","create_at":-9223372036854775808}}',
    b'{"type":"direct_post","direct_post":{"channel_members":["a"],"replies":[],"x":[[[]]]}}',
    b'{"type":"post","post":{"team":"t","channel":"c","replies":[{"replies":[1],"team":2}]}}',
]
# Lines C leaves to Python: each still counted the same in the end (archive tests below).
DECLINED = {
    "float date": b'{"type":"post","post":{"team":"t","channel":"c","create_at":1.5}}',
    "huge date": b'{"type":"post","post":{"team":"t","channel":"c",'
    b'"create_at":9223372036854775808}}',
    "exponent": b'{"type":"post","post":{"team":"t","channel":"c","x":1e3}}',
    "user of another type": b'{"type":"post","post":{"team":"t","channel":"c","user":7}}',
    "no channel": b'{"type":"post","post":{"team":"t","user":"u"}}',
    "team null": b'{"type":"post","post":{"team":null,"channel":"c"}}',
    "repeated key": b'{"type":"post","post":{"team":"t","channel":"c","user":"a","user":"b"}}',
    "escaped key": b'{"type":"post","post":{"team":"t","channel":"c","\\u0075ser":"a"}}',
    "replies of another type": b'{"type":"post","post":{"team":"t","channel":"c","replies":{}}}',
    "reply not an object": b'{"type":"post","post":{"team":"t","channel":"c","replies":[1]}}',
    "reaction not an object": b'{"type":"post","post":{"team":"t","channel":"c","reactions":[1]}}',
    "path of another type": b'{"type":"post","post":{"team":"t","channel":"c",'
    b'"attachments":[{"path":1}]}}',
    "path with dots": b'{"type":"post","post":{"team":"t","channel":"c",'
    b'"attachments":[{"path":"a/../a.txt"}]}}',
    "NFD path": b'{"type":"post","post":{"team":"t","channel":"c",'
    b'"attachments":[{"path":"cafe\xcc\x81.txt"}]}}',
    "non-ASCII extension": b'{"type":"post","post":{"team":"t","channel":"c",'
    b'"attachments":[{"path":"a.G\xc4\xb0F"}]}}',
    "path not UTF-8": b'{"type":"post","post":{"team":"t","channel":"c",'
    b'"attachments":[{"path":"\xff.txt"}]}}',
    "non-ASCII member": b'{"type":"direct_post","direct_post":{"channel_members":["\xc3\xa9"]}}',
    "escaped member": b'{"type":"direct_post","direct_post":{"channel_members":["\\u0061"]}}',
    "no members": b'{"type":"direct_post","direct_post":{"channel_members":[]}}',
    "member of another type": b'{"type":"direct_post","direct_post":{"channel_members":[1]}}',
    "trailing bytes": b'{"type":"post","post":{"team":"t","channel":"c"}} x',
    "another envelope": b'{"type":"user","user":{"username":"u"}}',
    "type second": b'{"post":{"team":"t","channel":"c"},"type":"post"}',
    "not JSON": b'{"type":"post","post":{',
    "invalid UTF-8": b'{"type":"post","post":{"team":"\xff","channel":"c"}}',
    # Go lowercases a team name for its series beyond ASCII ("T\u00c9AM" is "t\u00e9am"):
    # C lowercases ASCII only.
    "a non-ASCII team name": b'{"type":"post","post":{"team":"t\xc3\xa9am","channel":"c"}}',
    "a team name with escapes": b'{"type":"post","post":{"team":"t\\u0041","channel":"c"}}',
}


@needs_c
def test_every_seed_line_is_taken_and_counted_as_python_counts_it(
    lines_with_files: Lines,
) -> None:
    for raw in SEEDS:
        assert lines_with_files.check(raw) == "taken", raw


@needs_c
@pytest.mark.parametrize("name", sorted(DECLINED))
def test_unusual_lines_are_left_to_python(lines_with_files: Lines, name: str) -> None:
    assert lines_with_files.check(DECLINED[name]) == "declined"


@needs_c
def test_without_a_member_index_lines_with_files_are_left_to_python() -> None:
    no_index = Lines(None)
    with_file = dump_json_line(post("t", "c", "u", "m", T0, attachments=["a.txt"]))
    assert no_index.check(with_file) == "declined"
    assert no_index.check(dump_json_line(post("t", "c", "u", "m", T0))) == "taken"


@needs_c
@pytest.mark.parametrize(("size", "verdict"), [((1 << 32) - 1, "taken"), (1 << 32, "declined")])
def test_a_file_of_four_gib_or_more_is_left_to_python(
    tmp_path: Path, size: int, verdict: str
) -> None:
    # Byte totals stay far from 2**64 in C: larger files (as the directory claims them) are
    # Python's. The directory's zip64 field claims `size` for a 4-byte member.
    path = tmp_path / "big.zip"
    data = build_zip([Entry("import.jsonl"), Entry("data/big.bin", b"1234", 0, zip64=True)])
    field = struct.pack("<HHQ", 1, 24, 4)
    assert data.count(field) == 1
    path.write_bytes(data.replace(field, struct.pack("<HHQ", 1, 24, size)))
    with open_archive(path) as archive:
        line = dump_json_line(post("t", "c", "u", "m", T0, attachments=["big.bin"]))
        assert Lines(archive).check(line) == verdict


@needs_c
def test_every_prefix_and_mutation_of_post_lines_counts_alike(
    lines_with_files: Lines, tmp_path: Path
) -> None:
    rng = random.Random(20241203)
    lines = [*generated_post_lines(tmp_path, 7)[:30], *SEEDS]
    verdicts = Counter(map(lines_with_files.check, variants(lines, rng, 150, scaled_examples(40))))
    assert verdicts["taken"] > 200, verdicts
    assert verdicts["declined"] > 200, verdicts


@needs_c
@settings(
    max_examples=scaled_examples(1),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=record_mutations(SEEDS, max_mutations=4))
def test_record_mutations_count_alike(lines_with_files: Lines, mutations: Any) -> None:
    for raw in apply_record_mutations(SEEDS, mutations):
        lines_with_files.check(raw)


@needs_c
def test_a_batch_is_counted_up_to_the_first_line_c_does_not_take() -> None:
    assert TALLY is not None
    counter = c_counter(None)
    posts = [dump_json_line(post("t", "c", "u", "m", T0 + i)) for i in range(3)]
    batch: list[Any] = [*posts, DECLINED["float date"], *posts, LineTooLong(10**9), *posts]
    assert counter.count(batch, 0) == 3
    assert counter.count(batch, 3) == 3  # the line it stopped at: still not taken
    assert counter.count(batch, 4) == 7
    assert counter.count(batch, 8) == 11
    assert counter.count(batch, 11) == 11
    line_types, places, *_ = counter.counts()
    assert line_types[0][0] == 9  # post lines
    assert places == [(("t", "c"), 0, 9, 0, 0, 0, 0, T0, T0 + 2)]
    with pytest.raises(IndexError):
        counter.count(batch, 12)
    with pytest.raises(TypeError):
        counter.count(tuple(batch), 0)


@needs_c
def test_counting_leaks_no_python_objects(lines_with_files: Lines) -> None:
    assert TALLY is not None
    rng = random.Random(5)
    batch = [*SEEDS, *DECLINED.values(), *(mutate(raw, rng) for raw in SEEDS for _ in range(50))]

    def count_all() -> None:
        counter = c_counter(lines_with_files.table)
        start = 0
        while start < len(batch):
            start = counter.count(batch, start) + 1
        counter.counts()

    count_all()
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(5):
        count_all()
    gc.collect()
    assert sys.getallocatedblocks() - before < 100


# --- archive by archive ------------------------------------------------------------------------


def both_ways(path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Any:
    """The tables with the C counter, asserted equal to those without it."""
    with_c = tables(path, workers=1, **options)
    with monkeypatch.context() as patch:
        patch.setattr(table_lines, "NATIVE_TALLY", None)
        python = tables(path, workers=1, **options)
    for name in COLUMNS:
        assert with_c.table(name).rows == python.table(name).rows, name
    assert (with_c.lines, with_c.undecodable) == (python.lines, python.undecodable)
    return with_c


def python_lines(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lines the Python path counts when C is on."""
    counted: list[int] = []
    original = TableCounts.add

    def spy(self: TableCounts, line: int, raw_size: int, record: Any) -> None:
        counted.append(line)
        original(self, line, raw_size, record)

    with monkeypatch.context() as patch:
        patch.setattr(TableCounts, "add", spy)
        tables(path, workers=1)
    return counted


@needs_c
@pytest.mark.parametrize("archive", [*SAMPLES, REAL], ids=lambda p: p.name)
def test_samples_give_the_same_tables_either_way(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_ways(archive, monkeypatch)


def _c_takes(raw: bytes) -> bool:
    record = orjson.loads(raw)
    body = record.get(record["type"])
    if record["type"] not in POST_LINE_TYPES:
        return False
    owners = [body, *(body.get("replies") or [])]
    paths = [f["path"] for owner in owners for f in owner.get("attachments") or []]
    return all(_plain(path) for path in paths)


def _plain(path: str) -> bool:
    """A path C resolves itself: ASCII, or NFC as the member index knows it (_jsonline.h)."""
    if path.isascii():
        return True
    nfc_quick = members_module.NATIVE.nfc_quick if members_module.NATIVE else None
    return bool(nfc_quick and nfc_quick(path.encode()) and not non_ascii_extension(path))


@needs_c
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_exports_give_the_same_tables_and_c_takes_their_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    path = tmp_path / "gen.zip"
    generate_export(path, seed=seed, posts=400, direct_posts=80, attachments=12)
    result = both_ways(path, monkeypatch)
    with zipfile.ZipFile(path) as zf:
        jsonl = zf.read("import.jsonl").split(b"\n")
    # Python counts the definitions, and the posts with a file name that may not be NFC (the
    # member index resolves those keys in Python); C every other post.
    left = [n for n, raw in enumerate(jsonl, 1) if raw and not _c_takes(raw)]
    assert python_lines(path, monkeypatch) == left
    assert len(left) < 0.2 * len(jsonl)
    assert result.table("types").rows  # not empty
    # And split over workers, C in each.
    several = tables(path, workers=3, block_size=8192)
    for name in COLUMNS:
        assert several.table(name).rows == result.table(name).rows, name


@needs_c
def test_an_export_directory_gives_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "gen.zip"
    generate_export(path, seed=4, posts=120, direct_posts=30, attachments=8)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as zf:
        zf.extractall(folder)
    both_ways(folder, monkeypatch)


# --- a spread of dates ---------------------------------------------------------------------------


def spread(teams: int, posts: int, first: int, step: int) -> list[Any]:
    """`posts` posts (each with a reply a day later) `step` ms apart from `first`, over the
    channels of `teams` teams and the DM of two users."""
    lines: list[Any] = [user("u1"), user("u2")]
    for t in range(teams):
        lines += [team(f"t{t}"), channel(f"t{t}", "c")]
    for n in range(posts):
        at = first + n * step
        replies = [reply("u2", "r", at + DAY)]
        if n % 7:
            lines.append(post(f"t{n % teams}", "c", "u1", "x", at, replies=replies))
        else:
            lines.append(direct_post(["u1", "u2"], "u1", "x", at, replies=replies))
    return lines


@needs_c
def test_the_c_counter_holds_a_bounded_number_of_periods_however_many_days(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 20,000 posts 37 days apart (2,000 years), each on a day of its own, over 20 teams and a
    # DM: C widens its period as it counts (day, month, ... millennium), holding at most its
    # caps all along; its tally is the one Python holds for the same lines.
    monkeypatch.setattr(table_counts, "PERIODS_HELD", 30)
    monkeypatch.setattr(table_counts, "BUCKETS_HELD", 400)
    lines = [dump_json_line(line) for line in spread(20, 20_000, 0, 37 * DAY)[42:]]
    counter = c_counter(None)
    held = []
    for at in range(0, len(lines), 500):
        assert counter.count(lines[at : at + 500], 0) == 500
        held.append(counter.held())
    assert max(buckets for _, buckets in held) <= 400
    widened = dict.fromkeys(periods.name(level) for level, _ in held)
    assert list(widened) == ["decade", "century", "millennium"]  # 500 posts: 50 years
    native = TableCounts()
    native.add_counted(counter.counts())
    python = Lines(None).python(lines)
    assert periods.name(python.period) == periods.name(native.period) == "millennium"
    assert state(native) == state(python)


@needs_c
@pytest.mark.parametrize(
    ("first", "step"),
    [(0, 37 * DAY), (1_000 * DAY, 1_000), (-(2**63) + 1, 2**64 // 3_000)],
    ids=["37 days apart", "one day", "over int64"],
)
def test_a_wide_spread_of_dates_gives_the_same_tables_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: int, step: int
) -> None:
    monkeypatch.setattr(table_counts, "PERIODS_HELD", 30)
    monkeypatch.setattr(table_counts, "BUCKETS_HELD", 400)
    path = make_archive(tmp_path / "spread.zip", spread(20, 3_000, first, step))
    assert python_lines(path, monkeypatch) == list(range(1, 44))  # C counts every post
    counted = both_ways(path, monkeypatch)
    assert counted.table("months").widened == (step > DAY)
    several = tables(path, workers=3, block_size=8192)
    for name in COLUMNS:
        assert several.table(name).rows == counted.table(name).rows, name


def both_counters(lines: list[bytes], batch: int) -> tuple[TableCounts, TableCounts]:
    """(the tally of post `lines` counted in C, `batch` lines a call, then held by Python;
    the tally Python counts alone)."""
    counter = c_counter(None)
    for at in range(0, len(lines), batch):
        assert counter.count(lines[at : at + batch], 0) == len(lines[at : at + batch])
    native = TableCounts()
    native.add_counted(counter.counts())
    return native, Lines(None).python(lines)


@needs_c
@pytest.mark.parametrize("batch", [1, 7, 10_000])
def test_more_series_than_the_caps_hold_stop_widening_at_the_widest_period(
    monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    # 8 teams posting at both ends of int64: however wide the period, each team holds two
    # (one before year 0, one after), 16 buckets over a cap of 10. Both counters stop at the
    # widest period (10**9 years) rather than widening for ever.
    monkeypatch.setattr(table_counts, "BUCKETS_HELD", 10)
    lines = [post(f"t{t}", "c", "u1", "x", at) for t in range(8) for at in (-(2**63), 2**63 - 1)]
    native, python = both_counters([dump_json_line(line) for line in lines], batch)
    assert python.period == native.period == periods.WIDEST
    assert len(python.days) == 16
    assert state(native) == state(python)


@needs_c
@pytest.mark.parametrize(
    ("last_day", "level"),
    [(1, periods.MONTH), (400, periods.QUARTER)],
    ids=["in a month held", "in a new month"],
)
@pytest.mark.parametrize("batch", [1, 10_000])
def test_both_counters_widen_at_the_same_count(
    monkeypatch: pytest.MonkeyPatch, last_day: int, level: int, batch: int
) -> None:
    # 4 teams × 5 months, a post each: 20 days, the cap. One more day makes 21 days, too many:
    # both widen to months, 20 buckets again if the day falls in a month held (exactly the
    # cap: kept), 21 if not (quarters). Python once widened past a count AT the cap, C only
    # past one over it: the page's chart said "month" or "quarter" by which counter ran.
    monkeypatch.setattr(table_counts, "PERIODS_HELD", 30)
    monkeypatch.setattr(table_counts, "BUCKETS_HELD", 20)
    lines = [post(f"t{t}", "c", "u1", "x", m * 31 * DAY) for t in range(4) for m in range(5)]
    lines.append(post("t0", "c", "u1", "x", last_day * DAY))
    native, python = both_counters([dump_json_line(line) for line in lines], batch)
    assert native.period == python.period == level
    assert state(native) == state(python)


@needs_c
@pytest.mark.parametrize("batch", [1, 10_000])
def test_a_team_written_in_two_cases_is_one_series_in_both_counters(
    monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    # Team "t" written "t" and "T" on the same 6 days: one series of 6 buckets for Python (Go
    # lowercases team names), under the cap of 10, so days stay. C once kept a series per
    # spelling (12 buckets) and widened to months: the chart's period and the `inspect --by`
    # rows depended on whether the extension was built (review 13a).
    monkeypatch.setattr(table_counts, "BUCKETS_HELD", 10)
    lines = [post(name, "c", "u1", "x", d * DAY) for d in range(6) for name in ("t", "T")]
    native, python = both_counters([dump_json_line(line) for line in lines], batch)
    assert python.period == native.period == periods.DAY
    assert state(native) == state(python)


@needs_c
@pytest.mark.parametrize("name", ["\u00c9t\u00e9", "\u212aeam", "Te\\u0061m"])
def test_a_team_name_go_lowercases_beyond_ascii_is_left_to_python(name: str) -> None:
    # Go lowercases "ÉTÉ" to "été" and the Kelvin sign to an ASCII "k": the series of such a
    # name is Python's to find (C lowercases ASCII only), as is a name written with escapes.
    raw = dump_json_line(post("x", "c", "u1", "x", 0)).replace(
        b'"team":"x"', b'"team":"' + name.encode() + b'"'
    )
    counter = c_counter(None)
    assert counter.count([raw], 0) == 0


@needs_c
def test_an_archive_with_teams_in_several_spellings_gives_the_same_tables_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_counts, "BUCKETS_HELD", 20)
    names = ["team1", "Team1", "TEAM1", "\u00e9t\u00e9", "\u00c9T\u00c9"]
    lines: list[Any] = [user("u1"), team("team1"), channel("team1", "c")]
    lines += [team("\u00e9t\u00e9"), channel("\u00e9t\u00e9", "c")]
    lines += [post(name, "c", "u1", "x", m * 31 * DAY) for m in range(8) for name in names]
    path = make_archive(tmp_path / "spellings.zip", lines)
    counted = both_ways(path, monkeypatch)
    assert not counted.table("months").widened


EDGE_LINES: list[Any] = [
    team("Team1"),
    channel("Team1", "Chan-1"),
    user("alice", teams={"team1": ["chan-1"]}),
    direct_channel(["alice", "bob"]),
    *(orjson.loads(raw) for raw in SEEDS[: len(SEED_RECORDS)]),
    *SEEDS[len(SEED_RECORDS) :],
    *DECLINED.values(),
]


@needs_c
@settings(
    max_examples=scaled_examples(0.5),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=record_mutations([dump_json_line(line) for line in EDGE_LINES[:12]], 4))
def test_mutated_archives_give_the_same_tables_either_way(
    mutations: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = apply_record_mutations([dump_json_line(line) for line in EDGE_LINES[:12]], mutations)
    rest = [line if isinstance(line, bytes) else dump_json_line(line) for line in EDGE_LINES[12:]]
    path = make_archive(tmp_path_factory.mktemp("m") / "m.zip", [*lines, *rest], FILES)
    both_ways(path, monkeypatch)


def _counted(path: Path, *, background: bool) -> TableCounts:
    """The tally of every batch of `path`'s JSONL through one `TableLines`."""
    from archivekit.read.records import RecordStream

    with open_archive(path) as archive:
        lines = table_lines.TableLines(archive, background=background)
        total = 0
        for first, batch in RecordStream(archive, block_size=4096).raw_batches():
            lines.count(first, batch)
            total = first + len(batch) - 1
        return lines.counts(total)


def _export(folder: Path, seed: int, posts: int) -> Path:
    path = folder / "gen.zip"
    generate_export(path, seed=seed, posts=posts, direct_posts=posts // 6, attachments=posts // 30)
    return path


@needs_c
def test_counting_in_a_thread_gives_the_tally_of_counting_in_line(tmp_path: Path) -> None:
    # The report's pass counts in a thread while the C counter lets the GIL go.
    path = _export(tmp_path, seed=5, posts=600)
    threaded, in_line = _counted(path, background=True), _counted(path, background=False)
    assert threaded.lines == in_line.lines
    assert threaded.places == in_line.places
    assert threaded.people == in_line.people
    assert threaded.days == in_line.days
    assert threaded.file_types == in_line.file_types
    assert threaded.line_types == in_line.line_types


@needs_c
def test_an_error_in_the_counting_thread_is_raised_by_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _export(tmp_path, seed=6, posts=60)

    def fails(self: TableCounts, line: int, raw_size: int, record: Any) -> None:
        raise ValueError(f"line {line}")

    monkeypatch.setattr(TableCounts, "add", fails)  # the definitions are Python's
    with pytest.raises(ValueError, match="line 1"):
        _counted(path, background=True)
