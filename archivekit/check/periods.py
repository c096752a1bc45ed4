"""Periods the tables count posts by: a day, a month, a quarter, a year, then ten, a hundred, a
thousand… years — each level a whole number of the one below, so a count held per period can
be re-counted per a wider one without the posts.

Why levels at all: a post's ``create_at`` is any int64 of milliseconds, so a hostile archive
can spread a few thousand posts over as many months (1970–2095 in 66 KB). The counters keep at
most a fixed number of periods per series and widen the period when more appear
(`archivekit.check.table_counts`); the chart does the same for its bars.

Dates are the proleptic Gregorian calendar with astronomical years (year 0 is 1 BC), as numpy
writes them, for any day index (days since 1970-01-01): Python's `datetime` stops at 9999.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

DAY, MONTH, QUARTER, YEAR = 0, 1, 2, 3
# A period of 10**9 years holds every day an int64 of milliseconds can name: no level past it
# (the C counter's LEVEL_MOST). Even there a series whose dates fall on both sides of year 0
# holds two periods: the counters stop widening at this level, whatever they hold.
WIDEST = YEAR + 9
DAY_MS = 86_400_000
_UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAMES = ("day", "month", "quarter", "year", "decade", "century", "millennium")
_DAYS_400_YEARS = 146_097
_EPOCH = 719_468  # days from 0000-03-01 to 1970-01-01


def civil(day: int) -> tuple[int, int, int]:
    """(year, month, day of month) of a day index since 1970-01-01 (H. Hinnant's algorithm)."""
    z = day + _EPOCH
    era = z // _DAYS_400_YEARS
    doe = z - era * _DAYS_400_YEARS
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, doy - (153 * mp + 2) // 5 + 1


def day_index(year: int, month: int, day: int) -> int:
    """The day index since 1970-01-01 of a date (the inverse of `civil`)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    return era * _DAYS_400_YEARS + yoe * 365 + yoe // 4 - yoe // 100 + doy - _EPOCH


def _years(level: int) -> int:
    return int(10 ** (level - YEAR))


def start(day: int, level: int) -> int:
    """The first day of the period of `level` that holds `day`."""
    if level == DAY:
        return day
    year, month, _ = civil(day)
    if level == MONTH:
        return day_index(year, month, 1)
    if level == QUARTER:
        return day_index(year, month - (month - 1) % 3, 1)
    return day_index(year - year % _years(level), 1, 1)


class Starts:
    """`start(day, level)` for one day after another: the bounds of the last period found are
    kept, so that a day in the same period as the one before (days in order, posts in line
    order) costs two comparisons rather than a date's arithmetic in Python."""

    __slots__ = ("_end", "_first", "level")

    def __init__(self, level: int) -> None:
        self.level = level
        self._first = self._end = 0  # no period yet

    def __call__(self, day: int) -> int:
        if self._first <= day < self._end:
            return self._first
        level = self.level
        if level == DAY:
            return day
        year, month, _ = civil(day)
        if level == MONTH:
            first, end = day_index(year, month, 1), day_index(year + month // 12, month % 12 + 1, 1)
        elif level == QUARTER:
            month -= (month - 1) % 3
            first, end = (
                day_index(year, month, 1),
                day_index(year + (month + 2) // 12, (month + 2) % 12 + 1, 1),
            )
        else:
            year -= year % _years(level)
            first, end = day_index(year, 1, 1), day_index(year + _years(level), 1, 1)
        self._first, self._end = first, end
        return first


def _year_text(year: int) -> str:
    return f"{year:04d}"  # numpy's notation: 0005, -005, -2210, 10000


def label(first_day: int, level: int) -> str:
    """A period as text: 2024-03-09, 2024-03, 2024-Q1, 2024, 2020–2029, 2000–2099, …"""
    year, month, day = civil(first_day)
    if level == DAY:
        return f"{_year_text(year)}-{month:02d}-{day:02d}"
    if level == MONTH:
        return f"{_year_text(year)}-{month:02d}"
    if level == QUARTER:
        return f"{_year_text(year)}-Q{(month - 1) // 3 + 1}"
    if level == YEAR:
        return _year_text(year)
    return f"{_year_text(year)}–{_year_text(year + _years(level) - 1)}"


def time_text(ms: int | None) -> str | None:
    """ISO 8601 UTC text of a time in ms since the epoch (numpy's notation beyond 1-9999), for
    any int64 — the server takes any create_at but 0 (-2**63 too, which numpy calls NaT)."""
    if ms is None:
        return None
    try:
        return (_UNIX_EPOCH + dt.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[
            :-3
        ] + "Z"
    except OverflowError:
        day, rest = divmod(ms, DAY_MS)
        seconds, millis = divmod(rest, 1000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        date = label(day, DAY)
        return f"{date}T{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}Z"


def date_text(ms: int | None) -> str | None:
    """The UTC date (YYYY-MM-DD, longer years as `time_text` writes them) of a time in ms."""
    text = time_text(ms)
    return None if text is None else text.partition("T")[0]


_LABEL = re.compile(r"(-?\d+)(?:-(Q?)(\d+)(?:-(\d+))?)?")


def parse(text: str) -> int:
    """The first day of a period written by `label` (any level)."""
    found = _LABEL.match(text)
    if found is None:
        raise ValueError(f"not a period: {text!r}")
    year, quarter, part, day = found.groups()
    if part is None:
        return day_index(int(year), 1, 1)
    month = 3 * int(part) - 2 if quarter else int(part)
    return day_index(int(year), month, int(day or 1))


def name(level: int) -> str:
    """What a period of `level` is called (month, quarter, decade, 10,000 years…)."""
    return _NAMES[level] if level < len(_NAMES) else f"{_years(level):,} years"


def level(period: str) -> int:
    """The level of a period by its `name`."""
    if period in _NAMES:
        return _NAMES.index(period)
    return YEAR + len(str(int(period.removesuffix(" years").replace(",", "")))) - 1


def fitting(days: Iterable[int], level: int, most: int) -> int:
    """The narrowest level, `level` or wider, at which the period starts `days` (of periods of
    `level`) fall in at most `most` distinct periods."""
    held = set(days)
    while len(held) > most:
        level += 1
        held = {start(day, level) for day in held}
    return level
