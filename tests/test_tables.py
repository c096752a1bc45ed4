"""`archivekit.tables` and `inspect --by`: every figure against an independent count."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tables_reference import expected_tables

from archivekit import ArchiveError, tables, validate
from archivekit.check import periods, table_counts
from archivekit.check.table_counts import TableCounts
from archivekit.cli import cli
from archivekit.report import table_output
from archivekit.report.tables import BY, COLUMNS, build_tables
from archivekit.testing.fuzz import (
    apply_record_mutations,
    dump_json_line,
    record_mutations,
    scaled_examples,
)
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

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "sample_exports").glob("*.zip"))
REAL = REPO / "tests" / "fixtures" / "mattermost-server-tests-import_test.zip"
KEYS = {
    "teams": ["team"],
    "channels": ["team", "channel"],
    "users": ["user"],
    "directs": ["members"],
    "months": ["month", "team", "kind"],
    "days": ["day", "team", "kind"],
    "types": ["type"],
    "files": ["extension"],
}
T0 = 1_700_000_000_000  # 2023-11-14
DAY = 86_400_000


def records(frame: pd.DataFrame, name: str) -> list[dict[str, Any]]:
    """Rows sorted by key, missing values as None, in the library's column order."""
    columns = [column for column, _ in COLUMNS[name]]
    frame = frame[columns].sort_values(KEYS[name]).reset_index(drop=True)
    out = []
    for row in frame.astype(object).to_dict("records"):
        out.append({k: None if _missing(v) else v for k, v in row.items()})
    return out


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def assert_tables_match(path: Path, **options: Any) -> Any:
    result = tables(path, **options)
    expected = expected_tables(path)
    for name in COLUMNS:
        assert records(result.frame(name), name) == records(expected[name], name), name
    return result


@pytest.mark.parametrize("archive", [*SAMPLES, REAL], ids=lambda p: p.name)
def test_every_figure_matches_an_independent_count(archive: Path) -> None:
    assert_tables_match(archive, workers=1)


def test_workers_give_the_one_process_tables(tmp_path: Path) -> None:
    path = tmp_path / "gen.zip"
    generate_export(path, seed=3, posts=400, direct_posts=80, attachments=12)
    one = tables(path, workers=1)
    several = tables(path, workers=3, block_size=8192)
    for name in COLUMNS:
        assert one.table(name).rows == several.table(name).rows, name
    assert several.lines == one.lines


@pytest.mark.parametrize("workers", [1, 3])
def test_validate_counts_the_same_tables_in_the_same_read(tmp_path: Path, workers: int) -> None:
    # The report page's one pass: validate's workers count the tables of the lines they check.
    path = make_archive(tmp_path / "edge.zip", [*EDGE_LINES] * 40, EDGE_FILES)
    counts = TableCounts()
    report = validate(path, workers=workers, block_size=4096, table_counts=counts)
    assert report.to_dict() == validate(path, workers=workers, block_size=4096).to_dict()
    alone = tables(path, workers=1)
    counted = build_tables(counts)
    for name in COLUMNS:
        assert counted[name].rows == alone.table(name).rows, name
    assert (counts.lines, counts.undecodable) == (alone.lines, alone.undecodable)
    assert counts.lines == 1 + 40 * len(EDGE_LINES)  # the version line, then the copies


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    teams=st.integers(1, 3),
    users=st.integers(2, 12),
    posts=st.integers(0, 60),
    direct_posts=st.integers(0, 20),
    attachments=st.integers(0, 6),
)
def test_generated_archives_match_an_independent_count(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    teams: int,
    users: int,
    posts: int,
    direct_posts: int,
    attachments: int,
) -> None:
    path = tmp_path_factory.mktemp("gen") / "gen.zip"
    generate_export(
        path, seed=seed, teams=teams, users=users, posts=posts, direct_posts=direct_posts,
        attachments=attachments, dm_channels=3, gm_channels=2, bots=1,
    )  # fmt: skip
    assert_tables_match(path, workers=1)


EDGE_LINES: list[Any] = [
    team("Eng", display_name="Engineering"),
    channel("Eng", "Town-Square"),
    channel("eng", "old", type="P", deleted_at=T0),
    user("Alice", teams={"eng": ["town-square", "old"]}),
    user("bob", teams={"eng": ["town-square"]}, delete_at=T0),
    bot("helper", "alice"),
    post(
        "eng", "town-square", "alice", "hello", T0,
        attachments=["a/report.CSV", "a/missing.png", ""],
        reactions=[reaction("bob", "+1", T0 + 5), reaction("helper", "smile", T0 + 6)],
        replies=[
            reply("bob", "next day", T0 + DAY, attachments=["a/notes"]),
            reply("ALICE", "older than its post", T0 - 10),
        ],
    ),
    post("Eng", "Town-Square", "helper", "case folds into the same channel", T0 + 2 * DAY),
    post("eng", "old", "bob", "in an archived channel", T0 + 40 * DAY),
    post("eng", "ghost", "carol", "a channel no line defines", T0),
    direct_channel(["alice", "alice"]),
    direct_post(["alice", "alice"], "alice", "note to self", T0 + 3),
    direct_post(["bob", "alice"], "bob", "dm", T0 + 4, reactions=[reaction("alice", "x", T0 + 9)]),
    direct_post(["alice", "bob", "carol"], "carol", "gm", T0 + 5),
    direct_post([["alice"], "bob"], "bob", "members that are no names: no DM/GM", T0 + 6),
    post("eng", "town-square", 7, "author of the wrong type", "not a time", replies=[1, None]),
    {"type": "webhook", "webhook": {}},
    b"{not json",
]  # fmt: skip
EDGE_JSON = [dump_json_line(line) for line in EDGE_LINES if isinstance(line, dict)]
EDGE_FILES = {"data/a/report.CSV": b"x" * 10, "data/a/notes": b"y" * 3}


def test_edge_cases_match_an_independent_count(tmp_path: Path) -> None:
    path = make_archive(tmp_path / "edge.zip", EDGE_LINES, EDGE_FILES)
    result = assert_tables_match(path, workers=1)
    channels = {r["channel"]: r for r in records(result.channels, "channels")}
    square = channels["town-square"]
    # [1, None] are no reply objects: not counted.
    assert (square["posts"], square["replies"], square["reactions"]) == (3, 2, 2)
    assert (square["files"], square["file_bytes"], square["authors"]) == (3, 13, 3)
    assert channels["old"]["archived"]
    assert channels["ghost"]["type"] is None
    directs = {r["members"]: r for r in records(result.directs, "directs")}
    assert (directs["alice"]["kind"], directs["alice"]["member_count"]) == ("DM", 1)
    assert directs["alice,bob,carol"]["kind"] == "GM"
    users = {r["user"]: r for r in records(result.users, "users")}
    assert users["bob"]["deactivated"]
    assert users["helper"]["kind"] == "bot"
    assert users["carol"]["kind"] is None  # referenced, never defined
    files = {r["extension"]: r for r in records(result.files, "files")}
    assert (files["png"]["missing"], files["csv"]["bytes"]) == (1, 10)


def test_a_dm_known_only_from_its_posts_counts_for_its_members(tmp_path: Path) -> None:
    lines = [
        team("eng"), user("alice"), user("bob"), user("carol"),
        direct_post(["alice", "bob"], "alice", "hi", T0),
        direct_post(["Bob", "alice"], "bob", "same DM, other spelling", T0 + 1),
        direct_channel(["alice", "carol"]),
        direct_post(["alice", "carol"], "carol", "a defined DM", T0 + 2),
    ]  # fmt: skip
    for workers in (1, 2):
        result = assert_tables_match(make_archive(tmp_path / "dm.zip", lines), workers=workers)
        users = {r["user"]: r["direct_channels"] for r in records(result.users, "users")}
        assert users == {"alice": 2, "bob": 1, "carol": 1}


# --- the command line ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edge_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_archive(tmp_path_factory.mktemp("edge") / "edge.zip", EDGE_LINES, EDGE_FILES)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("by", list(BY))
def test_cli_json_equals_the_library(edge_archive: Path, by: str) -> None:
    result = run("inspect", str(edge_archive), "--by", by, "--format", "json")
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.stdout_bytes)
    library = tables(edge_archive)
    assert document["rows"] == table_output.table_records(library.table(BY[by]))
    assert (document["table"], document["lines"]) == (BY[by], library.lines)
    # ...and the records are the DataFrame's, with times as ISO text.
    frame = pd.DataFrame(document["rows"], columns=library.table(BY[by]).names)
    for name, kind in COLUMNS[BY[by]]:
        if kind == "time":
            frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601").astype(
                "datetime64[ms, UTC]"
            )
    name = BY[by]
    assert records(frame, name) == records(library.frame(name), name)


@pytest.mark.parametrize("by", list(BY))
def test_csv_round_trips_through_pandas(edge_archive: Path, tmp_path: Path, by: str) -> None:
    out = tmp_path / "t.csv"
    result = run("inspect", str(edge_archive), "--by", by, "--format", "csv", "-o", str(out))
    assert result.exit_code == 0, result.output
    name = BY[by]
    times = [column for column, kind in COLUMNS[name] if kind == "time"]
    texts = {column: str for column, kind in COLUMNS[name] if kind == "str"}
    read = pd.read_csv(out, dtype=texts, keep_default_na=False, na_values={"": ""})
    for column in times:
        read[column] = pd.to_datetime(read[column], utc=True, format="ISO8601").astype(
            "datetime64[ms, UTC]"
        )
    for column in texts:
        read[column] = read[column].where(read[column] != "", None)
    library = tables(edge_archive).frame(name)
    # CSV cannot tell an empty text from a missing one: compare with "" read as missing.
    for column in texts:
        library[column] = library[column].where(library[column] != "", None)
    assert records(read, name) == records(library, name)


@pytest.mark.parametrize("by", ["channel", "user", "month"])
def test_parquet_round_trips_through_pandas(edge_archive: Path, tmp_path: Path, by: str) -> None:
    out = tmp_path / "t.parquet"
    result = run("inspect", str(edge_archive), "--by", by, "--format", "parquet", "-o", str(out))
    assert result.exit_code == 0, result.output
    name = BY[by]
    read = pd.read_parquet(out)
    assert records(read, name) == records(tables(edge_archive).frame(name), name)
    for column in (c for c, kind in COLUMNS[name] if kind == "time"):
        assert str(read[column].dtype) == "datetime64[ms, UTC]"


def test_parquet_without_pyarrow_is_a_one_line_usage_error(
    edge_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_output, "parquet_available", lambda: False)
    out = tmp_path / "t.parquet"
    result = run("inspect", str(edge_archive), "--by=team", "--format=parquet", f"-o{out}")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "archivekit: --format parquet needs pyarrow: pip install 'archivekit[parquet]'"
    ]
    assert not out.exists()


def test_csv_needs_a_table(edge_archive: Path) -> None:
    result = run("inspect", str(edge_archive), "--format", "csv")
    assert result.exit_code == 2
    assert "--by" in result.stderr


def test_text_table_is_aligned(edge_archive: Path) -> None:
    result = run("inspect", str(edge_archive), "--by", "team")
    assert result.exit_code == 0
    header, row = result.stdout.splitlines()
    assert header.split()[:3] == ["team", "display_name", "type"]
    assert row.split()[:3] == ["eng", "Engineering", "O"]


def test_text_table_shows_control_characters_escaped(tmp_path: Path) -> None:
    # A NUL or an ESC in a value never reaches the terminal raw, and the columns stay aligned.
    path = make_archive(tmp_path / "in.zip", [team("eng", display_name="E\x00\x1bng")])
    result = run("inspect", str(path), "--by", "team")
    assert result.exit_code == 0
    assert "\x00" not in result.stdout
    assert "\x1b" not in result.stdout
    header, row = result.stdout.splitlines()
    assert row.split()[:2] == ["eng", "E\\u0000\\u001bng"]
    assert row.index("E\\u0000") == header.index("display_name")


def test_the_output_file_is_written_atomically_and_never_over_the_archive(
    edge_archive: Path,
) -> None:
    result = run("inspect", str(edge_archive), "--by", "team", "-o", str(edge_archive))
    assert result.exit_code == 2
    assert "input" in result.stderr


def test_an_unreadable_archive_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    assert run("inspect", str(bad), "--by", "channel").exit_code == 3


def test_parquet_bytes_are_readable_in_memory(edge_archive: Path) -> None:
    result = tables(edge_archive)
    data = table_output.table_parquet(result.table("files"))
    assert records(pd.read_parquet(io.BytesIO(data)), "files") == records(result.files, "files")


@pytest.mark.timeout(120)
def test_a_jsonl_damaged_mid_stream_ends_workers_with_exit_3(tmp_path: Path) -> None:
    # Found here: ArchiveError did not survive pickling, so a worker that met damaged data
    # left the parent waiting forever (inspect's pool had the same hang).
    path = tmp_path / "gen.zip"
    generate_export(path, seed=2, posts=3000, attachments=0)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError):
        tables(path, workers=2, block_size=1 << 14)
    result = run("inspect", str(path), "--by", "channel")
    assert result.exit_code == 3


@settings(
    max_examples=scaled_examples(0.25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=record_mutations(EDGE_JSON, 4))
def test_mutated_records_match_an_independent_count(
    mutations: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Fields of other types, removed or nulled: still every figure as counted independently.
    lines = apply_record_mutations(EDGE_JSON, mutations)
    path = make_archive(tmp_path_factory.mktemp("m") / "m.zip", lines, EDGE_FILES)
    assert_tables_match(path, workers=1)


MONTH_MS = 31 * 86_400_000


@pytest.mark.parametrize("workers", [1, 3])
def test_dates_over_more_periods_than_held_are_counted_per_a_wider_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    # A hostile archive spreads a few posts over as many months as it likes: the counters hold
    # a bounded number of periods per series and widen the period (exact counts, coarser dates).
    monkeypatch.setattr(table_counts, "PERIODS_HELD", 12)
    lines = [team("t"), channel("t", "c"), user("u1", {"t": ["c"]})]
    lines += [post("t", "c", "u1", "hi", 86_400_000 + m * MONTH_MS) for m in range(30)]
    path = make_archive(tmp_path / "months.zip", lines)
    counted = tables(path, workers=workers, block_size=4096)
    months, days = counted.table("months"), counted.table("days")
    assert (months.period, days.period) == ("quarter", "quarter")
    assert months.widened
    assert days.widened
    assert [row[0] for row in months.rows[:3]] == ["1970-Q1", "1970-Q2", "1970-Q3"]
    assert len(months.rows) < 12
    assert sum(row[3] for row in months.rows) == 30  # posts: the counts stay exact
    assert months.rows == days.rows
    result = run("inspect", str(path), "--by", "month", "--format", "json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout_bytes)["period"] == "quarter"
    assert "the month column counts per quarter" in result.stderr


def test_posts_over_centuries_hold_a_bounded_number_of_periods() -> None:
    # 4,000 posts a month apart (340 years): more days and months than a series holds.
    counts = TableCounts()
    for n in range(4000):
        record = post("t", "c", "u1", "hi", n * MONTH_MS)
        counts.add(n + 1, 100, record)
    assert counts.period == periods.QUARTER
    assert len(counts.days) < table_counts.PERIODS_HELD
    assert sum(bucket.posts for bucket in counts.days.values()) == 4000
    tables_rows = build_tables(counts)["months"].rows
    assert tables_rows[0][0] == "1970-Q1"
    assert sum(row[3] for row in tables_rows) == 4000


@pytest.mark.parametrize("level", range(9))
def test_period_starts_one_day_after_another_are_the_periods_of_those_days(level: int) -> None:
    starts = periods.Starts(level)
    days = [*range(-800, 800, 7), *range(10**6, -(10**6), -9_973), 2**40, -(2**40), 0, 0]
    assert [starts(day) for day in days] == [periods.start(day, level) for day in days]


def test_a_spread_of_dates_costs_date_arithmetic_per_period_not_per_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 6,000 posts 37 days apart over 20 teams (600 years): nearly a day, a month, a year each.
    monkeypatch.setattr(table_counts, "PERIODS_HELD", 30)
    monkeypatch.setattr(table_counts, "BUCKETS_HELD", 400)
    lines: list[Any] = [user("u1")]
    for t in range(20):
        lines += [team(f"t{t}"), channel(f"t{t}", "c")]
    posts = 6000
    lines += [post(f"t{n % 20}", "c", "u1", "x", n * 37 * 86_400_000) for n in range(posts)]
    path = make_archive(tmp_path / "spread.zip", lines)
    civil = periods.civil
    calls = 0

    def counted(day: int) -> tuple[int, int, int]:
        nonlocal calls
        calls += 1
        return civil(day)

    monkeypatch.setattr(periods, "civil", counted)
    months = tables(path, workers=1).table("months")
    assert months.period == "century"
    assert sum(row[3] for row in months.rows) == posts  # exact counts
    assert calls < posts / 4
