"""Option values the command line takes as text, parsed into what the library wants."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from archivekit.errors import UsageError

if TYPE_CHECKING:
    from archivekit.write.select import Members, Place

# The writers' selectors (archivekit.write.select) are imported by the functions that need
# them: validate and inspect parse --bandwidth here and should not load the writers.

_BANDWIDTH = re.compile(
    r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([kKmMgGtT]i?)?(bit/s|bps|bit|b|B/s|B|Bps)?\s*"
)
_PREFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_bandwidth(text: str) -> float:
    """A --bandwidth value in bits per second: '10Mbit', '10M', '2.5MB/s', '800kbps', '20'.

    A bare number or a unit in bits ("b", "bit", "bps", "bit/s") means bits per second;
    "B", "B/s", "Bps" mean bytes per second. Prefixes k/M/G/T are decimal, Ki/Mi/Gi/Ti binary.
    """
    match = _BANDWIDTH.fullmatch(text)
    if match is None:
        raise UsageError(f"--bandwidth: cannot read {text!r} (examples: 10Mbit, 2.5MB/s, 800k)")
    number, prefix, unit = match.group(1), match.group(2) or "", match.group(3) or "bit"
    multiplier = (
        1024 ** " kmgt".index(prefix[0].lower())
        if prefix.endswith("i")
        else _PREFIX[prefix.lower()]
    )
    value = float(number) * multiplier * (8 if unit.startswith("B") else 1)
    if value <= 0:
        raise UsageError("--bandwidth must be positive")
    return value


# --- writers (filter, split) ------------------------------------------------------------------

_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtT]i?)?[bB]?\s*")


def parse_size(text: str) -> int:
    """Bytes from ``500MB``, ``2GiB``, ``100M``, ``1.5G`` or a plain number of bytes.
    k/M/G/T are decimal (10^3...), Ki/Mi/Gi/Ti binary (2^10...)."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise UsageError(f"--max-bytes: cannot read {text!r} (examples: 500MB, 2GiB, 104857600)")
    number, prefix = float(match.group(1)), match.group(2) or ""
    if prefix.endswith("i"):
        factor = 1024 ** (" kmgt".index(prefix[0].lower()))
    else:
        factor = 1000 ** (" kmgt".index(prefix.lower())) if prefix else 1
    size = int(number * factor)
    if size <= 0:
        raise UsageError("--max-bytes must be positive")
    return size


def parse_place(text: str, option: str = "--channel") -> Place:
    team, slash, channel = text.partition("/")
    if not slash or not team or not channel or "/" in channel:
        raise UsageError(f"{option} wants TEAM/CHANNEL, not {text!r}")
    return team, channel


def parse_members(text: str, option: str = "--dm") -> Members:
    names = [n.strip() for n in text.split(",")]
    if len(names) < 2 or not all(names):
        raise UsageError(f"{option} wants USER,USER[,...] (two or more usernames), not {text!r}")
    from archivekit.gosem.strings import members_key

    return members_key(names)


def parse_types(values: Sequence[str], option: str = "--types") -> frozenset[str]:
    from archivekit.write.select import EXPORT_ORDER

    types = frozenset(t.strip() for v in values for t in v.split(",") if t.strip())
    unknown = types - frozenset(EXPORT_ORDER)
    if unknown:
        raise UsageError(
            f"{option}: unknown line type(s) {', '.join(sorted(unknown))}; the types are "
            + ", ".join(EXPORT_ORDER)
        )
    return types


_DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?")


def parse_date(text: str, *, end: bool = False) -> int:
    """Milliseconds since the epoch for ``--since`` (``end=False``: the first millisecond of
    the day or month given) or ``--until`` (``end=True``: its last millisecond).

    Accepts ``YYYY-MM-DD``, ``YYYY-MM``, an ISO 8601 date-time (UTC when it names no offset)
    or milliseconds since the epoch (as ``create_at`` is written).
    """
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        if _DATE.fullmatch(text):
            if len(text) == 7:
                start = dt.datetime.strptime(text, "%Y-%m").replace(tzinfo=dt.UTC)
                following = _next_month(start)
            else:
                start = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
                following = start + dt.timedelta(days=1)
            moment = following if end else start
            return _millis(moment) - (1 if end else 0)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{text!r} is not a date: use YYYY-MM-DD, YYYY-MM, an ISO 8601 date-time or "
            "milliseconds since 1970"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return _millis(parsed)


def _millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _next_month(start: dt.datetime) -> dt.datetime:
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)
