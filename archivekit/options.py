"""Option values the command line takes as text, parsed into what the library wants."""

from __future__ import annotations

import re

from archivekit.errors import UsageError

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
