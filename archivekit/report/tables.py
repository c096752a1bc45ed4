"""`tables`: an archive as tables — per team, channel, user, DM/GM, month, day, line and file
type — for notebooks and spreadsheets (pandas DataFrames) and for `inspect --by`.

One streaming pass counts every table at once (`archivekit.check.table_counts`, whose docstring
says what each figure means); memory is bounded by the number of teams, channels, DMs/GMs and
users and a bounded number of periods (days, or wider ones), never by posts. Large archives
are counted on every core: each worker inflates the JSONL itself and counts every n-th batch of
lines, and the tallies are merged. Runs of
post and direct_post lines are counted in C when it is built (`archivekit/check/fast/_report.c`:
the same figures, keyed by names as written, folded in by `TableCounts.add_counted`; any line
it does not take is counted here), which makes `inspect --by` about as fast as plain `inspect`.

The tables are plain rows (`Table`) first and DataFrames on demand, so the command line can
write CSV, JSON or text without importing pandas (~0.4 s of start-up).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from archivekit.check import periods
from archivekit.check.facts import earliest, latest
from archivekit.check.table_counts import CHANNEL, Person, Place, TableCounts
from archivekit.check.table_lines import TableLines
from archivekit.gosem.spec import INT64_MAX, INT64_MIN
from archivekit.read import (
    BLOCK_SIZE,
    Archive,
    LineTooLong,
    ReadLimits,
    open_archive,
)
from archivekit.read.records import RecordStream
from archivekit.report.choices import BY as BY
from archivekit.runtime import default_workers, run_in_workers

if TYPE_CHECKING:
    import pandas as pd

# "line": a line number, or None (a nullable integer column).
ColumnKind = Literal["str", "int", "line", "bool", "time"]

_ACTIVITY: tuple[tuple[str, ColumnKind], ...] = (
    ("posts", "int"),
    ("replies", "int"),
    ("reactions", "int"),
    ("files", "int"),
    ("file_bytes", "int"),
)

_PERIOD: tuple[tuple[str, ColumnKind], ...] = (
    ("posts", "int"),
    ("replies", "int"),
    ("files", "int"),
    ("file_bytes", "int"),
)

COLUMNS: dict[str, tuple[tuple[str, ColumnKind], ...]] = {
    "teams": (
        ("team", "str"),
        ("display_name", "str"),
        ("type", "str"),
        ("members", "int"),
        ("channels", "int"),
        *_ACTIVITY,
        ("authors", "int"),
        ("first_post_at", "time"),
        ("last_post_at", "time"),
    ),
    "channels": (
        ("team", "str"),
        ("channel", "str"),
        ("type", "str"),
        ("display_name", "str"),
        ("archived", "bool"),
        ("members", "int"),
        *_ACTIVITY,
        ("authors", "int"),
        ("first_post_at", "time"),
        ("last_post_at", "time"),
    ),
    "users": (
        ("user", "str"),
        ("kind", "str"),
        ("deactivated", "bool"),
        ("teams", "int"),
        ("channels", "int"),
        ("direct_channels", "int"),
        ("posts", "int"),
        ("direct_posts", "int"),
        ("replies", "int"),
        ("reactions", "int"),
        ("files", "int"),
        ("first_activity_at", "time"),
        ("last_activity_at", "time"),
    ),
    "directs": (
        ("members", "str"),
        ("kind", "str"),
        ("member_count", "int"),
        ("defined", "bool"),
        *_ACTIVITY,
        ("authors", "int"),
        ("first_post_at", "time"),
        ("last_post_at", "time"),
    ),
    "months": (("month", "str"), ("team", "str"), ("kind", "str"), *_PERIOD),
    "days": (("day", "str"), ("team", "str"), ("kind", "str"), *_PERIOD),
    "types": (
        ("type", "str"),
        ("lines", "int"),
        ("bytes", "int"),
        ("replies", "int"),
        ("reactions", "int"),
        ("files", "int"),
    ),
    "files": (
        ("extension", "str"),
        ("files", "int"),
        ("bytes", "int"),
        ("missing", "int"),
        ("largest", "int"),
    ),
}


@dataclass(frozen=True, slots=True)
class Table:
    """One table as rows of plain values; times are ms since the epoch (UTC) or None."""

    name: str
    columns: tuple[tuple[str, ColumnKind], ...]
    rows: list[tuple[Any, ...]]
    # months/days: the period the first column counts by — "month"/"day", or wider when the
    # archive's dates span more periods than the counters hold (`TableCounts.period`).
    period: str | None = None

    @property
    def widened(self) -> bool:
        return self.period is not None and self.period != self.columns[0][0]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame: times as ``datetime64[ms, UTC]``, counts as int64, line
        numbers as nullable Int64."""
        import pandas as pd

        data: dict[str, Any] = {}
        for index, (name, kind) in enumerate(self.columns):
            values = [row[index] for row in self.rows]
            if kind in ("time", "line"):
                # A create_at past int64 (up to 2**64 - 1 reaches here from the counter's
                # uint64) is no time the server can store: missing, as it is in the database.
                values = [_int64_or_none(value) for value in values]
            if kind == "time":
                data[name] = (
                    pd.Series(pd.array(values, dtype="Int64"), dtype="Int64")
                    .astype("datetime64[ms]")
                    .dt.tz_localize("UTC")
                )
            elif kind == "int":
                data[name] = pd.Series(values, dtype="int64")
            elif kind == "line":
                data[name] = pd.Series(pd.array(values, dtype="Int64"))
            elif kind == "bool":
                data[name] = pd.Series(values, dtype="bool")
            else:
                data[name] = pd.Series(values, dtype="object")
        return pd.DataFrame(data, columns=self.names)


def _int64_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX else None


@dataclass(slots=True)
class ArchiveTables:
    """Every table of one archive. Attribute access gives DataFrames (built on first use);
    `table(name)` the plain rows behind them."""

    archive: str
    jsonl: str
    kind: str
    size: int
    lines: int
    undecodable: int
    data_files: int
    data_bytes: int
    _tables: dict[str, Table] = field(default_factory=dict)
    _frames: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        return self._tables[name]

    def frame(self, name: str) -> pd.DataFrame:
        found = self._frames.get(name)
        if found is None:
            found = self._frames[name] = self._tables[name].frame()
        return found

    @property
    def teams(self) -> pd.DataFrame:
        return self.frame("teams")

    @property
    def channels(self) -> pd.DataFrame:
        return self.frame("channels")

    @property
    def users(self) -> pd.DataFrame:
        return self.frame("users")

    @property
    def directs(self) -> pd.DataFrame:
        return self.frame("directs")

    @property
    def months(self) -> pd.DataFrame:
        return self.frame("months")

    @property
    def days(self) -> pd.DataFrame:
        return self.frame("days")

    @property
    def types(self) -> pd.DataFrame:
        return self.frame("types")

    @property
    def files(self) -> pd.DataFrame:
        return self.frame("files")

    def fill(self, tally: TableCounts) -> None:
        """The tables from the counts of every line of the JSONL."""
        self.lines, self.undecodable = tally.lines, tally.undecodable
        self._tables.update(build_tables(tally))

    def summary(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "jsonl": self.jsonl,
            "kind": self.kind,
            "size": self.size,
            "lines": self.lines,
            "undecodable_lines": self.undecodable,
            "data_files": self.data_files,
            "data_bytes": self.data_bytes,
        }


def uncounted_tables(source: str, archive: Archive) -> ArchiveTables:
    """The tables of an open archive before its lines are counted (then `fill` them)."""
    # From the member index: no object per file (an export may hold millions).
    data_files, data_bytes = archive.index.file_totals()
    return ArchiveTables(
        source,
        archive.jsonl.name,
        archive.kind,
        archive.size,
        lines=0,
        undecodable=0,
        data_files=data_files,
        data_bytes=data_bytes,
    )


# -- from a tally to rows -------------------------------------------------------------------


def _activity(place: Place) -> tuple[int, int, int, int, int]:
    return place.posts, place.replies, place.reactions, place.files, place.file_bytes


def _channel_rows(tally: TableCounts) -> list[tuple[Any, ...]]:
    rows = []
    for (team, name), p in sorted(tally.places.items()):
        if p.kind != CHANNEL:
            continue
        rows.append(
            (team, name, p.type, p.display_name, p.archived, p.members, *_activity(p),
             len(p.authors), p.first_at, p.last_at)
        )  # fmt: skip
    return rows


def _team_rows(tally: TableCounts) -> list[tuple[Any, ...]]:
    totals: dict[str, list[Any]] = {}
    authors: dict[str, set[str]] = {}
    for place in tally.places.values():
        if place.kind != CHANNEL:
            continue
        sums = totals.setdefault(place.team, [0, 0, 0, 0, 0, None, None])
        for i, value in enumerate(_activity(place)):
            sums[i] += value
        sums[5] = earliest(sums[5], place.first_at)
        sums[6] = latest(sums[6], place.last_at)
        authors.setdefault(place.team, set()).update(place.authors)
    rows = []
    for name in sorted(set(tally.teams) | set(totals)):
        team = tally.teams.get(name)
        sums = totals.get(name, [0, 0, 0, 0, 0, None, None])
        rows.append(
            (name, team.display_name if team else None, team.type if team else None,
             team.members if team else 0, team.channels if team else 0, *sums[:5],
             len(authors.get(name, ())), sums[5], sums[6])
        )  # fmt: skip
    return rows


def _user_rows(tally: TableCounts) -> list[tuple[Any, ...]]:
    directs = tally.direct_channels()
    rows = []
    for name in sorted(tally.people.keys() | directs.keys()):
        p = tally.people.get(name) or Person(name)  # or only a member of DMs/GMs
        rows.append(
            (name, p.kind, p.deactivated, p.teams, p.channels, directs.get(name, 0), p.posts,
             p.direct_posts, p.replies, p.reactions, p.files, p.first_at, p.last_at)
        )  # fmt: skip
    return rows


def _direct_rows(tally: TableCounts) -> list[tuple[Any, ...]]:
    return [
        (p.name, p.kind, len(p.member_names), p.defined_on is not None, *_activity(p),
         len(p.authors), p.first_at, p.last_at)
        for (_, _), p in sorted(tally.places.items())
        if p.kind != CHANNEL
    ]  # fmt: skip


def _period_rows(tally: TableCounts, month: bool) -> list[tuple[Any, ...]]:
    """Rows per month (or day), team and kind — per a wider period when the tally had to widen
    its own (`TableCounts.period`; `ArchiveTables.month_period` / `day_period` name it)."""
    level = period_level(tally, month)
    groups = tally.group_keys()
    sums: dict[tuple[int, str, str], list[int]] = {}
    start = periods.Starts(level)
    for day_key in sorted(tally.days):  # by day: neighbours share their period (`Starts`)
        bucket = tally.days[day_key]
        day, group = TableCounts.split_day_key(day_key)
        team, kind = groups[group]
        row = sums.setdefault((start(day), team, kind), [0, 0, 0, 0])
        row[0] += bucket.posts
        row[1] += bucket.replies
        row[2] += bucket.files
        row[3] += bucket.file_bytes
    return [
        (periods.label(first, level), team, kind, *values)
        for (first, team, kind), values in sorted(sums.items())
    ]


def period_level(tally: TableCounts, month: bool) -> int:
    """The period the months (or days) table counts by: a month (a day), or the tally's own
    when it is wider."""
    return max(tally.period, periods.MONTH if month else periods.DAY)


def _type_rows(tally: TableCounts) -> list[tuple[Any, ...]]:
    return [
        (name, t.lines, t.bytes, t.replies, t.reactions, t.files)
        for name, t in sorted(tally.line_types.items())
    ]


def _file_rows(tally: TableCounts) -> list[tuple[Any, ...]]:
    return [
        (ext, f.files, f.bytes, f.missing, f.largest) for ext, f in sorted(tally.file_types.items())
    ]


def build_tables(tally: TableCounts) -> dict[str, Table]:
    rows = {
        "teams": _team_rows(tally),
        "channels": _channel_rows(tally),
        "users": _user_rows(tally),
        "directs": _direct_rows(tally),
        "months": _period_rows(tally, month=True),
        "days": _period_rows(tally, month=False),
        "types": _type_rows(tally),
        "files": _file_rows(tally),
    }
    spans = {
        "months": periods.name(period_level(tally, month=True)),
        "days": periods.name(period_level(tally, month=False)),
    }
    return {name: Table(name, COLUMNS[name], rows[name], spans.get(name)) for name in COLUMNS}


# -- the pass -------------------------------------------------------------------------------


def owned_batches(
    path: str, me: int, workers: int, block_size: int, read_limits: ReadLimits | None
) -> Iterator[tuple[int, list[bytes | LineTooLong]]]:
    """(number of the first line, lines) of every `workers`-th batch from batch `me`; the
    last item is (total lines + 1, []) so a consumer learns the number of lines."""
    with open_archive(path, limits=read_limits) as archive:
        # The share is RecordStream's, as inspect's workers take theirs; the lines stay raw:
        # the C counter takes runs of them undecoded.
        stream = RecordStream(archive, exact=False, block_size=block_size, share=(me, workers))
        yield from stream.raw_batches()
        yield stream.lines + 1, []


def count_share(
    path: str, me: int, workers: int, block_size: int, read_limits: ReadLimits | None
) -> TableCounts:
    """The tally of every `workers`-th batch of lines, starting at batch `me`
    (`archivekit.check.table_lines`: runs of post lines in C when it is built, every other line
    in Python)."""
    with open_archive(path, limits=read_limits) as archive:
        counter = TableLines(archive)
        lines = 0
        for first, batch in owned_batches(path, me, workers, block_size, read_limits):
            counter.count(first, batch)
            lines = first - 1
        return counter.counts(lines)


def tables(
    path: str | os.PathLike[str],
    *,
    workers: int | None = None,
    block_size: int = BLOCK_SIZE,
    read_limits: ReadLimits | None = None,
) -> ArchiveTables:
    """Count an archive into tables (`archivekit.check.table_counts` says what each figure is).

    Args:
        path: a zip export, a bare ``.jsonl`` or an unzipped export directory.
        workers: processes to use; None picks one per core for large archives.
        block_size: bytes of JSONL per unit of work.
        read_limits: zip-bomb limits.

    Raises:
        ArchiveError: the archive cannot be read.
    """
    source = os.fspath(path)
    with open_archive(source, limits=read_limits) as archive:
        result = uncounted_tables(source, archive)
        if workers is None:
            workers = default_workers(archive.jsonl.size)
    if workers <= 1:
        tally = count_share(source, 0, 1, block_size, read_limits)
    else:
        # Workers end with this process, however it ends (archivekit.runtime.run_in_workers).
        parts = run_in_workers(
            count_share, [(source, me, workers, block_size, read_limits) for me in range(workers)]
        )
        tally = parts[0]
        for part in parts[1:]:
            tally.merge(part)
    result.fill(tally)
    return result
