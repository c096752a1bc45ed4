"""The engine hands over plain data (issues, facts, counts, identities), and one `Tally` adds it
up: whether the findings come in one piece, batch by batch, or from parallel workers, the
report is the same."""

from __future__ import annotations

import pickle
from pathlib import Path

from archivekit.check.engine import LineProcessor
from archivekit.check.facts import (
    ChannelDefined,
    FileUsed,
    Findings,
    LongestMessage,
    MostFiles,
    TeamDefined,
    Unresolved,
    UserDefined,
)
from archivekit.check.limits import Needs
from archivekit.check.table_counts import Team
from archivekit.issues import Severity
from archivekit.read import iter_line_batches, open_archive
from archivekit.report.model import IssueCollector
from archivekit.report.tally import Tally
from archivekit.testing.synth import channel, make_archive, png_bytes, post, team, user
from archivekit.validate import validate

T = 1_700_000_000_000


def findings_of(path: Path) -> Findings:
    with open_archive(path) as archive:
        processor = LineProcessor(archive)
        for batch in iter_line_batches(archive.iter_jsonl_blocks()):
            processor.process_batch(batch)
        return processor.take()


def test_the_engine_reports_facts_as_data(tmp_path: Path) -> None:
    path = make_archive(
        tmp_path / "a.zip",
        [
            team("Eng"),
            channel("eng", "Dev", deleted_at=T),
            user("alice", teams={"eng": ["dev"]}),
            post("eng", "dev", "alice", "hi", T, attachments=["a.png", "b.txt"]),
            post("eng", "dev", "alice", "a longer message", T + 1),
        ],
        {"data/a.png": png_bytes(30, 20), "data/b.txt": b"text"},
    )
    found = findings_of(path)
    assert found.lines == 6
    assert {i.code for i, _ in found.issues} == {"apply-invalid"}  # the uppercase names
    facts = found.facts
    assert TeamDefined(2, "eng") in facts
    assert ChannelDefined(3, "eng", "dev", archived=True) in facts
    assert UserDefined(4, "alice", True, ("eng",)) in facts
    files = [f for f in facts if isinstance(f, FileUsed)]
    assert [(f.field, f.key, f.size, f.dims) for f in files] == [
        ("post.attachments[0].path", "data/a.png", len(png_bytes(30, 20)), ("png", 30, 20)),
        ("post.attachments[1].path", "data/b.txt", 4, None),
    ]
    # Running maxima: a fact only when a line beats every earlier one.
    assert [f for f in facts if isinstance(f, LongestMessage)] == [
        LongestMessage(5, "post.message", 2),
        LongestMessage(6, "post.message", 16),
    ]
    assert [f for f in facts if isinstance(f, MostFiles)] == [MostFiles(5, "post.attachments", 2)]
    assert found.counts.posts == 2
    assert len(found.identities) == len(found.identity_lines) == 2 * 8


def test_an_unresolved_reference_carries_its_target(tmp_path: Path) -> None:
    path = make_archive(tmp_path / "a.zip", [post("eng", "dev", "alice", "hi", T), team("eng")])
    found = findings_of(path)
    assert [(i.code, u) for i, u in found.issues] == [
        ("unknown-team", Unresolved("team", "eng")),
        ("unknown-user", Unresolved("user", "alice")),
    ]
    assert pickle.loads(pickle.dumps(found)) == found  # plain data: what workers send


def test_batches_add_up_to_the_whole(tmp_path: Path) -> None:
    lines = [
        post("eng", "dev", "bob", "early", T),
        team("eng"),
        channel("eng", "dev"),
        user("bob", teams={"eng": ["dev"]}),
        post("eng", "dev", "bob", "late", T + 1),
        post("eng", "dev", "bob", "late", T + 1),
    ]
    path = make_archive(tmp_path / "a.zip", lines)
    whole = Tally(IssueCollector(None), Needs())
    whole.add(findings_of(path))
    piecewise = Tally(IssueCollector(None), Needs())
    with open_archive(path) as archive:
        processor = LineProcessor(archive)
        for batch in iter_line_batches(archive.iter_jsonl_blocks()):
            for raw in batch:
                processor.process_batch([raw])
                piecewise.add(processor.take())
    for tally in (whole, piecewise):
        tally.end_of_stream("import.jsonl")
    assert piecewise.collector.kept == whole.collector.kept
    assert piecewise.collector.by_code == whole.collector.by_code
    assert [(i.code, i.field, i.line) for i in whole.collector.kept] == [
        ("defined-later", "post.team", 2),
        ("defined-later", "post.user", 2),
        ("duplicate-post", None, 7),
    ]


def test_issues_a_worker_left_out_still_turn_into_defined_later(tmp_path: Path) -> None:
    path = make_archive(
        tmp_path / "a.zip", [post("eng", "dev", "bob", f"m{i}", T + i) for i in range(3)]
    )
    found = findings_of(path)
    found.keep_issues(1)
    assert len(found.issues) == 1
    assert found.left_out[("unknown-team", Severity.ERROR)] == 2
    tally = Tally(IssueCollector(None), Needs())
    tally.add(found)
    tally.add(Findings(facts=[TeamDefined(9, "eng")]))
    assert tally.collector.by_code["defined-later"] == 3
    assert tally.collector.by_code["unknown-team"] == 0
    assert tally.collector.by_code["unknown-user"] == 3  # bob is never defined
    assert tally.collector.errors == 6


def test_defined_later_names_the_first_definition_whatever_the_workers(tmp_path: Path) -> None:
    lines = [
        post("eng", "dev", "bob", "early", T),
        *[team(f"filler{i}", description="x" * 200) for i in range(20)],
        team("eng"),
        *[team(f"more{i}", description="x" * 200) for i in range(20)],
        team("eng"),  # redefined: the message still names the first definition
    ]
    path = make_archive(tmp_path / "a.zip", lines)
    reports = [
        validate(path, workers=workers, block_size=512, max_issues=None).to_dict()
        for workers in (1, 2)
    ]
    assert reports[0] == reports[1]
    later = [i for i in reports[0]["issues"] if i["code"] == "defined-later"]
    assert later
    assert all("defined on line 23," in i["message"] for i in later)


def test_shares_merge_to_the_last_definition_whatever_their_order() -> None:
    early = Team("eng", display_name="Old", type="O", defined_on=3, members=2)
    late = Team("eng", display_name="New", type="I", defined_on=9, members=5)
    undefined = Team("eng", members=1)
    for parts in ((early, late, undefined), (late, undefined, early), (undefined, early, late)):
        total = Team("eng")
        for part in parts:
            total.merge(part)
        assert (total.display_name, total.type, total.defined_on) == ("New", "I", 9)
        assert total.members == 8
