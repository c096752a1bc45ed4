"""`split_archive` and `merge_archives`: parts that import in order, under the limit, that
together hold exactly the source; merge of the parts gives back what importing them gives
(the source as a multiset, but a post the source repeats in two parts once)."""

from __future__ import annotations

import hashlib
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from archivekit.check.references import Existing
from archivekit.errors import OutputError, UsageError
from archivekit.options import parse_size
from archivekit.testing.synth import (
    channel,
    direct_channel,
    direct_post,
    make_archive,
    post,
    reply,
    team,
    user,
)
from archivekit.validate import validate
from archivekit.write.select import Selection
from archivekit.writers import filter_archive, merge_archives, split_archive

REPO = Path(__file__).resolve().parent.parent
CLEAN = REPO / "sample_exports" / "clean.zip"
FIXTURE = REPO / "tests" / "fixtures" / "mattermost-server-tests-import_test.zip"
T0 = 1_704_153_600_000


def jsonl(path: Path) -> list[bytes]:
    with zipfile.ZipFile(path) as zf:
        return zf.read("import.jsonl").split(b"\n")[:-1]


def files(path: Path) -> dict[str, tuple[int, int]]:
    with zipfile.ZipFile(path) as zf:
        return {
            i.filename: (i.CRC, i.file_size) for i in zf.infolist() if i.filename != "import.jsonl"
        }


def referenced_files(path: Path) -> dict[str, tuple[int, int]]:
    """The source's files some line refers to (what a writer copies)."""
    report = validate(path)
    assert report.attachments.unreferenced == 0, "samples used here reference every file"
    return files(path)


def check_parts_in_order(parts: list[Path], source_codes: set[str] | None = None) -> None:
    """Validate each part with what the parts before it define declared as existing."""
    teams: set[str] = set()
    channels: set[tuple[str, str]] = set()
    users: set[str] = set()
    schemes: set[str] = set()
    for part in parts:
        existing = Existing(
            frozenset(teams), frozenset(channels), frozenset(users), frozenset(schemes)
        )
        report = validate(part, existing=existing)
        if source_codes is None:
            assert report.valid, (part.name, report.issues[:3])
            assert report.warnings == 0, (part.name, report.issues[:3])
        else:
            assert set(report.issue_counts) <= source_codes, (part.name, report.issue_counts)
        for line in jsonl(part)[1:]:
            record = orjson.loads(line)
            kind = record.get("type")
            body = record.get(kind) or {}
            if kind == "team":
                teams.add(body["name"])
            elif kind == "channel":
                channels.add((body["team"], body["name"]))
            elif kind in ("user", "bot"):
                users.add(body["username"])
            elif kind == "scheme":
                schemes.add(body["name"])


def part_paths(result: Any) -> list[Path]:
    return [Path(result.folder) / p.file for p in result.stats.parts]


# --- split ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "by"),
    [(12_000, None), (30_000, None), (None, "team"), (None, "channel"), (25_000, "month")],
)
def test_parts_hold_exactly_the_source_import_in_order_and_stay_under_the_limit(
    tmp_path: Path, limit: int | None, by: Any
) -> None:
    result = split_archive(CLEAN, tmp_path / "parts", max_bytes=limit, by=by, check_input=False)
    parts = part_paths(result)
    assert len(parts) > 1
    source = jsonl(CLEAN)
    together: Counter[bytes] = Counter()
    for part in parts:
        lines = jsonl(part)
        assert lines[0] == source[0]  # every part starts with the source's version line
        together.update(lines[1:])
        if limit is not None:
            assert part.stat().st_size <= limit
    assert together == Counter(source[1:])
    all_files: dict[str, tuple[int, int]] = {}
    for part in parts:
        all_files.update(files(part))
    assert all_files == referenced_files(CLEAN)
    check_parts_in_order(parts)
    assert not result.over_limit


def test_the_manifest_lists_the_parts_in_import_order_with_checksums(tmp_path: Path) -> None:
    result = split_archive(CLEAN, tmp_path / "parts", max_bytes=20_000, check_input=False)
    assert result.manifest is not None
    manifest = orjson.loads(Path(result.manifest).read_bytes())
    assert [p["part"] for p in manifest["parts"]] == list(range(1, len(result.stats.parts) + 1))
    for entry in manifest["parts"]:
        path = tmp_path / "parts" / entry["file"]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["size"] == path.stat().st_size
        assert entry["commands"]["upload"] == f"mmctl import upload {path}"
        assert entry["commands"]["process"].startswith("mmctl import process <upload-id>_")
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == sorted(
        [p["file"] for p in manifest["parts"]] + ["manifest.json"]
    )


def test_a_post_larger_than_the_limit_gets_the_only_part_over_it(tmp_path: Path) -> None:
    big = bytes(range(256)) * 400  # ~100 KB, incompressible enough for a stored member
    archive = make_archive(
        tmp_path / "big.zip",
        [
            team("eng"),
            channel("eng", "town-square"),
            user("alice", teams=["eng"]),
            *[post("eng", "town-square", "alice", f"hello {i}", T0 + i) for i in range(30)],
            post("eng", "town-square", "alice", "the big one", T0 + 100, attachments=["a/big.bin"]),
            *[post("eng", "town-square", "alice", f"after {i}", T0 + 200 + i) for i in range(30)],
        ],
        {"data/a/big.bin": big},
    )
    result = split_archive(archive, tmp_path / "parts", max_bytes=20_000, check_input=False)
    over = result.over_limit
    assert len(over) == 1
    assert over[0].over_limit is not None
    assert "line 35, the post in eng/town-square created at 1704153600100" in over[0].over_limit
    for part in part_paths(result):
        lines = jsonl(part)
        if part.name == over[0].file:
            assert len(lines) == 2  # the version line and the big post, alone
            assert part.stat().st_size > 20_000
        else:
            assert part.stat().st_size <= 20_000
    check_parts_in_order(part_paths(result))


def test_a_part_is_over_the_limit_exactly_when_its_real_size_is(tmp_path: Path) -> None:
    """At a limit below some posts' size: the parts that hold such a post alone are flagged,
    and no other (parts just under the limit, closed because nothing more fit, are not)."""
    limit = 1_500
    result = split_archive(CLEAN, tmp_path / "parts", max_bytes=limit, check_input=False)
    assert result.manifest is not None
    manifest = orjson.loads(Path(result.manifest).read_bytes())
    near = 0
    for info, path, entry in zip(
        result.stats.parts, part_paths(result), manifest["parts"], strict=True
    ):
        size = path.stat().st_size
        assert bool(info.over_limit) == (size > limit), (info.file, size, info.over_limit)
        assert entry["over_limit"] == info.over_limit
        if info.over_limit:
            assert len(jsonl(path)) == 2  # the version line and the one post
            assert f"the part is {size:,} bytes" in info.over_limit
        near += limit - 100 < size <= limit
    assert result.over_limit
    assert near  # parts close to the limit exist, and are not flagged


def test_split_of_the_real_fixture_adds_no_error(tmp_path: Path) -> None:
    result = split_archive(FIXTURE, tmp_path / "parts", max_bytes=100_000, check_input=False)
    codes = set(validate(FIXTURE).issue_counts)
    check_parts_in_order(part_paths(result), codes)
    assert sum(len(jsonl(p)) - 1 for p in part_paths(result)) == len(jsonl(FIXTURE)) - 1


def test_split_is_deterministic(tmp_path: Path) -> None:
    one = split_archive(CLEAN, tmp_path / "one", max_bytes=15_000, check_input=False)
    two = split_archive(CLEAN, tmp_path / "two", max_bytes=15_000, check_input=False)
    for a, b in zip(part_paths(one), part_paths(two), strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_split_refuses_a_folder_with_an_earlier_split_and_needs_a_size(tmp_path: Path) -> None:
    split_archive(CLEAN, tmp_path / "parts", max_bytes=30_000, check_input=False)
    with pytest.raises(OutputError, match="already holds a split"):
        split_archive(CLEAN, tmp_path / "parts", max_bytes=30_000, check_input=False)
    with pytest.raises(UsageError, match="--max-bytes"):
        split_archive(CLEAN, tmp_path / "other")


def test_a_failing_split_leaves_no_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archivekit.write import core

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(core.ArchiveWriter, "copy_member", fail)
    with pytest.raises(OSError, match="disk full"):
        split_archive(CLEAN, tmp_path / "parts", max_bytes=20_000, check_input=False)
    assert not (tmp_path / "parts").exists()  # the run created it: gone with the parts
    (tmp_path / "kept").mkdir()
    with pytest.raises(OSError, match="disk full"):
        split_archive(CLEAN, tmp_path / "kept", max_bytes=20_000, check_input=False)
    assert list((tmp_path / "kept").iterdir()) == []  # the user's folder stays


@pytest.mark.parametrize(
    ("text", "size"),
    [("500MB", 500_000_000), ("2GiB", 2 << 30), ("100M", 100_000_000), ("1.5kB", 1500), ("42", 42)],
)
def test_sizes_are_parsed_like_people_write_them(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_unreadable_sizes_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="500 parsecs"):
        parse_size("500 parsecs")


# --- merge ------------------------------------------------------------------------------------


def post_identity(line: bytes) -> tuple[Any, ...] | None:
    """The importer's identity of a post line (reference §6): channel, create_at, message."""
    record = orjson.loads(line)
    kind = record.get("type")
    if kind == "post":
        body = record["post"]
        place: tuple[Any, ...] = (body["team"].lower(), body["channel"].lower())
    elif kind == "direct_post":
        body = record["direct_post"]
        place = tuple(sorted(m.lower() for m in body["channel_members"]))
    else:
        return None
    return (kind, place, body["create_at"], body["message"])


def imported_in_turn(parts: list[Path]) -> Counter[bytes]:
    """The lines importing ``parts`` one after the other leaves: every line of every part, but
    a post that a later part repeats only there (the server finds the earlier copy by channel,
    create_at and message and updates it), and one version line."""
    lines = [jsonl(part) for part in parts]
    last = {}
    for number, part in enumerate(lines):
        for line in part[1:]:
            identity = post_identity(line)
            if identity is not None:
                last[identity] = number
    kept = Counter([lines[0][0]])
    for number, part in enumerate(lines):
        kept.update(line for line in part[1:] if last.get(post_identity(line), number) == number)
    return kept


REPEATED = post("eng", "town-square", "alice", "said twice", T0)


def noise(seed: int) -> str:
    """A message that hardly compresses (so that a few posts fill a small part)."""
    return "".join(hashlib.sha256(f"{seed} {k}".encode()).hexdigest() for k in range(4))


def repeating_source(folder: Path) -> Path:
    """A valid source that repeats a post far apart (`validate` warns: duplicate-post)."""
    return make_archive(
        folder / "repeats.zip",
        [
            team("eng"),
            channel("eng", "town-square"),
            user("alice", teams=["eng"]),
            REPEATED,
            *[post("eng", "town-square", "alice", noise(i), T0 + 1 + i) for i in range(40)],
            REPEATED,
        ],
    )


@pytest.mark.parametrize(
    ("source", "by"), [("clean", None), ("clean", "channel"), ("repeats", None)]
)
def test_merge_of_the_parts_gives_back_what_importing_the_parts_gives(
    tmp_path: Path, source: str, by: Any
) -> None:
    """merge ∘ split is the source's lines (a multiset) and files, except that a post the
    source repeats in two parts is merged once, as importing the parts in turn keeps it once
    (the later part's copy updates the earlier one); a source with no repeated post comes back
    whole."""
    path = CLEAN if source == "clean" else repeating_source(tmp_path)
    limit = 15_000 if source == "clean" else 3_000
    result = split_archive(path, tmp_path / "parts", max_bytes=limit, by=by, check_input=False)
    parts = part_paths(result)
    merged = tmp_path / "merged.zip"
    stats = merge_archives(parts, merged, check_input=False).stats
    assert Counter(jsonl(merged)) == imported_in_turn(parts)
    assert files(merged) == files(path)
    if source == "clean":
        assert Counter(jsonl(merged)) == Counter(jsonl(path))
        assert not stats.duplicates
    else:
        assert set(validate(path).issue_counts) == {"duplicate-post"}
        repeated = next(line for line in jsonl(path) if b"said twice" in line)
        assert sum(repeated in jsonl(p) for p in parts) == 2  # in two parts
        assert Counter(jsonl(path)) - Counter(jsonl(merged)) == Counter([repeated])
        assert stats.duplicates == {"post": 1}


def test_merge_of_the_real_fixture_parts_gives_back_its_lines(tmp_path: Path) -> None:
    result = split_archive(FIXTURE, tmp_path / "parts", max_bytes=100_000, check_input=False)
    merged = tmp_path / "merged.zip"
    merge_archives(part_paths(result), merged, check_input=False)
    assert Counter(jsonl(merged)) == Counter(jsonl(FIXTURE))


WORLD = [
    team("eng"),
    channel("eng", "town-square"),
    channel("eng", "dev"),
    user("alice", teams={"eng": ["dev"]}),
    user("bob", teams=["eng"]),
    post("eng", "dev", "alice", "shared", T0, attachments=["f/a.txt"]),
    direct_channel(["alice", "bob"]),
    direct_post(["alice", "bob"], "bob", "psst", T0 + 1),
]


def test_merge_dedupes_posts_keeps_the_later_definition_and_reports_conflicts(
    tmp_path: Path,
) -> None:
    a = make_archive(tmp_path / "a.zip", WORLD, {"data/f/a.txt": b"one"})
    b = make_archive(
        tmp_path / "b.zip",
        [
            team("eng"),
            team("ops"),
            channel("eng", "town-square"),
            channel("eng", "dev"),
            channel("ops", "alerts"),
            user("alice", teams={"ops": ["alerts"]}, email="alice@new.example.com"),
            post("eng", "dev", "alice", "shared", T0, replies=[reply("alice", "more", T0 + 5)]),
            post("ops", "alerts", "alice", "only in b", T0 + 2, attachments=["f/a.txt"]),
        ],
        {"data/f/a.txt": b"two"},
    )
    out = tmp_path / "out.zip"
    result = merge_archives([a, b], out, check_input=False)
    report = validate(out)
    assert report.valid, report.issues[:3]
    records = [orjson.loads(line) for line in jsonl(out)]
    posts = [r["post"] for r in records if r["type"] == "post"]
    # The shared post is kept once: b's line (the later input), with its reply.
    assert sorted(p["message"] for p in posts) == ["only in b", "shared"]
    assert next(p for p in posts if p["message"] == "shared").get("replies")
    alice = next(r["user"] for r in records if r.get("user", {}).get("username") == "alice")
    assert alice["email"] == "alice@new.example.com"
    assert sorted(t["name"] for t in alice["teams"]) == ["eng", "ops"]  # memberships united
    assert [r["type"] for r in records].count("team") == 2
    assert files(out)["data/f/a.txt"][1] == 3
    with zipfile.ZipFile(out) as zf:
        assert zf.read("data/f/a.txt") == b"two"
    codes = Counter(i.code for i in result.stats.issues)
    assert codes == {"merge-conflict": 3}  # alice's email, the shared post, the file
    assert result.stats.conflicts == {"definition": 1, "post": 1, "file": 1}
    assert result.stats.duplicates == {"post": 1}
    messages = " ".join(i.message for i in result.stats.issues)
    assert "email" in messages


def test_merge_needs_distinct_inputs(tmp_path: Path) -> None:
    a = make_archive(tmp_path / "a.zip", WORLD, {"data/f/a.txt": b"one"})
    with pytest.raises(UsageError, match="at least one"):
        merge_archives([], tmp_path / "out.zip")
    with pytest.raises(UsageError, match="twice"):
        merge_archives([a, a], tmp_path / "out.zip")
    with pytest.raises(OutputError, match="input"):
        merge_archives([a, CLEAN], a)


def test_merge_of_two_filters_is_the_union(tmp_path: Path) -> None:
    eng, mkt = tmp_path / "eng.zip", tmp_path / "mkt.zip"
    filter_archive(CLEAN, eng, Selection(teams=frozenset({"engineering"})), check_input=False)
    filter_archive(
        CLEAN, mkt, Selection(exclude_teams=frozenset({"engineering"})), check_input=False
    )
    out = tmp_path / "all.zip"
    merge_archives([eng, mkt], out, check_input=False)
    report = validate(out)
    assert report.valid
    source = validate(CLEAN)
    assert report.counts.posts == source.counts.posts
    assert report.counts.direct_posts == source.counts.direct_posts
    assert files(out) == files(CLEAN)


def test_merge_checks_each_input_after_the_ones_before_it(tmp_path: Path) -> None:
    result = split_archive(CLEAN, tmp_path / "parts", max_bytes=15_000, check_input=False)
    merged = merge_archives(part_paths(result), tmp_path / "merged.zip")
    assert len(merged.checks) == len(result.stats.parts)
    assert all(c.errors == 0 for c in merged.checks)


def test_merge_is_deterministic(tmp_path: Path) -> None:
    eng, rest = tmp_path / "eng.zip", tmp_path / "rest.zip"
    filter_archive(CLEAN, eng, Selection(teams=frozenset({"engineering"})), check_input=False)
    filter_archive(
        CLEAN, rest, Selection(exclude_teams=frozenset({"engineering"})), check_input=False
    )
    merge_archives([eng, rest, CLEAN], tmp_path / "one.zip", check_input=False)
    merge_archives([eng, rest, CLEAN], tmp_path / "two.zip", check_input=False)
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()


def resolve_peak(folder: Path, posts: int, *, duplicated: bool) -> tuple[int, Any]:
    """Peak bytes allocated while resolving the post index of two inputs of ``posts`` posts
    each: the second repeats every post of the first (``duplicated``) or none."""
    import tracemalloc

    from archivekit.write.merge import _PostIndex

    index = _PostIndex(folder)
    for line in range(1, posts + 1):
        identity = b"post %d" % line
        index.add(0, line, identity, identity)
        index.add(1, line, identity if duplicated else b"other %d" % line, identity)
    tracemalloc.start()
    try:
        index.resolve()
        return tracemalloc.get_traced_memory()[1], index
    finally:
        tracemalloc.stop()


def test_merge_keeps_8_bytes_per_duplicate_post(tmp_path: Path) -> None:
    resolve_peak(tmp_path, 10, duplicated=True)  # numpy's first use allocates for itself
    posts = 20_000
    with_duplicates, index = resolve_peak(tmp_path, posts, duplicated=True)
    without, _ = resolve_peak(tmp_path, posts, duplicated=False)
    assert index.duplicates == posts
    assert index._drops.nbytes == 8 * posts  # what stays until the output is written
    assert list(index.dropped(1)) == []
    assert list(index.dropped(0)) == list(range(1, posts + 1))
    # Resolving costs about the same with or without duplicates (the bucket files dominate):
    # no Python object or array per duplicate (that was ~180 bytes each).
    assert (with_duplicates - without) / posts < 16, (with_duplicates, without)


@pytest.mark.parametrize("participants", [False, True])
def test_merge_the_same_dm_listed_in_another_order_is_no_conflict(
    tmp_path: Path, participants: bool
) -> None:
    world = [team("eng"), user("alice", teams=["eng"]), user("bob", teams=["eng"])]
    a = make_archive(
        tmp_path / "a.zip", [*world, direct_channel(["alice", "bob"], participants=participants)]
    )
    b = make_archive(
        tmp_path / "b.zip", [*world, direct_channel(["bob", "Alice"], participants=participants)]
    )
    result = merge_archives([a, b], tmp_path / "out.zip", check_input=False)
    assert result.stats.merged["direct_channel"] == 1
    assert result.stats.issues == []
    # A different header is still a conflict, named by its field.
    c = make_archive(
        tmp_path / "c.zip",
        [*world, direct_channel(["bob", "alice"], participants=participants, header="news")],
    )
    result = merge_archives([a, c], tmp_path / "out2.zip", check_input=False)
    assert [i.values["fields"] for i in result.stats.issues] == ["header"]
