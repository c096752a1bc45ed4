"""`reconcile`: SOURCE (imported) against TARGET (exported afterwards). Nothing missing when
the export only changes what exports change; every removal found at its SOURCE line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from archivekit import reconcile, tables
from archivekit.cli import cli
from archivekit.report import reconcile_output
from archivekit.report import spool as spool_module
from archivekit.report.reconcile import SIDED, TABLES, Reconciliation
from archivekit.report.spool import RECORD_BYTES, Spool
from archivekit.testing.fuzz import (
    apply_record_mutations,
    dump_json_line,
    record_mutations,
    scaled_examples,
)
from archivekit.testing.reexport import reexport
from archivekit.testing.synth import (
    bot,
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

T0 = 1_700_000_000_000
SAMPLES = sorted((Path(__file__).resolve().parent.parent / "sample_exports").glob("*.zip"))
# Line 1 is the version line make_archive adds: SOURCE_LINES[i] is on line i + 2.
SOURCE_LINES: list[Any] = [
    team("Eng"),  # 2
    channel("Eng", "Town-Square"),  # 3
    channel("eng", "backend", type="P"),  # 4
    channel("eng", "old-news", deleted_at=T0),  # 5 archived
    user("Alice", teams={"eng": ["backend", "old-news"]}, email="Alice@Example.com",
         password="s3cret-Passw0rd", roles="system_admin system_user"),  # 6
    user("bob", teams={"eng": ["backend"]}),  # 7
    user("carol", teams=["eng"]),  # 8
    bot("helper", "alice"),  # 9
    post("eng", "town-square", "alice", "welcome", T0, attachments=["in/a.txt"],
         reactions=[reaction("bob", "+1", T0 + 1), reaction("carol", "tada", T0 + 2)],
         replies=[reply("bob", "thanks", T0 + 10, attachments=["in/b.png"],
                        reactions=[reaction("alice", "heart", T0 + 11)]),
                  reply("carol", "a reply older than its post", T0 - 5)]),  # 10
    post("eng", "backend", "bob", "deploy at 5", T0 + 100),  # 11
    post("eng", "backend", "helper", "build green", T0 + 200),  # 12
    post("eng", "old-news", "alice", "in an archived channel", T0 + 300),  # 13
    direct_channel(["alice", "bob"]),  # 14
    direct_channel(["alice", "bob", "carol"]),  # 15
    direct_channel(["carol", "carol"]),  # 16 self-DM
    direct_post(["alice", "bob"], "alice", "psst", T0 + 400,
                reactions=[reaction("bob", "eyes", T0 + 401)]),  # 17
    direct_post(["bob", "carol", "alice"], "carol", "group hello", T0 + 500,
                replies=[reply("alice", "hi all", T0 + 501)]),  # 18
    direct_post(["carol", "carol"], "carol", "note to self", T0 + 600),  # 19
]  # fmt: skip
SOURCE_FILES = {"data/in/a.txt": b"alpha" * 10, "data/in/b.png": b"\x89PNG" + b"0" * 60}
PRE_EXISTING: list[Any] = [
    team("ops"),
    channel("ops", "town-square"),
    user("dave", teams=["ops"]),
    post("ops", "town-square", "dave", "the destination's own post", T0 - 99),
    post("eng", "town-square", "dave", "written after the import", T0 + 999),
]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_archive(tmp_path_factory.mktemp("src") / "source.zip", SOURCE_LINES, SOURCE_FILES)


def export(source: Path, tmp_path: Path, name: str = "target.zip", **options: Any) -> Path:
    target = tmp_path / name
    reexport(source, target, **options)
    return target


def assert_nothing_missing(result: Reconciliation) -> None:
    assert result.missing == []
    assert result.missing_total == 0
    assert result.ok


def missing(result: Reconciliation) -> list[tuple[str, int]]:
    return [(m.kind, m.line) for m in result.missing]


# --- nothing missing -------------------------------------------------------------------------


def test_an_archive_against_itself_misses_nothing(source: Path) -> None:
    result = reconcile(source, source)
    assert_nothing_missing(result)
    for what, counts in result.summary.items():
        assert counts["matched"] == counts["source"] == counts["target"], what
        assert counts["extra"] == counts["expected"] == 0, what
    assert result.summary["post"]["source"] == 4
    assert result.summary["reply"]["source"] == 3
    assert result.summary["reaction"]["source"] == 4
    assert result.summary["attachment"]["source"] == 2
    assert result.summary["directs"]["source"] == 3


def test_an_imitated_export_with_pre_existing_data_misses_nothing(
    source: Path, tmp_path: Path
) -> None:
    target = export(source, tmp_path, extra_lines=PRE_EXISTING)
    result = reconcile(source, target)
    assert_nothing_missing(result)
    assert result.summary["post"]["extra"] == 2
    assert result.summary["teams"]["extra"] == 1
    assert result.summary["users"]["extra"] == 1
    # The archived channel and its post and membership were not exported: expected, not lost.
    assert result.expected == {
        "archived-channel-not-exported": {"channels": 1, "post": 1, "channel_membership": 1}
    }
    assert result.changes == []
    channels = result.frame("channels").set_index(["team", "channel"])
    assert channels.loc[("eng", "old-news"), "status"] == "not-exported"
    assert channels.loc[("eng", "town-square"), "status"] == "ok"
    assert channels.loc[("ops", "town-square"), "status"] == "extra"
    users = result.frame("users").set_index("user")
    assert users.loc["dave", "status"] == "extra"


def test_a_generated_export_round_trips(tmp_path: Path) -> None:
    archive = tmp_path / "gen.zip"
    generate_export(archive, seed=11, posts=300, direct_posts=60, attachments=15)
    result = reconcile(archive, export(archive, tmp_path), workers=1)
    assert_nothing_missing(result)
    assert result.summary["post"]["matched"] == 300
    assert result.summary["attachment"]["matched"] == 15


def test_the_counts_on_each_side_are_the_tables_counts(tmp_path: Path) -> None:
    archive = tmp_path / "gen.zip"
    generate_export(archive, seed=4, posts=200, direct_posts=40, attachments=9)
    both = reconcile(archive, archive)
    counted = tables(archive)
    channels = both.frame("channels").set_index(["team", "channel"])
    expected = counted.channels.set_index(["team", "channel"])
    for ours, theirs in (("source_posts", "posts"), ("source_replies", "replies"),
                         ("source_reactions", "reactions"), ("source_files", "files"),
                         ("source_members", "members"), ("target_posts", "posts")):  # fmt: skip
        assert channels[ours].to_dict() == expected[theirs].to_dict(), ours
    users = both.frame("users").set_index("user")
    known = counted.users.set_index("user")
    for stem in SIDED["users"]:
        assert users[f"source_{stem}"].to_dict() == known[stem].to_dict(), stem
    teams = both.frame("teams").set_index("team")
    known = counted.teams.set_index("team")
    for stem in SIDED["teams"]:
        assert teams[f"source_{stem}"].to_dict() == known[stem].to_dict(), stem
    directs = both.frame("directs").set_index("members")
    known = counted.directs.set_index("members")
    for stem in SIDED["directs"]:
        assert directs[f"source_{stem}"].to_dict() == known[stem].to_dict(), stem


# --- what the export format legitimately changes: one test each --------------------------------


def test_lowercased_names_and_emails_are_not_loss(source: Path, tmp_path: Path) -> None:
    target = export(source, tmp_path)
    text = b"".join(_jsonl(target))
    assert b'"username":"Alice"' not in text
    assert b'"name":"Eng"' not in text
    assert b'"team":"Eng"' not in text
    assert b"Alice@Example.com" not in text
    assert_nothing_missing(reconcile(source, target))


def test_passwords_are_not_exported_and_not_compared(source: Path, tmp_path: Path) -> None:
    target = export(source, tmp_path)
    assert b"password" not in b"".join(_jsonl(target))
    assert reconcile(source, target).changes == []


def test_clamped_reply_times_are_not_loss(source: Path, tmp_path: Path) -> None:
    target = export(source, tmp_path)
    replies = [
        r
        for line in _jsonl(target)
        for r in orjson.loads(line).get("post", {}).get("replies", [])
        if r["user"] == "carol"
    ]
    assert [r["create_at"] for r in replies] == [T0]  # clamped to its post's time
    assert_nothing_missing(reconcile(source, target))


def test_a_reply_whose_time_really_changed_is_missing(source: Path, tmp_path: Path) -> None:
    def shift(line: int, record: dict[str, Any]) -> dict[str, Any]:
        if line == 10:
            record["post"]["replies"][0]["create_at"] += 1
        return record

    result = reconcile(source, export(source, tmp_path, edit=shift))
    # The reply and what hangs on it (its reaction and its file) are not found.
    assert missing(result) == [("attachment", 10), ("reaction", 10), ("reply", 10)]


def test_dm_member_sets_and_self_dms_match(source: Path, tmp_path: Path) -> None:
    target = export(source, tmp_path)
    directs = [orjson.loads(x) for x in _jsonl(target) if x.startswith(b'{"type":"direct_chan')]
    self_dm = [d for d in directs if {p["username"] for p in d["direct_channel"]["participants"]}
               == {"carol"}]  # fmt: skip
    assert [p["username"] for p in self_dm[0]["direct_channel"]["participants"]] == [
        "carol",
        "carol",
    ]
    assert_nothing_missing(reconcile(source, target))


def test_a_dm_that_lost_a_member_on_the_destination_is_expected(tmp_path: Path) -> None:
    # erin existed on the destination only (not in SOURCE) and was deleted there since.
    lines = [
        user("alice"),
        direct_channel(["alice", "erin"]),
        direct_post(["alice", "erin"], "alice", "hi", T0, reactions=[reaction("erin", "+1", T0)]),
        post("eng", "town-square", "alice", "x", T0, reactions=[reaction("erin", "ok", T0 + 1)]),
    ]
    source = make_archive(tmp_path / "s.zip", lines)
    result = reconcile(source, export(source, tmp_path, deleted_users=["erin"]))
    assert_nothing_missing(result)
    assert result.expected == {
        "direct-member-not-on-target": {"directs": 1, "direct_post": 1, "reaction": 1},
        "reaction-user-not-on-target": {"reaction": 1},
    }


def test_archived_channels_exported_with_the_flag_are_compared(
    source: Path, tmp_path: Path
) -> None:
    target = export(source, tmp_path, include_archived_channels=True)
    result = reconcile(source, target)
    assert_nothing_missing(result)
    assert result.expected == {}
    assert result.summary["channels"]["matched"] == 3


def test_attachment_paths_change_on_export(source: Path, tmp_path: Path) -> None:
    target = export(source, tmp_path)
    paths = [line for line in _jsonl(target) if b'"attachments"' in line]
    assert paths
    assert all(b"in/a.txt" not in p and b"in/b.png" not in p for p in paths)
    result = reconcile(source, target)
    assert_nothing_missing(result)
    assert result.files_compared_by == "name and size"


def test_an_export_without_attachments_compares_files_by_name(source: Path, tmp_path: Path) -> None:
    result = reconcile(source, export(source, tmp_path, attachments=False))
    assert_nothing_missing(result)
    assert result.files_compared_by == "name"


def test_a_source_zip_without_data_files_expects_none_of_its_attachments(
    tmp_path: Path,
) -> None:
    # The server's own test archive keeps its images under attachments/, outside data/: none
    # of them can be imported, so none is missing from what the destination exports.
    fixture = Path(__file__).parent / "fixtures" / "mattermost-server-tests-import_test.zip"
    result = reconcile(fixture, export(fixture, tmp_path))
    assert_nothing_missing(result)
    assert result.ok


# --- losses are found, each at its SOURCE line -------------------------------------------------


def _lose(line: int, record: dict[str, Any]) -> dict[str, Any] | None:
    body = record.get(record["type"])
    if line == 11:  # a post
        return None
    if line == 10:  # a reply and a reaction of the post
        body["replies"] = [r for r in body["replies"] if r["user"] != "carol"]
        body["reactions"] = [r for r in body["reactions"] if r["user"] != "carol"]
    if line in (14, 17):  # the alice-bob DM and its post
        return None
    if line == 8:  # a user (and so their team membership)
        return None
    return record


def test_every_loss_is_found_at_its_source_line(source: Path, tmp_path: Path) -> None:
    target = export(source, tmp_path, edit=_lose, drop_files=["in/a.txt"])
    result = reconcile(source, target)
    assert not result.ok
    assert missing(result) == [
        ("channel_membership", 8),  # carol's town-square in her team: gone with her
        ("team_membership", 8),
        ("user", 8),
        ("attachment", 10),
        ("reaction", 10),
        ("reply", 10),
        ("post", 11),
        ("direct_channel", 14),
        ("direct_post", 17),
        ("reaction", 17),
    ]
    assert result.missing_total == 10
    details = {(m.kind, m.line): m for m in result.missing}
    assert details[("post", 11)].channel == "backend"
    assert details[("post", 11)].detail == "post in eng/backend at 1700000000100: 'deploy at 5'"
    assert details[("attachment", 10)].detail == "file 'a.txt' (50 bytes)"
    assert details[("reaction", 10)].user == "carol"
    assert details[("direct_post", 17)].members == "alice,bob"
    channels = result.frame("channels").set_index(["team", "channel"])
    assert channels.loc[("eng", "backend"), "missing_posts"] == 1
    assert channels.loc[("eng", "backend"), "posts_difference"] == -1
    assert channels.loc[("eng", "backend"), "status"] == "incomplete"
    assert channels.loc[("eng", "town-square"), "missing_replies"] == 1
    # The file that did not arrive is missing, and not also extra.
    assert result.summary["attachment"]["extra"] == 0
    assert result.notes["target_files_not_in_archive"] == 1
    sides = ["source_files", "target_files", "files_difference"]
    assert channels.loc[("eng", "town-square"), sides].tolist() == [2, 1, -1]
    directs = result.frame("directs").set_index("members")
    sides = ["source_reactions", "target_reactions", "reactions_difference"]
    assert directs.loc["alice,bob", sides].tolist() == [1, 0, -1]
    teams = result.frame("teams").set_index("team")
    sides = ["source_replies", "target_replies", "replies_difference"]
    assert teams.loc["eng", sides].tolist() == [2, 1, -1]
    users = result.frame("users").set_index("user")
    sides = ["source_files", "target_files", "files_difference"]
    assert users.loc["alice", sides].tolist() == [1, 0, -1]


def test_every_place_table_counts_each_kind_on_both_sides_with_the_difference(
    source: Path, tmp_path: Path
) -> None:
    target = export(source, tmp_path, edit=_lose, drop_files=["in/a.txt"])
    result = reconcile(source, target)
    for name, stems in SIDED.items():
        frame = result.frame(name)
        assert len(frame), name
        for stem in stems:
            difference = frame[f"target_{stem}"] - frame[f"source_{stem}"]
            assert (frame[f"{stem}_difference"] == difference).all(), (name, stem)
    assert set(SIDED["directs"]) >= {"posts", "replies", "reactions", "files"}
    assert set(SIDED["teams"]) >= {"members", "channels", "posts", "replies", "reactions", "files"}
    assert set(SIDED["users"]) >= {"posts", "replies", "reactions", "files"}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_a_sample_against_itself_has_nothing_extra(sample: Path) -> None:
    # broken.zip names attachments that are not in it: counted on neither side.
    result = reconcile(sample, sample, workers=1)
    assert_nothing_missing(result)
    for what, counts in result.summary.items():
        assert counts["matched"] == counts["source"] == counts["target"], what
        assert counts["extra"] == 0, what
    assert (
        result.notes["source_files_not_in_archive"] == result.notes["target_files_not_in_archive"]
    )


def test_an_attachment_whose_file_is_absent_counts_on_neither_side(tmp_path: Path) -> None:
    lines = [*SOURCE_LINES, post("eng", "backend", "bob", "see file", T0 + 700,
                                 attachments=["in/gone.pdf"])]  # fmt: skip
    path = make_archive(tmp_path / "absent.zip", lines, SOURCE_FILES)
    result = reconcile(path, path)
    assert result.summary["attachment"] == {
        "source": 2, "target": 2, "matched": 2, "missing": 0, "expected": 0, "extra": 0,
    }  # fmt: skip
    assert result.notes["source_files_not_in_archive"] == 1
    assert result.notes["target_files_not_in_archive"] == 1


def test_spilled_to_disk_or_in_memory_the_result_is_the_same(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = export(source, tmp_path, edit=_lose, drop_files=["in/a.txt"])
    in_memory = reconcile(source, target).to_dict()
    monkeypatch.setattr(spool_module, "FLUSH_EVERY", 4)  # every few records to the buckets
    assert reconcile(source, target).to_dict() == in_memory
    assert reconcile(source, target, workers=1).to_dict() == in_memory


def test_a_changed_user_is_reported(source: Path, tmp_path: Path) -> None:
    def change(line: int, record: dict[str, Any]) -> dict[str, Any]:
        if line == 6:
            record["user"].update(email="alice@elsewhere.org", roles="system_user", delete_at=T0)
        return record

    result = reconcile(source, export(source, tmp_path, edit=change))
    assert result.ok  # changed is not missing
    assert [(c.user, c.line, c.field, c.source, c.target) for c in result.changes] == [
        ("alice", 6, "email", "alice@example.com", "alice@elsewhere.org"),
        ("alice", 6, "roles", "system_admin system_user", "system_user"),
        ("alice", 6, "deactivated", "False", "True"),
    ]


def test_the_missing_list_is_capped_and_the_counts_exact(source: Path, tmp_path: Path) -> None:
    target = export(source, tmp_path, edit=_lose, drop_files=["in/a.txt"])
    result = reconcile(source, target, max_items=3)
    assert len(result.missing) == 3
    assert result.missing_total == 10
    assert result.truncated


# --- the command line ------------------------------------------------------------------------


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_cli_json_equals_the_library(source: Path, tmp_path: Path) -> None:
    target = export(source, tmp_path, edit=_lose)
    result = run("reconcile", str(source), str(target), "--format", "json")
    assert result.exit_code == 1
    document = orjson.loads(result.stdout_bytes)
    library = reconcile(source, target).to_dict()
    assert document == orjson.loads(orjson.dumps(library))


def test_cli_exit_codes(source: Path, tmp_path: Path) -> None:
    assert run("reconcile", str(source), str(source)).exit_code == 0
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"no zip")
    assert run("reconcile", str(source), str(bad)).exit_code == 3
    assert run("reconcile", str(source), str(source), "--format", "csv").exit_code == 2


def test_cli_text_names_the_losses(source: Path, tmp_path: Path) -> None:
    target = export(source, tmp_path, edit=_lose)
    text = run("reconcile", str(source), str(target)).stdout
    assert "line 11  post  eng/backend" in text
    assert "result:  MISSING" in text
    # The places with something missing, most first, with each kind's count on both sides.
    places = text.split("PLACES WITH SOMETHING MISSING (3, most first)\n")[1].split("\n\n")[0]
    assert places.splitlines() == [
        "  eng/town-square (incomplete): missing replies 1, reactions 1, memberships 1; "
        "source->target members 3->2, posts 1->1, replies 2->1, reactions 3->2, files 2->2",
        "  DM alice,bob (missing): missing posts 1, reactions 1; "
        "source->target posts 1->0, replies 0->0, reactions 1->0, files 0->0",
        "  eng/backend (incomplete): missing posts 1; "
        "source->target members 2->2, posts 2->1, replies 0->0, reactions 0->0, files 0->0",
    ]


def test_cli_text_caps_the_places_and_counts_the_rest(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reconcile_output, "SHOWN_PLACES", 1)
    text = reconcile_output.reconcile_text(reconcile(source, export(source, tmp_path, edit=_lose)))
    assert "  … and 2 more (--format csv: channels.csv, directs.csv)" in text.decode()


def test_cli_csv_writes_one_file_per_table(source: Path, tmp_path: Path) -> None:
    target = export(source, tmp_path, edit=_lose)
    out = tmp_path / "out"
    result = run("reconcile", str(source), str(target), "--format", "csv", "-o", str(out))
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    lost = pd.read_csv(out / "missing.csv")
    assert list(lost["line"]) == [m.line for m in reconcile(source, target).missing]


# --- bounded memory --------------------------------------------------------------------------


def test_each_identity_is_24_bytes_on_disk(source: Path, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for i in range(1000):
        spool.add(i * 0x9E3779B97F4A7C15 & (2**64 - 1), 1, i, 0)
    spool.flush()
    assert spool.disk_bytes() == 1000 * RECORD_BYTES == 24_000


# Measured in a fresh interpreter: in the middle of the suite, threads and caches left by earlier
# tests allocate while tracemalloc watches and blur a peak of a few megabytes.
_PEAK_SCRIPT = """
import sys, tracemalloc
from archivekit import reconcile
from archivekit.report import spool
spool.FLUSH_EVERY = 2048  # a small buffer: both sizes spill to disk as millions of posts would
# Small read blocks: the reader's own buffers (up to 2 blocks) stay out of the way.
def run():
    return reconcile(sys.argv[1], sys.argv[2], workers=1, block_size=1 << 16)
run()  # once unmeasured: the modules it imports on first use are not what is measured
tracemalloc.start()
result = run()
assert result.ok
print(tracemalloc.get_traced_memory()[1])
print(sum(result.notes[k] for k in ("source_records", "target_records")))
"""


def _peak(source: Path, target: Path) -> tuple[int, int]:
    """(peak bytes traced by Python during reconcile, identity records of both sides)."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(source), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak, records = done.stdout.split()
    return int(peak), int(records)


@pytest.mark.slow
def test_memory_does_not_grow_with_posts(tmp_path: Path) -> None:
    measured = []
    for posts in (2_000, 16_000):
        archive = tmp_path / f"g{posts}.zip"
        generate_export(archive, seed=1, posts=posts, direct_posts=posts // 6, attachments=5)
        measured.append(_peak(archive, export(archive, tmp_path, name=f"t{posts}.zip")))
    (small_peak, small_records), (large_peak, large_records) = measured
    more_records = large_records - small_records
    assert more_records > 75_000
    # Kept in memory, the added records alone would take 24 bytes each (1.8+ MB here); the
    # peak grows by less than a quarter of that.
    assert large_peak - small_peak < more_records * RECORD_BYTES / 4, measured


def _jsonl(path: Path) -> list[bytes]:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return zf.read("import.jsonl").splitlines()


SOURCE_JSON = [dump_json_line(line) for line in SOURCE_LINES]


@settings(
    max_examples=scaled_examples(0.2),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=record_mutations(SOURCE_JSON, 4))
def test_a_mutated_archive_against_itself_misses_nothing(
    mutations: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    lines = apply_record_mutations(SOURCE_JSON, mutations)
    path = make_archive(tmp_path_factory.mktemp("m") / "m.zip", lines, SOURCE_FILES)
    result = reconcile(path, path, workers=1)
    assert_nothing_missing(result)
    assert all(counts["extra"] == 0 for counts in result.summary.values()), result.summary
    assert run("reconcile", str(path), str(path), "--format", "json").exit_code == 0


def test_a_direct_post_whose_members_are_no_names_is_not_importable(tmp_path: Path) -> None:
    # A member that is a list cannot be a dict key: this ended reconcile with a traceback.
    odd = direct_post([["alice"], "bob"], "bob", "m", T0)
    path = make_archive(tmp_path / "odd.zip", [*SOURCE_LINES, odd], SOURCE_FILES)
    result = reconcile(path, path, workers=1)
    assert_nothing_missing(result)
    assert result.notes["source_post_lines_not_importable"] == 1
