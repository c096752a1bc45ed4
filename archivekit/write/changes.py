"""What `fix` changed: one `Change` per repair applied (or refused), and the log that adds
them up — exact counts per repair, the first few in memory, every one in a temporary file.

A change says which repair (a name from `archivekit.issues.REPAIRS`), where (input line, field
path, or a member for files), and the value before and after. A repair that could not be done
safely (a file in two possible places, a line that cannot be decoded) is logged with
``after=None`` and a ``note`` saying why: reported, never guessed.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from archivekit.issues import Scalar
from archivekit.write.core import LineSpool

# Values are shown cut to this many characters (a split message can be 100 kB): the change
# log says what changed, the output holds the data.
MAX_VALUE_CHARS: Final = 120
# Changes kept in memory for the summary (the rest are counted, and spilled for --format json).
SAMPLE: Final = 50


def shown_json(value: object) -> str:
    """A value as the change log shows it: any JSON value (a string, a number, an object a
    repair replaced) in JSON, cut at `MAX_VALUE_CHARS`.

    Not `check.rules.names.shown`, which quotes a string inside an issue's message (Python
    repr, 80 characters): a change log row is the value itself, as the JSONL holds it, so a
    reader can search the archive for it; an issue quotes a name in a sentence.
    """
    text = orjson.dumps(value).decode()
    if len(text) > MAX_VALUE_CHARS:
        # The count is the value's: a string's characters (runes, as the server counts a
        # message), not its JSON text's quotes and escapes.
        size = len(value) if isinstance(value, str) else len(text)
        return f"{text[: MAX_VALUE_CHARS - 1]}… ({size:,} characters)"
    return text


@dataclass(frozen=True, slots=True)
class Change:
    """One repair at one place. ``after`` None: not done (``note`` says why)."""

    repair: str
    line: int | None  # input line (1-based); None for a zip member
    field: str | None  # field path in the line, or the member name
    before: str
    after: str | None
    note: str | None = None
    # The values the note speaks of (a name, the other name it would merge with...), so that
    # a table never parses the note.
    values: Mapping[str, Scalar] | None = None

    @property
    def applied(self) -> bool:
        return self.after is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "repair": self.repair,
            "line": self.line,
            "field": self.field,
            "before": self.before,
            "after": self.after,
        }
        if self.note is not None:
            out["note"] = self.note
        if self.values:
            out["values"] = dict(self.values)
        return out

    def text(self) -> str:
        where = f"line {self.line}" if self.line is not None else "member"
        if self.field:
            where += f" {self.field}"
        if self.after is None:
            return f"{self.repair}: {where}: {self.before} — not repaired: {self.note}"
        note = f" ({self.note})" if self.note else ""
        return f"{self.repair}: {where}: {self.before} → {self.after}{note}"


class ChangeLog:
    """Every change of a run: counts per repair (exact), the first `SAMPLE` changes and the
    first `SAMPLE` refusals in memory, all of them in a `LineSpool` (`__iter__`) in
    ``folder`` — the output's folder, where the output's own temporary file is (None: the
    system's temporary folder, for a dry run)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.applied: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.sample: list[Change] = []
        self.refusals: list[Change] = []
        # The opt-in repairs the run's options leave off: how many changes each would make.
        self.offered: Counter[str] = Counter()
        # Owned by the log: closed by `close` (or when collected). Made at the first change,
        # once the run writes (a folder that does not exist is the output's error, exit 2).
        self._folder = folder
        self._spool: LineSpool | None = None

    def add(self, change: Change) -> None:
        if change.applied:
            self.applied[change.repair] += 1
            if len(self.sample) < SAMPLE:
                self.sample.append(change)
        else:
            self.refused[change.repair] += 1
            if len(self.refusals) < SAMPLE:
                self.refusals.append(change)
        if self._spool is None:
            self._spool = LineSpool(self._folder)
        self._spool.add(orjson.dumps(change.to_dict()))

    def offer(self, repair: str) -> None:
        """One change the opt-in ``repair`` would make, were its option given."""
        self.offered[repair] += 1

    @property
    def total(self) -> int:
        return sum(self.applied.values())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Every change, in the order logged, as its dict."""
        if self._spool is not None:
            for _, line in self._spool.replay():
                yield orjson.loads(line)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
