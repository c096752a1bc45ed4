"""reconcile's C reader (`archivekit.check.fast._report.Records`) held to `SideReader`.

The contract (archivekit/check/fast/_report.c): C reads a post or direct_post line only when
the records it makes of it, and the places and users it registers, are what `SideReader.line`
makes and registers, in the same order; anything unusual stops its run at that line and Python
reads it. So a side (its spooled records byte for byte, places, users, DMs/GMs, counters) is
the same with and without C. Here: the constants agree; line by line, seeds (replies older
than their post, replies and reactions the importer cannot identify, files found and missing
on either side, digests above 2**63 as parents) agree, an edge table pins what C leaves to
Python, prefixes and mutations never disagree; archive by archive, samples, the real fixture,
generated exports and their re-exports, and mutated archives give identical sides and the same
reconciliation.
"""

from __future__ import annotations

import dataclasses
import gc
import random
import sys
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from line_mutations import generated_post_lines, mutate, variants

from archivekit import reconcile
from archivekit.check.duplicates import post_identity
from archivekit.read import open_archive
from archivekit.read.records import decode_plain
from archivekit.read.source import Archive
from archivekit.report import reconcile_read
from archivekit.report.reconcile_read import Side, SideReader, read_side
from archivekit.report.spool import BUCKETS, KIND_SHIFT, LINE_MASK, read_bucket
from archivekit.testing.fuzz import (
    apply_record_mutations,
    dump_json_line,
    load_fuzz_profile,
    record_mutations,
    scaled_examples,
)
from archivekit.testing.reexport import reexport
from archivekit.testing.synth import (
    channel,
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
RECORDS = reconcile_read.NATIVE_RECORDS
needs_c = pytest.mark.skipif(RECORDS is None, reason="archivekit.check.fast._report is not loaded")
T0 = 1_700_000_000_000
FILES = {
    "data/a.txt": b"x" * 7,
    "data/b/c.LOG": b"y" * (1 << 20),
    "data/dir/": b"",
    "data/\u00fcbersicht/caf\u00e9 \u202f.txt": b"u" * 3,
}


@needs_c
def test_the_constants_are_reconcile_reads() -> None:
    from archivekit.check.fast import _report

    kinds = (
        reconcile_read.POST,
        reconcile_read.DIRECT_POST,
        reconcile_read.REPLY,
        reconcile_read.REACTION,
        reconcile_read.FILE,
    )
    assert kinds == _report.RECORD_KINDS
    assert (_report.NO_USER, _report.UNKNOWN_SIZE) == (
        reconcile_read.NO_USER,
        reconcile_read.UNKNOWN_SIZE,
    )


# --- line by line ---------------------------------------------------------------------------------


class Collect:
    """A sink that keeps every record as a tuple (hash, kind, line, place, extra)."""

    def __init__(self) -> None:
        self.records: list[tuple[int, int, int, int, int]] = []

    def add(self, identity: int, kind: int, line: int, place: int, extra: int = 0) -> None:
        self.records.append((identity, kind, line, place, extra))

    def add_columns(self, hashes: bytes, tags: bytes, places: bytes, extras: bytes) -> None:
        columns = [
            array(code, data)
            for code, data in zip("QQII", (hashes, tags, places, extras), strict=True)
        ]
        for identity, tag, place, extra in zip(*columns, strict=True):
            self.records.append((identity, tag >> KIND_SHIFT, tag & LINE_MASK, place, extra))


def side_state(side: Side) -> dict[str, Any]:
    return {f.name: getattr(side, f.name) for f in dataclasses.fields(side) if f.name != "memory"}


class Lines:
    """Reads lines both ways for one role against one archive's members."""

    def __init__(self, archive: Archive | None, role: reconcile_read.Role) -> None:
        self.archive = archive
        self.role = role
        self.table = None if archive is None else archive.index.table
        # Both ways of counting an attachment whose file is absent: left out (the archive has
        # files, as the source fixture pretends) or kept by name (none, the target's).
        self.has_files = role == "source"

    def side(self) -> Side:
        return Side("x", self.role, has_files=self.has_files, drops_absent=self.has_files)

    def size_of(self, key: str) -> int | None:
        member = None if self.archive is None else self.archive.lookup(key)
        return None if member is None or member.is_dir else member.size

    def python(self, lines: list[bytes]) -> tuple[dict[str, Any], list[Any]]:
        sink = Collect()
        reader = SideReader(self.side(), sink, self.size_of)
        for number, raw in enumerate(lines, 1):
            record = decode_plain(raw)
            if type(record) is dict:
                reader.line(number, record)
        return side_state(reader.side), sink.records

    def native(self, lines: list[bytes]) -> tuple[int, dict[str, Any], list[Any]]:
        """(lines C took from the start, the side and records it leaves)."""
        assert RECORDS is not None
        sink = Collect()
        reader = SideReader(self.side(), sink, self.size_of)
        native = RECORDS(self.table, self.has_files)
        taken = native.read(list(lines), 0, 1)
        reader.take_native(native)
        return taken, side_state(reader.side), sink.records

    def check(self, raw: bytes) -> str:
        """ "taken" (and C's side and records are Python's) or "declined"."""
        taken, side, records = self.native([raw])
        if taken == 0:
            assert records == [], "declined, yet recorded"
            assert side == side_state(self.side()), "declined, yet registered"
            return "declined"
        assert taken == 1
        assert (side, records) == self.python([raw]), f"C and Python read {raw[:300]!r} apart"
        return "taken"


@pytest.fixture(scope="module", params=["source", "target"])
def lines_with_files(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lines]:
    path = make_archive(tmp_path_factory.mktemp("files") / "files.zip", [], FILES)
    with open_archive(path) as archive:
        yield Lines(archive, request.param)


SEED_RECORDS: list[dict[str, Any]] = [
    post(
        "Team1", "Chan-1", "Alice", "hello ✓ \"q\" \\ 😀", T0,
        attachments=["a.txt", "b/c.LOG", "missing.png", "", "dir"],
        reactions=[reaction("bob", "+1", T0 + 5), reaction("Bob", "smile", T0 - 1)],
        replies=[
            reply("bob", "next", T0 + 1, attachments=["a.txt"], reactions=[reaction("c", "x", 1)]),
            reply("ALICE", "older than its post: clamped", T0 - 10),
            reply("", "empty user", T0 + 2, attachments=["gone/x.Txt"]),
        ],
        props={"n": 1.5, "nested": {"deep": [1, "two", None, True]}},
        thread_followers=[{"user": "bob", "last_viewed": 3}],
    ),
    post("team1", "chan-1", "bob", "", -1),
    direct_post(["alice", "bob"], "alice", "dm", T0 + 3),
    direct_post(["Bob", "alice", "BOB"], "bob", "the same DM written otherwise", T0 + 4),
    direct_post(["carol", "alice", "bob"], "carol", "gm", T0 + 6, attachments=["a.txt"]),
    direct_post(["a,b", "c"], "c", "a comma in a name", T0 + 7),
    post(
        "team1", "chan-1", "bob", "NFC paths: C finds them", T0 + 8,
        attachments=["\u00fcbersicht/caf\u00e9 \u202f.txt", "\u00fcbersicht/gone.png"],
    ),
]  # fmt: skip
# Many posts: about half their identities are above 2**63 (the replies' parents then go in as
# text, as encode_identity writes such an int).
SEED_RECORDS += [
    post("t", "c", "u", f"message {i}", T0 + i, replies=[reply("v", "r", T0 + i)]) for i in range(8)
]
SEEDS = [dump_json_line(record) for record in SEED_RECORDS]
SEEDS += [
    b'{"type":"post","post":{"team":"t","channel":"c","user":null,"create_at":5,'
    b'"message":"caf\\u00e9 \\ud83d\\ude00 \\n","replies":[{"create_at":null,"message":"x"},'
    b'{"create_at":6},{"message":"no date"},{"create_at":7,"message":"ok","user":"u",'
    b'"reactions":[{"user":"u"},{"emoji_name":"e"},{"user":null,"emoji_name":"e"},'
    b'{"user":"U","emoji_name":"\\u00e9"}]}]}}',
    b'{"type":"post","post":{"team":"t","channel":"c","create_at":-9223372036854775808,'
    b'"message":"","reactions":null,"attachments":[{},{"path":null}],"replies":[]}}',
]
DECLINED = {
    "no message": b'{"type":"post","post":{"team":"t","channel":"c","create_at":1}}',
    "no date": b'{"type":"post","post":{"team":"t","channel":"c","message":"m"}}',
    "message null": b'{"type":"post","post":{"team":"t","channel":"c","create_at":1,'
    b'"message":null}}',
    "non-ASCII team": b'{"type":"post","post":{"team":"t\xc3\xa9","channel":"c","create_at":1,'
    b'"message":"m"}}',
    "escaped channel": b'{"type":"post","post":{"team":"t","channel":"\\u0063","create_at":1,'
    b'"message":"m"}}',
    "non-ASCII user": b'{"type":"post","post":{"team":"t","channel":"c","create_at":1,'
    b'"message":"m","user":"\xc3\xa9"}}',
    "non-ASCII reaction user": b'{"type":"post","post":{"team":"t","channel":"c","create_at":1,'
    b'"message":"m","reactions":[{"user":"\xc3\xa9","emoji_name":"e"}]}}',
    "message of another type": b'{"type":"post","post":{"team":"t","channel":"c",'
    b'"create_at":1,"message":1}}',
    "emoji of another type": b'{"type":"post","post":{"team":"t","channel":"c","create_at":1,'
    b'"message":"m","reactions":[{"user":"u","emoji_name":1}]}}',
    "reply message of another type": b'{"type":"post","post":{"team":"t","channel":"c",'
    b'"create_at":1,"message":"m","replies":[{"create_at":2,"message":[]}]}}',
    "float date": b'{"type":"post","post":{"team":"t","channel":"c","create_at":1.0,'
    b'"message":"m"}}',
    "repeated message": b'{"type":"post","post":{"team":"t","channel":"c","create_at":1,'
    b'"message":"m","message":"n"}}',
    "NFD file name": b'{"type":"post","post":{"team":"t","channel":"c","create_at":1,'
    b'"message":"m","attachments":[{"path":"e\xcc\x81.txt"}]}}',
    "file name not UTF-8": b'{"type":"post","post":{"team":"t","channel":"c","create_at":1,'
    b'"message":"m","attachments":[{"path":"\xff.txt"}]}}',
    "non-ASCII member": b'{"type":"direct_post","direct_post":{"channel_members":["\xc3\xa9"],'
    b'"create_at":1,"message":"m"}}',
}


@needs_c
def test_every_seed_line_is_taken_and_read_as_python_reads_it(lines_with_files: Lines) -> None:
    for raw in SEEDS:
        assert lines_with_files.check(raw) == "taken", raw
    digests = [r[0] for raw in SEEDS for r in lines_with_files.python([raw])[1] if r[1] == 1]
    assert any(d > 2**63 for d in digests)
    assert any(d < 2**63 for d in digests)


@needs_c
@pytest.mark.parametrize("name", sorted(DECLINED))
def test_unusual_lines_are_left_to_python(lines_with_files: Lines, name: str) -> None:
    assert lines_with_files.check(DECLINED[name]) == "declined"


@needs_c
def test_without_a_member_index_lines_with_files_are_left_to_python() -> None:
    lines = Lines(None, "target")
    assert lines.check(dump_json_line(post("t", "c", "u", "m", T0, attachments=["a.txt"]))) == (
        "declined"
    )
    assert lines.check(dump_json_line(post("t", "c", "u", "m", T0))) == "taken"


@needs_c
def test_every_prefix_and_mutation_of_post_lines_reads_alike(
    lines_with_files: Lines, tmp_path: Path
) -> None:
    rng = random.Random(20241204)
    lines = [*generated_post_lines(tmp_path, 8)[:20], *SEEDS]
    verdicts = Counter(map(lines_with_files.check, variants(lines, rng, 100, scaled_examples(25))))
    assert verdicts["taken"] > 100, verdicts
    assert verdicts["declined"] > 100, verdicts


@needs_c
@settings(
    max_examples=scaled_examples(1),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=record_mutations(SEEDS, max_mutations=4))
def test_record_mutations_read_alike(lines_with_files: Lines, mutations: Any) -> None:
    for raw in apply_record_mutations(SEEDS, mutations):
        lines_with_files.check(raw)


@needs_c
def test_names_are_registered_in_the_order_python_meets_them(lines_with_files: Lines) -> None:
    # Several lines in one run: places and users met first in later lines, users met first
    # as reactors before they write, a DM met again.
    lines = [
        dump_json_line(post("t", "b", "zed", "1", T0, reactions=[reaction("amy", "e", T0)])),
        dump_json_line(direct_post(["y", "x"], "x", "2", T0)),
        dump_json_line(post("t", "a", "amy", "3", T0, replies=[reply("kim", "r", T0)])),
        dump_json_line(direct_post(["X", "y"], "kim", "4", T0)),
    ]
    taken, side, records = lines_with_files.native(lines)
    assert taken == 4
    assert (side, records) == lines_with_files.python(lines)
    assert side["people"] == ["zed", "amy", "x", "kim"]
    assert side["places"] == [("t", "b"), ("", "x,y"), ("t", "a")]
    assert side["directs"] == {"x,y": 2}


@needs_c
def test_reading_leaks_no_python_objects(lines_with_files: Lines) -> None:
    assert RECORDS is not None
    rng = random.Random(6)
    batch = [*SEEDS, *DECLINED.values(), *(mutate(raw, rng) for raw in SEEDS for _ in range(40))]

    def read_all() -> None:
        reader = RECORDS(lines_with_files.table, lines_with_files.has_files)
        places = users = 0
        start = 0
        while start < len(batch):
            stop = reader.read(batch, start, 1)
            new_places, _, new_users = reader.new_names()
            reader.take(
                list(range(places, places + len(new_places))),
                list(range(users, users + len(new_users))),
            )
            places, users = places + len(new_places), users + len(new_users)
            start = stop + 1

    read_all()
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(5):
        read_all()
    gc.collect()
    assert sys.getallocatedblocks() - before < 100


@needs_c
def test_take_wants_one_id_per_new_name() -> None:
    assert RECORDS is not None
    reader = RECORDS(None, True)
    assert reader.read([dump_json_line(post("t", "c", "u", "m", T0))], 0, 1) == 1
    assert reader.new_names() == ([("t", "c")], [None], ["u"])
    with pytest.raises(ValueError, match="one id for each new name"):
        reader.take([], [0])
    hashes, tags, places, extras, absent = reader.take([7], [9])
    assert (array("I", places).tolist(), array("I", extras).tolist(), absent) == ([7], [9], 0)
    assert array("Q", tags).tolist() == [(reconcile_read.POST << KIND_SHIFT) | 1]
    assert array("Q", hashes).tolist() == [post_identity("post", "t", "c", T0, "m")]


# --- archive by archive ------------------------------------------------------------------------


def read_both_ways(
    path: Path, role: reconcile_read.Role, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    sides = []
    for native in (RECORDS, None):
        with monkeypatch.context() as patch, tempfile.TemporaryDirectory() as spool:
            patch.setattr(reconcile_read, "NATIVE_RECORDS", native)
            side = read_side(str(path), role, spool)
            records = (
                side.memory.tobytes()
                if side.memory is not None
                else b"".join(read_bucket(spool, bucket).tobytes() for bucket in range(BUCKETS))
            )
            sides.append((side_state(side), records))
    assert sides[0] == sides[1]
    return sides[0][0]


@needs_c
@pytest.mark.parametrize("archive", [*SAMPLES, REAL], ids=lambda p: p.name)
@pytest.mark.parametrize("role", ["source", "target"])
def test_samples_read_the_same_either_way(
    archive: Path, role: reconcile_read.Role, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_both_ways(archive, role, monkeypatch)


@needs_c
def test_a_generated_export_and_its_reexport_reconcile_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = tmp_path / "gen.zip", tmp_path / "again.zip"
    generate_export(source, seed=6, posts=500, direct_posts=90, attachments=12)
    reexport(source, target, drop_files=[], deleted_users=[])
    assert read_both_ways(source, "source", monkeypatch)["records"] > 1000
    read_both_ways(target, "target", monkeypatch)
    with_c = reconcile(source, target, workers=1).to_dict()
    monkeypatch.setattr(reconcile_read, "NATIVE_RECORDS", None)
    assert reconcile(source, target, workers=1).to_dict() == with_c


@needs_c
def test_a_spilling_spool_is_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivekit.report import spool

    monkeypatch.setattr(spool, "FLUSH_EVERY", 64)
    path = tmp_path / "gen.zip"
    generate_export(path, seed=9, posts=300, direct_posts=40, attachments=6)
    read_both_ways(path, "source", monkeypatch)


SOURCE_LINES: list[Any] = [
    team("T"),
    channel("T", "C"),
    user("u", teams={"t": ["c"]}),
    *SEED_RECORDS[:6],
]


@needs_c
@settings(
    max_examples=scaled_examples(0.3),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=record_mutations([dump_json_line(line) for line in SOURCE_LINES], 4))
def test_mutated_archives_read_the_same_either_way(
    mutations: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = apply_record_mutations([dump_json_line(line) for line in SOURCE_LINES], mutations)
    path = make_archive(
        tmp_path_factory.mktemp("m") / "m.zip", [*lines, *DECLINED.values(), *SEEDS[6:]], FILES
    )
    read_both_ways(path, "source", monkeypatch)
    read_both_ways(path, "target", monkeypatch)


def test_another_identity_function_reads_in_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # C digests only post_identity: a run with another identity must not use it.
    calls: list[Any] = []

    def identity(*parts: Any) -> int:
        calls.append(parts)
        return post_identity(*parts)

    path = make_archive(tmp_path / "a.zip", SOURCE_LINES)
    read_side(str(path), "source", str(tmp_path / "spool"), identity=identity)
    assert any(parts[0] == "post" for parts in calls)
