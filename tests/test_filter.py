"""`filter_archive`: smaller archives that still import.

Round trip (no selector = the same lines, byte for byte, and the files), every selector on the
samples and the real fixture (the output validates clean when the input did; it never adds an
error), dependency pull-in, membership pruning, files copied raw, determinism, bad input."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest

from archivekit.errors import ArchiveError, OutputError, UsageError
from archivekit.options import parse_date, parse_members
from archivekit.testing.synth import (
    channel,
    direct_channel,
    direct_post,
    emoji,
    make_archive,
    png_bytes,
    post,
    reaction,
    reply,
    team,
    user,
)
from archivekit.validate import validate
from archivekit.write.results import render_json
from archivekit.write.select import Selection
from archivekit.writers import InputHasErrors, filter_archive

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_exports"
FIXTURE = REPO / "tests" / "fixtures" / "mattermost-server-tests-import_test.zip"
T0 = 1_704_153_600_000  # 2024-01-02
DAY = 86_400_000
# clean.zip's posts run from 00:01 to 02:46 on 2024-01-01: these times cut through them.
CLEAN_SINCE = parse_date("2024-01-01T01:30:00Z")  # 103 of its 230 posts are on or after
CLEAN_UNTIL = parse_date("2024-01-01T01:00:00Z", end=True)  # 87 are on or before


def jsonl(path: Path) -> list[bytes]:
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".jsonl"))
        return zf.read(name).split(b"\n")[:-1]


def files(path: Path) -> dict[str, tuple[int, int, int, bytes]]:
    """name -> (method, crc, compressed size, content) of every non-JSONL member."""
    import zipfile_deflate64  # noqa: F401 - registers method 9

    with zipfile.ZipFile(path) as zf:
        return {
            i.filename: (i.compress_type, i.CRC, i.compress_size, zf.read(i))
            for i in zf.infolist()
            if not i.filename.endswith(".jsonl")
        }


def records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in jsonl(path)]


def names(path: Path, kind: str, key: str = "name") -> list[str]:
    return [r[kind][key] for r in records(path) if r.get("type") == kind]


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["clean.zip", "deflate64.zip", "broken.zip", "over_limits.zip"])
def test_no_selector_gives_back_every_line_and_file(tmp_path: Path, sample: str) -> None:
    source = SAMPLES / sample
    result = filter_archive(source, tmp_path / "out.zip", check_input=False)
    out = tmp_path / "out.zip"
    assert jsonl(out) == jsonl(source)
    # Exactly the files some line refers to, as raw copies: same method, CRC, compressed
    # size and bytes. broken.zip's report.csv is named "data/20240102/..." in its post: the
    # server looks for data/data/20240102/... and never finds it, so it is left out.
    unreferenced = {
        n for n in files(source) if sample == "broken.zip" and n.endswith("/report.csv")
    }
    assert len(unreferenced) == (sample == "broken.zip")
    kept = files(out)
    assert set(kept) == set(files(source)) - unreferenced
    for name, value in kept.items():
        assert files(source)[name] == value
    assert result.stats.files_dropped == len(unreferenced)
    assert result.stats.dropped == {}
    assert result.stats.rewritten == {}


def test_no_selector_on_the_real_fixture_keeps_every_line(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    result = filter_archive(FIXTURE, out, check_input=False)
    assert jsonl(out) == jsonl(FIXTURE)
    # Its three files sit under attachments/, where the server never looks: left out.
    assert files(out) == {}
    assert result.stats.files_dropped == 3
    report = validate(out)
    assert set(report.issue_counts) == {"attachment-missing"}


def test_output_is_deterministic_and_written_with_a_manifest(tmp_path: Path) -> None:
    selection = Selection(teams=frozenset({"engineering"}), since=CLEAN_SINCE)
    one = filter_archive(SAMPLES / "clean.zip", tmp_path / "one.zip", selection, check_input=False)
    two = filter_archive(SAMPLES / "clean.zip", tmp_path / "two.zip", selection, check_input=False)
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    assert one.manifest is not None
    assert two.manifest is not None
    first = orjson.loads(Path(one.manifest).read_bytes())
    second = orjson.loads(Path(two.manifest).read_bytes())
    assert first["archive"].pop("file") == "one.zip"
    assert second["archive"].pop("file") == "two.zip"
    assert first == second
    written = one.written
    assert written is not None
    assert first["archive"]["sha256"] == written.sha256
    assert first["archive"]["size"] == (tmp_path / "one.zip").stat().st_size
    members = first["archive"]["members"]
    assert members[0]["name"] == "import.jsonl"
    assert all(len(m["sha256"]) == 64 for m in members)
    assert Path(one.manifest).name == "one.manifest.json"


# --- selectors on the samples and the real fixture ------------------------------------------

SELECTIONS = {
    "team": Selection(teams=frozenset({"Engineering"})),
    "exclude-team": Selection(exclude_teams=frozenset({"engineering"})),
    "channel": Selection(channels=frozenset({("engineering", "off-topic")})),
    "exclude-channel": Selection(exclude_channels=frozenset({("engineering", "town-square")})),
    "user": Selection(users=frozenset({"alice.smith"})),
    "exclude-user": Selection(exclude_users=frozenset({"alice.smith"})),
    "dm": Selection(dms=frozenset({parse_members("alice.smith,grace.lopez,niaj.jones")})),
    "since": Selection(since=CLEAN_SINCE),
    "until": Selection(until=CLEAN_UNTIL),
    "types": Selection(types=frozenset({"post"})),
    "exclude-types": Selection(exclude_types=frozenset({"emoji", "role", "scheme"})),
    "no-attachments": Selection(attachments=False),
    "no-direct": Selection(direct=False),
    "combined": Selection(
        teams=frozenset({"marketing"}),
        users=frozenset({"bob.jones"}),
        since=CLEAN_SINCE,
        direct=False,
    ),
}
# Selectors that narrow the posts: some are kept and some left out (a date that keeps all
# or none would test nothing).
CUTTING = {"team", "exclude-team", "channel", "exclude-channel", "user", "exclude-user"}
CUTTING |= {"since", "until", "combined"}


@pytest.mark.parametrize("name", list(SELECTIONS))
def test_each_selector_on_the_clean_sample_validates_clean(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out.zip"
    result = filter_archive(SAMPLES / "clean.zip", out, SELECTIONS[name], check_input=False)
    report = validate(out)
    assert report.valid, report.issues[:3]
    assert report.warnings == 0, report.issues[:3]
    assert sum(result.stats.kept.values()) == len(jsonl(out))
    assert result.stats.files_kept == len(files(out))
    if name in CUTTING:
        assert result.stats.kept["post"], result.stats.kept
        assert result.stats.dropped["post"], result.stats.dropped


FIXTURE_SELECTIONS = {
    "team": Selection(teams=frozenset({"ad-1"})),
    "channel": Selection(channels=frozenset({("reiciendis-0", "odit-3")})),
    "user": Selection(users=frozenset({"samuel.tucker"})),
    "since": Selection(since=parse_date("2020-10-23")),
    "no-attachments": Selection(attachments=False),
    "no-direct": Selection(direct=False),
    "dm": Selection(dms=frozenset({parse_members("jack.wheeler,robert.ward")})),
    "until": Selection(until=parse_date("2020-10-23")),
    "types": Selection(types=frozenset({"post"})),
    "exclude-types": Selection(exclude_types=frozenset({"direct_post"})),
    "exclude-team": Selection(exclude_teams=frozenset({"ad-1"})),
    "exclude-channel": Selection(exclude_channels=frozenset({("reiciendis-0", "odit-3")})),
    "exclude-user": Selection(exclude_users=frozenset({"samuel.tucker"})),
    "exclude-dm": Selection(exclude_dms=frozenset({parse_members("jack.wheeler,robert.ward")})),
}


@pytest.mark.parametrize("name", list(FIXTURE_SELECTIONS))
def test_selectors_on_the_real_fixture_add_no_error(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out.zip"
    filter_archive(FIXTURE, out, FIXTURE_SELECTIONS[name], check_input=False)
    before = validate(FIXTURE).issue_counts
    after = validate(out).issue_counts
    # The fixture's only errors are its three attachments outside data/: a filter keeps them
    # or drops them with their posts, and never adds one.
    assert set(after) <= set(before)
    if name == "no-attachments":
        assert after == {}


# --- what gets kept, pulled in and pruned ---------------------------------------------------

WORLD = [
    team("eng"),
    team("ops"),
    channel("eng", "town-square"),
    channel("eng", "dev"),
    channel("ops", "town-square"),
    channel("ops", "alerts"),
    user("alice", teams={"eng": ["dev"], "ops": ["alerts"]}, profile_image="users/a/p.png"),
    user("bob", teams={"eng": ["dev"]}),
    user("carol", teams={"ops": ["alerts"]}),
    user("dave", teams=["ops"]),
    post(
        "eng",
        "dev",
        "alice",
        "release",
        T0,
        replies=[reply("carol", "thanks", T0 + 5)],
        reactions=[reaction("dave", "party", T0 + 1)],
        attachments=["f/notes.txt"],
    ),
    post("ops", "alerts", "carol", "pager", T0 + DAY),
    emoji("party", "emoji/party/image"),
    emoji("unused", "emoji/unused/image"),
    direct_channel(["alice", "bob"]),
    direct_post(["alice", "bob"], "bob", "psst", T0 + 2 * DAY),
]
WORLD_FILES = {
    "data/users/a/p.png": png_bytes(8, 8),
    "data/f/notes.txt": b"notes",
    "data/emoji/party/image": png_bytes(4, 4),
    "data/emoji/unused/image": png_bytes(5, 5),
}


@pytest.fixture
def world(tmp_path: Path) -> Path:
    return make_archive(tmp_path / "world.zip", WORLD, WORLD_FILES)


def test_a_team_pulls_in_the_users_its_posts_name_and_prunes_memberships(
    tmp_path: Path, world: Path
) -> None:
    out = tmp_path / "out.zip"
    result = filter_archive(world, out, Selection(teams=frozenset({"eng"})), check_input=False)
    assert validate(out).valid
    assert names(out, "team") == ["eng"]
    assert names(out, "channel") == ["town-square", "dev"]
    # alice and bob are members; carol replied and dave reacted: pulled in.
    assert names(out, "user", "username") == ["alice", "bob", "carol", "dave"]
    assert result.stats.needed["user"] == 2
    by_name = {r["user"]["username"]: r["user"] for r in records(out) if r["type"] == "user"}
    assert [t["name"] for t in by_name["alice"]["teams"]] == ["eng"]
    assert by_name["carol"]["teams"] == []
    assert by_name["dave"]["teams"] == []
    assert names(out, "emoji") == ["party"]  # used by a kept reaction
    assert [r["type"] for r in records(out)].count("post") == 1
    assert "direct_post" not in [r["type"] for r in records(out)]
    assert set(files(out)) == {
        "data/users/a/p.png",
        "data/f/notes.txt",
        "data/emoji/party/image",
    }
    # Lines no one changed stay byte-identical.
    source = set(jsonl(world))
    out_lines = jsonl(out)
    unchanged = [line for line in out_lines if line in source]
    assert len(unchanged) == len(out_lines) - sum(result.stats.rewritten.values())


def test_a_user_selects_their_posts_and_their_direct_messages(tmp_path: Path, world: Path) -> None:
    out = tmp_path / "out.zip"
    filter_archive(world, out, Selection(users=frozenset({"Bob"})), check_input=False)
    assert validate(out).valid
    types = [r["type"] for r in records(out)]
    assert types.count("post") == 0
    assert types.count("direct_post") == 1
    assert names(out, "user", "username") == ["alice", "bob"]


def test_exclude_user_drops_their_posts_and_dms_but_keeps_them_when_needed(
    tmp_path: Path, world: Path
) -> None:
    out = tmp_path / "out.zip"
    filter_archive(world, out, Selection(exclude_users=frozenset({"bob"})), check_input=False)
    assert validate(out).valid
    assert "direct_post" not in [r["type"] for r in records(out)]
    assert "bob" not in names(out, "user", "username")
    out2 = tmp_path / "out2.zip"
    filter_archive(world, out2, Selection(exclude_users=frozenset({"carol"})), check_input=False)
    # carol's post goes, but she replied in a kept thread: her user line stays.
    assert "carol" in names(out2, "user", "username")
    assert validate(out2).valid


def test_dates_keep_replies_with_their_root_post(tmp_path: Path, world: Path) -> None:
    out = tmp_path / "out.zip"
    until = T0 + 2  # the root post is in, its reply (T0 + 5) is not: it stays with the post
    filter_archive(world, out, Selection(until=until), check_input=False)
    posts = [r["post"] for r in records(out) if r["type"] == "post"]
    assert [p["message"] for p in posts] == ["release"]
    assert posts[0]["replies"][0]["message"] == "thanks"


def test_no_attachments_rewrites_lines_and_keeps_required_images(
    tmp_path: Path, world: Path
) -> None:
    out = tmp_path / "out.zip"
    result = filter_archive(world, out, Selection(attachments=False), check_input=False)
    assert validate(out).valid
    assert "data/f/notes.txt" not in files(out)
    assert "data/users/a/p.png" in files(out)
    assert all("attachments" not in r.get("post", {}) for r in records(out))
    assert result.stats.rewritten == {"post": 1}


def test_channel_selection_keeps_default_channel_memberships(tmp_path: Path, world: Path) -> None:
    out = tmp_path / "out.zip"
    filter_archive(
        world, out, Selection(channels=frozenset({("ops", "alerts")})), check_input=False
    )
    assert validate(out).valid
    assert names(out, "channel") == ["alerts"]
    by_name = {r["user"]["username"]: r["user"] for r in records(out) if r["type"] == "user"}
    assert sorted(by_name) == ["alice", "carol"]
    channels = [c["name"] for c in by_name["carol"]["teams"][0]["channels"]]
    assert channels == ["town-square", "alerts"]


# --- bad input ------------------------------------------------------------------------------


def test_unknown_names_exit_2_with_the_closest_ones_and_write_nothing(
    tmp_path: Path, world: Path
) -> None:
    out = tmp_path / "out.zip"
    with pytest.raises(UsageError, match=r"no team 'engg'.*closest: eng") as caught:
        filter_archive(world, out, Selection(teams=frozenset({"engg"})), check_input=False)
    assert caught.value.exit_code == 2
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [world]
    with pytest.raises(UsageError, match=r"no user 'alic'.*closest: alice"):
        filter_archive(world, out, Selection(users=frozenset({"alic"})), dry_run=True)


def test_an_unreadable_input_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ArchiveError) as caught:
        filter_archive(bad, tmp_path / "out.zip")
    assert caught.value.exit_code == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip"]


def test_strict_refuses_an_input_with_errors(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    with pytest.raises(InputHasErrors, match=r"broken\.zip has 20 error"):
        filter_archive(SAMPLES / "broken.zip", out, strict=True)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
    result = filter_archive(SAMPLES / "broken.zip", out)
    assert out.exists()
    assert result.input_errors == 20


def test_never_writes_over_its_input(tmp_path: Path, world: Path) -> None:
    with pytest.raises(OutputError, match="input"):
        filter_archive(world, world, check_input=False)
    assert validate(world).valid


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failing_or_interrupted_write_leaves_no_file(
    tmp_path: Path, world: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    from archivekit.write import core

    def fail(*args: object, **kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(core.ArchiveWriter, "copy_member", fail)
    with pytest.raises(type(failure)):
        filter_archive(world, tmp_path / "out.zip", Selection(teams=frozenset({"eng"})))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["world.zip"]


def test_dry_run_counts_without_writing(tmp_path: Path, world: Path) -> None:
    out = tmp_path / "out.zip"
    dry = filter_archive(world, out, Selection(teams=frozenset({"ops"})), dry_run=True)
    real = filter_archive(world, out, Selection(teams=frozenset({"ops"})), check_input=False)
    assert dry.written is None
    assert dry.manifest is None
    assert dry.stats == real.stats


def test_an_export_folder_with_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    with zipfile.ZipFile(SAMPLES / "clean.zip") as zf:
        zf.extractall(folder)
    (folder / "data").mkdir(exist_ok=True)
    odd = os.path.join(os.fsencode(folder / "data"), b"caf\xe9.txt")  # Latin-1, not UTF-8
    with open(odd, "wb") as fh:
        fh.write(b"stray")
    out = tmp_path / "out.zip"
    result = filter_archive(folder, out, Selection(teams=frozenset({"engineering"})))
    assert validate(out).valid
    assert result.manifest is not None
    manifest = orjson.loads(Path(result.manifest).read_bytes())
    assert manifest["input_check"][0]["issue_counts"]["attachment-unreferenced"] == 1
    document = render_json(result.to_dict())
    assert "caf\ufffd.txt" in document
    assert jsonl(out)[0] == jsonl(SAMPLES / "clean.zip")[0]


def test_the_refs_of_scanned_lines_are_the_general_ones() -> None:
    """`canonical_refs` (lines the scanner accepted) and `post_facts` (any line) agree."""
    from archivekit.write.lines import LineDecoder, canonical_refs, payload_of, post_facts

    decoder = LineDecoder()
    scanned = 0
    for raw in jsonl(SAMPLES / "clean.zip") + jsonl(FIXTURE):
        accepted = decoder.accepts(raw)
        envelope = decoder.decode(raw)
        assert envelope is not None
        kind, payload = payload_of(envelope)
        if not accepted or payload is None:
            continue
        scanned += 1
        users: set[str] = set()
        emoji: set[str] = set()
        canonical_refs(kind, payload, users, emoji)
        facts = post_facts(kind, payload)
        assert users == {u.lower() for u in facts.users}
        assert emoji == set(facts.emoji)
        assert facts.paths == []
    assert scanned > 3000
