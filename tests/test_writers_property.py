"""Properties of the writers on generated archives and on mutated ones.

* filter with random selectors (every selector, its exclude form too): the output validates
  clean; its post and direct-post lines are exactly the ones the selectors pick (nothing
  unselected kept, nothing selected lost); every definition the selectors pick for itself is
  there (nothing selected lost) and every definition it keeps is selected or needed by a kept
  line; every file a kept line names is there, and no other.
* split at random sizes: the parts hold the source's lines; merge of the parts is the source
  (generated sources repeat no post: see test_split_merge for one that does).
* mutated archives (the fuzz suite's mutations): filter, split and merge end with a result or
  one of archivekit's errors (exit 1, 2 or 3), never another exception.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archivekit.errors import ArchiveKitError
from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.gosem.paths import resolve
from archivekit.gosem.strings import go_lower
from archivekit.read import ReadLimits
from archivekit.testing.fuzz import MutatedArchive, archive_mutations, scaled_examples
from archivekit.testing.synth import generate_export
from archivekit.validate import validate
from archivekit.write.select import EXPORT_ORDER, Selection
from archivekit.writers import filter_archive, fix_archive, merge_archives, split_archive

EXAMPLES = scaled_examples(0.25)


@dataclass(frozen=True)
class Source:
    path: Path
    records: tuple[dict[str, Any], ...]
    lines: tuple[bytes, ...]

    def names(self, kind: str, key: str = "name") -> list[str]:
        return sorted({r[kind][key] for r in self.records if r["type"] == kind})

    @property
    def channels(self) -> list[tuple[str, str]]:
        return sorted(
            {
                (r["channel"]["team"], r["channel"]["name"])
                for r in self.records
                if r["type"] == "channel"
            }
        )

    @property
    def dms(self) -> list[frozenset[str]]:
        found = set()
        for r in self.records:
            if r["type"] == "direct_channel":
                found.add(frozenset(p["username"] for p in r["direct_channel"]["participants"]))
        return sorted(found, key=sorted)

    @property
    def times(self) -> list[int]:
        return sorted(r[r["type"]]["create_at"] for r in self.records if r["type"] in CONTENT)


CONTENT = POST_LINE_TYPES


def read_jsonl(path: Path) -> list[bytes]:
    with zipfile.ZipFile(path) as zf:
        return zf.read("import.jsonl").split(b"\n")[:-1]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    folder = tmp_path_factory.mktemp("sources")
    shapes = [
        {"seed": 1, "teams": 2, "users": 9, "posts": 60, "direct_posts": 20, "attachments": 6},
        {
            "seed": 2, "teams": 3, "channels_per_team": 3, "users": 12, "posts": 50,
            "direct_posts": 15, "attachments": 8, "emojis": 2, "bots": 1,
            "roles_and_schemes": True, "profile_images": True,
        },
    ]  # fmt: skip
    found = []
    for shape in shapes:
        path = folder / f"export-{shape['seed']}.zip"
        generate_export(path, **shape)
        assert validate(path).valid
        lines = tuple(read_jsonl(path))
        found.append(Source(path, tuple(orjson.loads(line) for line in lines), lines))
    return found


@st.composite
def selections(draw: st.DrawFn, source: Source) -> Selection:
    def some(values: list[Any], most: int = 2) -> frozenset[Any]:
        if not values or not draw(st.booleans()):
            return frozenset()
        return frozenset(draw(st.lists(st.sampled_from(values), max_size=most)))

    users = source.names("user", "username")
    times = source.times
    since = draw(st.none() | st.sampled_from(times))
    until = draw(st.none() | st.sampled_from(times))
    types = draw(st.none() | st.sets(st.sampled_from(LINE_TYPES)))
    return Selection(
        teams=some(source.names("team")),
        channels=some(source.channels),
        users=some(users),
        dms=some(source.dms, 1),
        exclude_teams=some(source.names("team"), 1),
        exclude_channels=some(source.channels, 1),
        exclude_users=some(users, 1),
        exclude_dms=some(source.dms, 1),
        since=since,
        until=until,
        types=None if types is None else frozenset(types),
        exclude_types=some(LINE_TYPES),
        attachments=draw(st.booleans()),
        direct=draw(st.booleans()),
    )


LINE_TYPES = [t for t in EXPORT_ORDER if t != "version"]


def selected_types(sel: Selection) -> set[str]:
    """The line types the selectors pick (the documented rule, written apart from filter)."""
    types = set(EXPORT_ORDER) if sel.types is None else set(sel.types) | {"version"}
    types -= set(sel.exclude_types)
    if not sel.direct:
        types -= {"direct_channel", "direct_post"}
    return types


Names = set[str]
Places = set[tuple[str, str]]


def lowered(sel: Selection) -> tuple[Names, Places, Names, Names, Places, Names]:
    """The place selectors as the server stores names: teams, channels, users, then the
    excluded teams, channels and users."""
    low = go_lower
    return (
        {low(t) for t in sel.teams},
        {(low(t), low(c)) for t, c in sel.channels},
        {low(u) for u in sel.users},
        {low(t) for t in sel.exclude_teams},
        {(low(t), low(c)) for t, c in sel.exclude_channels},
        {low(u) for u in sel.exclude_users},
    )


def expected_content(source: Source, sel: Selection) -> Counter[bytes]:
    """The content lines the documented rules pick (an oracle written apart from filter)."""
    teams, channels, users, x_teams, x_channels, x_users = lowered(sel)
    positive = sel.positive
    types = selected_types(sel)
    picked: Counter[bytes] = Counter()
    for raw, record in zip(source.lines, source.records, strict=True):
        kind = record["type"]
        if kind not in CONTENT or kind not in types:
            continue
        if kind == "direct_post" and not sel.direct:
            continue
        body = record[kind]
        at = body["create_at"]
        if (sel.since is not None and at < sel.since) or (sel.until is not None and at > sel.until):
            continue
        if kind == "post":
            # As the server looks them up: exactly as written.
            place = (body["team"], body["channel"])
            author = body["user"]
            if place[0] in x_teams or place in x_channels or author in x_users:
                continue
            if positive and not (place[0] in teams or place in channels or author in users):
                continue
        else:
            members = frozenset(body["channel_members"])
            if members in sel.exclude_dms or members & x_users:
                continue
            if positive and not (members in sel.dms or members & users):
                continue
        picked[raw] += 1
    return picked


def without_attachments(line: bytes) -> Any:
    record = orjson.loads(line)
    body = record.get(record["type"], {})
    if isinstance(body, dict):
        body.pop("attachments", None)
        for reply in body.get("replies") or ():
            reply.pop("attachments", None)
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_filter_keeps_exactly_the_selection_and_validates_clean(
    data: st.DataObject, sources: list[Source], tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = data.draw(st.sampled_from(sources))
    selection = data.draw(selections(source))
    out = tmp_path_factory.mktemp("f") / "out.zip"
    filter_archive(source.path, out, selection, check_input=False)
    report = validate(out)
    assert report.valid, (selection, report.issues[:3])
    lines = read_jsonl(out)
    records = [orjson.loads(line) for line in lines]
    kept = Counter(line for line, r in zip(lines, records, strict=True) if r["type"] in CONTENT)
    expected = expected_content(source, selection)
    if selection.attachments:
        assert kept == expected
    else:
        assert Counter(map(without_attachments, kept.elements())) == Counter(
            map(without_attachments, expected.elements())
        )
    check_definitions(source, selection, records)
    assert selected_definitions(source, selection) <= definitions(records), selection
    check_files(out, records, selection)


def definitions(records: Iterable[dict[str, Any]]) -> set[tuple[str, Any]]:
    """(type, the importer's identity) of every definition line."""
    low = go_lower
    found: set[tuple[str, Any]] = set()
    for record in records:
        kind = record["type"]
        body = record.get(kind)
        if kind == "channel":
            found.add((kind, (low(body["team"]), low(body["name"]))))
        elif kind == "direct_channel":
            found.add((kind, frozenset(low(p["username"]) for p in body["participants"])))
        elif kind in ("user", "bot"):
            found.add((kind, low(body["username"])))
        elif kind not in (*CONTENT, "version"):
            found.add((kind, low(body["name"])))
    return found


def selected_definitions(source: Source, sel: Selection) -> set[tuple[str, Any]]:
    """The definitions the selectors pick for themselves (README: a selected team, its
    channels and members; a selected channel; a named user; a DM or GM the place selectors
    pick; with no place selector, every definition of a selected type not excluded): the
    output must have each, needed by a kept line or not."""
    low = go_lower
    types = selected_types(sel)
    teams, channels, users, x_teams, x_channels, x_users = lowered(sel)
    positive = sel.positive
    in_scope = {
        t for t in source.names("team") if t not in x_teams and (not positive or t in teams)
    }
    wanted: set[tuple[str, Any]] = set()
    for kind, identity in definitions(source.records):
        if kind not in types:
            continue
        if kind == "team":
            picked = identity not in x_teams and (
                not positive or identity in teams | {t for t, _ in channels}
            )
        elif kind == "channel":
            picked = identity[0] not in x_teams and identity not in x_channels
            picked = picked and (not positive or identity[0] in teams or identity in channels)
        elif kind == "direct_channel":
            picked = identity not in sel.exclude_dms and not identity & x_users
            picked = picked and (not positive or identity in sel.dms or bool(identity & users))
        elif kind in ("user", "bot"):
            record = next(
                r[kind]
                for r in source.records
                if r["type"] == kind and low(r[kind]["username"]) == identity
            )
            member_of = {low(m["name"]) for m in record.get("teams") or ()}
            picked = identity not in x_users and (
                identity in users
                or (kind == "user" and bool(member_of & in_scope))
                or (not positive and (kind == "bot" or not member_of))
            )
        else:  # scheme, role, emoji: all of them when no place is narrowed
            picked = not positive
        if picked:
            wanted.add((kind, identity))
    return wanted


def check_definitions(source: Source, sel: Selection, records: list[dict[str, Any]]) -> None:
    """Every kept definition is selected or needed; everything kept lines name is there."""
    low = go_lower
    content = [r[r["type"]] for r in records if r["type"] in CONTENT]
    named: set[str] = set()
    places: set[tuple[str, str]] = set()
    for body in content:
        named.update(low(u) for u in refs(body))
        if "team" in body:
            places.add((low(body["team"]), low(body["channel"])))
    kept_users = {low(r[r["type"]]["username"]) for r in records if r["type"] in ("user", "bot")}
    kept_channels = {
        (r["channel"]["team"], r["channel"]["name"]) for r in records if r["type"] == "channel"
    }
    kept_teams = {r["team"]["name"] for r in records if r["type"] == "team"}
    assert named <= kept_users | {""}  # nothing a kept line names is lost
    assert {t for t, _ in places} <= kept_teams
    x_users = {low(u) for u in sel.exclude_users}
    for user in kept_users & x_users:
        assert (
            user in named
            or any(user in {low(m) for m in body.get("channel_members", ())} for body in content)
            or user in owners(records)
        ), f"excluded user {user} kept without need"
    if sel.positive:
        teams = {low(t) for t in sel.teams} | {low(t) for t, _ in sel.channels}
        allowed = teams | {t for t, _ in places} | {t for t, _ in kept_channels}
        assert kept_teams <= allowed
        selected = {(low(t), low(c)) for t, c in sel.channels}
        for team, channel in kept_channels:
            assert team in {low(t) for t in sel.teams} or (team, channel) in selected | places


def refs(body: dict[str, Any]) -> set[str]:
    found = {body.get("user", "")} | set(body.get("flagged_by") or ())
    found |= set(body.get("channel_members") or ())
    found |= {r["user"] for r in body.get("reactions") or ()}
    found |= {f["user"] for f in body.get("thread_followers") or ()}
    for reply in body.get("replies") or ():
        found |= refs(reply)
    return found


def owners(records: list[dict[str, Any]]) -> set[str]:
    return {go_lower(r["bot"]["owner"]) for r in records if r["type"] == "bot"}


def check_files(out: Path, records: list[dict[str, Any]], sel: Selection) -> None:
    wanted: set[str] = set()
    for record in records:
        body = record[record["type"]] if record["type"] != "version" else {}
        paths = [a["path"] for a in body.get("attachments") or ()]
        paths += [a["path"] for r in body.get("replies") or () for a in r.get("attachments") or ()]
        paths += [body[k] for k in ("profile_image", "image") if body.get(k)]
        wanted |= {key for p in paths if (key := resolve(p)) is not None}
    with zipfile.ZipFile(out) as zf:
        present = {n for n in zf.namelist() if n != "import.jsonl"}
    assert present == wanted
    if not sel.attachments:
        assert all(
            "attachments" not in r.get(r["type"], {}) for r in records if r["type"] in CONTENT
        )


@settings(max_examples=max(3, EXAMPLES // 3))
@given(data=st.data(), limit=st.integers(min_value=4_000, max_value=40_000))
def test_split_then_merge_is_the_source(
    data: st.DataObject, limit: int, sources: list[Source], tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = data.draw(st.sampled_from(sources))
    folder = tmp_path_factory.mktemp("s")
    by = data.draw(st.sampled_from([None, None, "team", "month"]))
    result = split_archive(source.path, folder / "parts", max_bytes=limit, by=by, check_input=False)
    parts = [folder / "parts" / p.file for p in result.stats.parts]
    for part, info in zip(parts, result.stats.parts, strict=True):
        assert part.stat().st_size <= limit or info.over_limit
    merged = folder / "merged.zip"
    merge_archives(parts, merged, check_input=False)
    assert Counter(read_jsonl(merged)) == Counter(source.lines)


# --- mutated archives ---------------------------------------------------------------------------

SMALL_LIMITS = ReadLimits(max_member_size=8 << 20, max_total_size=64 << 20)


@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_writers_on_mutated_archives_end_in_a_result_or_an_archivekit_error(
    data: st.DataObject, sources: list[Source], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from archivekit.testing.fuzz import ArchiveRecipe

    source = data.draw(st.sampled_from(sources))
    recipe = ArchiveRecipe(source.lines[:40], {})
    mutated: MutatedArchive = data.draw(archive_mutations(recipe))
    folder = tmp_path_factory.mktemp("m")
    path = mutated.write(folder / "export.zip")
    writers = [
        lambda: filter_archive(
            path, folder / "f.zip", Selection(users=frozenset({"alice.smith"})),
            check_input=False, read_limits=SMALL_LIMITS,
        ),
        lambda: filter_archive(path, folder / "g.zip", check_input=False, read_limits=SMALL_LIMITS),
        lambda: split_archive(
            path, folder / "parts", max_bytes=5_000, by="team", check_input=False,
            read_limits=SMALL_LIMITS,
        ),
        lambda: merge_archives(
            [path, source.path], folder / "m.zip", check_input=False, read_limits=SMALL_LIMITS
        ),
        lambda: fix_archive(path, folder / "x.zip", read_limits=SMALL_LIMITS).close(),
    ]  # fmt: skip
    for write in writers:
        assert exit_code(write) in (0, 1, 2, 3)


def exit_code(write: Any) -> int:
    """0 when the writer finished; the exit code of the archivekit error it raised. Any other
    exception propagates: that is the bug this property looks for."""
    try:
        write()
    except ArchiveKitError as exc:
        return exc.exit_code
    return 0


@settings(max_examples=scaled_examples(0.05))
@given(data=st.data())
def test_the_writer_commands_keep_the_cli_contract_on_mutated_archives(
    data: st.DataObject, sources: list[Source], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Through the real CLI: a documented exit code, never a traceback, and nothing under the
    output's name unless the command succeeded."""
    from archivekit.testing.fuzz import ArchiveRecipe

    source = data.draw(st.sampled_from(sources))
    mutated: MutatedArchive = data.draw(archive_mutations(ArchiveRecipe(source.lines[:30], {})))
    folder = tmp_path_factory.mktemp("cli")
    path = mutated.write(folder / "export.zip")
    for args, output in (
        (["filter", str(path), "-o", str(folder / "f.zip"), "--no-direct"], folder / "f.zip"),
        (["split", str(path), "-o", str(folder / "p"), "--max-bytes", "3kB"], folder / "p"),
        (["fix", str(path), "-o", str(folder / "x.zip")], folder / "x.zip"),
    ):
        check = [] if args[0] == "fix" else ["--no-check"]  # fix checks nothing on the side
        done = subprocess.run(
            [sys.executable, "-m", "archivekit", *args, *check],
            capture_output=True,
            timeout=60,
            check=False,
        )
        stderr = done.stderr.decode("utf-8", "replace")
        assert "Traceback" not in stderr, stderr[-2000:]
        assert done.returncode in (0, 2, 3), (done.returncode, stderr[-2000:])
        if done.returncode:
            assert stderr.startswith("archivekit: ")
            assert not output.exists() or not any(output.glob("*.zip"))
