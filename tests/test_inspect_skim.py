"""inspect counts post lines in C (`skim_batch`) when the extension is built; the Python path
counts everything else. The two must give the same inspection for any archive."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from archivekit.cli import cli
from archivekit.inspect import inspect
from archivekit.read.records import Record
from archivekit.testing.fuzz import (
    apply_byte_mutations,
    apply_record_mutations,
    byte_mutations,
    dump_json_line,
    load_fuzz_profile,
    record_mutations,
)
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
from archivekit.validate import validate

# The module (the package exports the function under the same name).
inspect_module = importlib.import_module("archivekit.inspect")
load_fuzz_profile()
REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "sample_exports").glob("*.zip"))
REAL = REPO / "tests" / "fixtures" / "mattermost-server-tests-import_test.zip"
needs_c = pytest.mark.skipif(inspect_module.SKIM_BATCH is None, reason="C scanner not built")

LINES: list[Any] = [
    team("Team1"),
    channel("Team1", "Chan1"),
    user("alice", teams={"Team1": ["Chan1"]}),
    post(
        "Team1",
        "Chan1",
        "alice",
        "hi",
        1_700_000_000_000,
        attachments=[{"path": "a.txt"}],
        replies=[
            reply("alice", "r", 1_700_000_000_001, attachments=[{"path": "b.txt"}]),
            reply("alice", "s", 1_700_000_000_002, reactions=[reaction("alice", "+1", 3)]),
        ],
        reactions=[reaction("alice", "smile", 1_700_000_000_004)],
        props={"n": 1.5, "nested": {"deep": [1, "two", None, True]}},
    ),
    post("team1", "chan1", "alice", "no date", 0),
    direct_post(["alice", "bob"], "alice", "dm", 1_600_000_000_000),
]


def both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with_c = inspect(path, workers=1).to_dict()
    with monkeypatch.context() as patch:
        patch.setattr(inspect_module, "SKIM_BATCH", None)
        python = inspect(path, workers=1).to_dict()
    assert with_c == python
    return with_c


@needs_c
@pytest.mark.parametrize("archive", [*SAMPLES, REAL], ids=lambda p: p.name)
def test_samples_inspect_the_same_either_way(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_ways(archive, monkeypatch)


@needs_c
def test_a_generated_export_inspects_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "gen.zip"
    generate_export(path, seed=5, posts=500, direct_posts=100)
    report = both_ways(path, monkeypatch)
    assert report["counts"]["posts"] == 500


@needs_c
def test_the_c_counter_takes_the_post_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python_lines: list[int] = []
    original = inspect_module._count_line

    def spy(result: Any, record: Record) -> None:
        python_lines.append(record.line)
        original(result, record)

    path = make_archive(tmp_path / "a.zip", LINES)
    expected = both_ways(path, monkeypatch)
    monkeypatch.setattr(inspect_module, "_count_line", spy)
    assert inspect(path, workers=1).to_dict() == expected
    assert python_lines == [1, 2, 3, 4]  # version, team, channel, user: posts went to C
    chan = next(c for c in expected["channels"] if c["name"] == "chan1")
    assert (chan["posts"], chan["replies"], chan["attachments"]) == (2, 2, 2)
    assert expected["counts"]["reactions"] == 2


@needs_c
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=record_mutations([dump_json_line(line) for line in LINES], max_mutations=4))
def test_mutated_records_inspect_the_same_either_way(
    mutations: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = apply_record_mutations([dump_json_line(line) for line in LINES], mutations)
    both_ways(make_archive(tmp_path_factory.mktemp("m") / "m.zip", lines), monkeypatch)


@needs_c
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=byte_mutations(max_mutations=3))
def test_mutated_bytes_inspect_the_same_either_way(
    mutations: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"\n".join(dump_json_line(line) for line in LINES)
    path = tmp_path_factory.mktemp("b") / "import.jsonl"
    path.write_bytes(apply_byte_mutations(data, mutations))
    both_ways(path, monkeypatch)


def test_fields_of_the_wrong_type_count_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by the mutation test: `len(True)` used to end inspect with a traceback.
    odd = post("t", "c", "alice", "m", 1, attachments=True, reactions="ab", replies={"a": 1})
    dm = {"type": "direct_channel", "direct_channel": {"members": 3}}
    report = both_ways(make_archive(tmp_path / "odd.zip", [odd, dm]), monkeypatch)
    counts = report["counts"]
    assert (counts["posts"], counts["replies"], counts["reactions"]) == (1, 0, 0)
    assert (counts["attachments"], counts["direct_channels"]) == (0, 1)


def test_inspect_counts_every_listed_attachment_validate_those_with_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both count references (entries of the attachment lists), not files in the archive;
    # validate counts only those the server looks up (a non-empty path).
    listed = post(
        "team1",
        "chan1",
        "alice",
        "m",
        1_700_000_000_000,
        attachments=[{"path": "a.txt"}, {"path": ""}, {}],
        replies=[reply("alice", "r", 1_700_000_000_001, attachments=[{"path": "a.txt"}])],
    )
    lines = [team("team1"), channel("team1", "chan1"), user("alice", teams={"team1": ["chan1"]})]
    archive = make_archive(tmp_path / "a.zip", [*lines, listed], {"data/a.txt": b"text"})
    inspected = both_ways(archive, monkeypatch)
    assert inspected["counts"]["attachments"] == 4
    assert inspected["files"]["count"] == 1  # the files themselves
    assert validate(archive).counts.attachments == 2


def test_inspect_text_shows_dates_past_python_datetime_as_dates(tmp_path: Path) -> None:
    # The server takes any int64 create_at; the summary writes the date, not the raw number.
    lines = [team("t"), channel("t", "c"), user("u", {"t": ["c"]})]
    lines += [post("t", "c", "u", "a", 1_700_000_000_000), post("t", "c", "u", "b", 10**18)]
    archive = make_archive(tmp_path / "far.zip", lines)
    result = CliRunner().invoke(cli, ["inspect", str(archive)])
    assert result.exit_code == 0, result.output
    assert "2023-11-14 … 31690708-07-05" in result.output
    assert str(10**18) not in result.output
