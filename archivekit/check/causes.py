"""Root causes: the issues that share one cause, added up as they stream, in bounded memory.

Most issues of a broken archive are copies of a few problems: forty-eight lines naming a team
the archive never defines, twelve users without an email, every message over the same limit.
`cause_key` says which cause an issue belongs to, from its code and its structured values —
never from its message:

- a reference (unknown-*, defined-later, reference-case): the kind of target and its
  lowercased key — one cause per team, channel, user or scheme;
- an issue with a `rule` value: that rule (e.g. reply attachments dropped after a failed one);
- an issue with a `setting` value (a target limit, MaxPostSize): the setting and the effect;
- an issue about files (a `path` or `member` value): its code and effect, whichever field names
  them;
- otherwise the server's error id, else the field path without its indices.

`CauseTally` adds issues up per cause: the count, the distinct lines, the lines as compact runs
per line type, the first names (of the users, teams, files...) with their line and the value
found there, the common folder of the files named, the largest value found, and the first issue
(for its values). Its memory is bounded
whatever the archive: at most `MAX_CAUSES` causes in detail (issues of further causes are only
counted, per code), `MAX_RUNS` runs per line type and cause (the runs then stop at a line:
`Runs.cut`), `MAX_NAMES` names per cause — a few hundred bytes per cause, well under 2 MB in
all. Counts are exact whatever is left out.

A tally of later lines merges into an earlier one exactly as if its issues had been added one
by one (`merge`): a parallel worker folds the issues past its budget into a tally per batch and
sends that, so the causes of a run do not depend on the number of workers.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from archivekit.gosem.decode_spec import PAYLOAD_TYPES
from archivekit.gosem.spec import field_pattern
from archivekit.issues import CONDITIONAL_REPAIRS, MESSAGE_LENGTH_IDS, Issue, Scalar, Severity

MAX_CAUSES = 1_000
MAX_RUNS = 8
MAX_NAMES = 5

REFERENCE_CODES = frozenset(
    {
        "unknown-team",
        "unknown-channel",
        "unknown-user",
        "unknown-scheme",
        "defined-later",
        "reference-case",
    }
)


class Named(NamedTuple):
    """A thing a cause is about: its name (as written), the first line naming it, and the
    value found there when the issue has one (an email, a length...)."""

    name: str
    line: int | None
    found: Scalar = None


class CauseKey(NamedTuple):
    """One cause: the issue code and what the issues share beyond it. A reference's target
    key is `target`, apart from its kind (`group`): the cause then shares the string its
    issue's values hold rather than keep a copy of a name that may be long."""

    code: str
    group: str
    target: str = ""


def cause_key(issue: Issue) -> CauseKey:
    """The cause an issue belongs to (see the module doc). Issues `archivekit fix` repairs
    only in some cases are one cause per repair (or none): a cause is fixed by a repair only
    when all its issues are."""
    key = _cause_key(issue)
    if issue.code in CONDITIONAL_REPAIRS or issue.server_error_id in MESSAGE_LENGTH_IDS:
        return key._replace(group=f"{key.group}|fix:{issue.values.get('repair') or ''}")
    return key


def _cause_key(issue: Issue) -> CauseKey:
    values = issue.values.mapping
    if issue.code in REFERENCE_CODES and "key" in values:
        return CauseKey(issue.code, str(values.get("kind")), str(values["key"]))
    if "rule" in values:
        return CauseKey(issue.code, f"rule:{values['rule']}")
    if "setting" in values:
        return CauseKey(issue.code, f"setting:{values['setting']}:{issue.effect or ''}")
    if "path" in values or "member" in values:
        return CauseKey(issue.code, f"files:{issue.effect or ''}")  # whichever field names them
    if issue.server_error_id:
        return CauseKey(issue.code, issue.server_error_id)
    return CauseKey(issue.code, field_pattern(issue.field))


def line_type(issue: Issue) -> str:
    """The type of the line an issue is on, from its field path, else from its code ('' when
    neither says)."""
    field = issue.field or ""
    if not field:
        return _CODE_LINE_TYPES.get(issue.code, "")
    kind = _LINE_TYPES.get(field)
    if kind is None:
        head = field.split(".", 1)[0].split("[", 1)[0]
        kind = head if head in PAYLOAD_TYPES else ""
        if len(_LINE_TYPES) < 10_000:
            _LINE_TYPES[field] = kind
    return kind


_LINE_TYPES: dict[str, str] = {}  # field path -> line type (a cache: few distinct fields)
# Issues on a line without a field, whose code says the line's type (a duplicate post is on a
# post or direct post line: "post" names both).
_CODE_LINE_TYPES = {"duplicate-post": "post"}


def _name(issue: Issue, values: Mapping[str, Scalar]) -> str | None:
    """What the issue is about, by name: the line's subject, the target, the file."""
    for key in ("subject", "name", "path", "member"):
        value = values.get(key)
        if isinstance(value, str) and value:
            return value
    return issue.member if issue.line is None else None


def folder_of(path: str) -> str:
    """The folder a path is in, ending with '/' ('' at the root)."""
    return path.rsplit("/", 1)[0] + "/" if "/" in path else ""


def common_folder(a: str | None, b: str) -> str:
    """The longest folder that contains both folders `a` (None: none yet) and `b`."""
    if a is None or a == b:
        return b
    common: list[str] = []
    for x, y in zip(a.split("/")[:-1], b.split("/")[:-1], strict=False):
        if x != y:
            break
        common.append(x)
    return "".join(part + "/" for part in common)


# Runs and Cause are plain slotted classes, not dataclasses: nothing compares them (reports
# compare their words, `RootCause`), and a dataclass costs ~0.5-1 ms of every run's start-up.


class Runs:
    """Line numbers as sorted, disjoint runs ``[start, end]``, at most `MAX_RUNS` of them.

    When a run would be one too many, the last run is dropped and `cut` set just before it:
    the runs are then exactly the lines recorded up to `cut`, and later lines are not recorded.
    """

    __slots__ = ("cut", "runs")

    def __init__(self) -> None:
        self.runs: list[list[int]] = []
        self.cut: int | None = None

    def add(self, start: int, end: int) -> None:
        if self.cut is not None:
            if start > self.cut:
                return
            end = min(end, self.cut)
        runs = self.runs
        if runs and runs[-1][0] <= start <= runs[-1][1] + 1:
            runs[-1][1] = max(runs[-1][1], end)  # the usual case: lines come in order
            return
        if not runs or start > runs[-1][1] + 1:
            runs.append([start, end])
        else:
            insort(runs, [start, end])
            merged = [runs[0]]
            for run in runs[1:]:
                if run[0] <= merged[-1][1] + 1:
                    merged[-1][1] = max(merged[-1][1], run[1])
                else:
                    merged.append(run)
            runs[:] = merged
        if len(runs) > MAX_RUNS:
            self.cut = runs.pop()[0] - 1

    def merge(self, later: Runs) -> None:
        """Add the runs of a tally of later lines (as if line by line)."""
        for start, end in later.runs:
            self.add(start, end)
        if later.cut is not None and (self.cut is None or later.cut < self.cut):
            self.cut = later.cut

    @property
    def first(self) -> int | None:
        return self.runs[0][0] if self.runs else None


class Cause:
    """The issues of one cause, added up (see the module doc)."""

    __slots__ = (
        "count", "defined_line", "first", "folder", "key", "largest", "last_line", "lines",
        "miscased", "names", "present", "runs",
    )  # fmt: skip

    def __init__(self, key: CauseKey, first: Issue) -> None:
        self.key = key
        # The first issue for its code, values, field, severity and effect, without its
        # message: a cause is put in words from those, and the message holds another copy of
        # the names (kept issues have theirs; up to MAX_CAUSES causes keep only this one).
        self.first = Issue(
            first.code, first.severity, "", first.member, first.line, first.field,
            first.server_error_id, first.effect, first.values,
        )  # fmt: skip
        self.count = 0
        self.lines = 0  # distinct lines (issues of one line arrive together)
        self.last_line: int | None = None
        self.runs: dict[str, Runs] = {}  # by line type, in order of appearance
        self.names: list[Named] = []
        self.folder: str | None = None  # the folder every file named is in
        self.largest: int | float | None = None  # the largest `found` size (issues with a limit)
        self.defined_line: int | None = None  # defined-later: where the target is defined
        self.miscased = 0  # references looked up exactly but not in lowercase (values.miscased)
        self.present = 0  # files named that are in the archive (values.present)

    @property
    def severity(self) -> Severity:
        return self.first.severity

    @property
    def effect(self) -> str | None:
        return self.first.effect

    @property
    def first_line(self) -> int | None:
        starts = [runs.first for runs in self.runs.values() if runs.first is not None]
        return min(starts) if starts else None

    def add(self, issue: Issue) -> None:
        # Runs for every issue of a run: kept lean (a few dict lookups, no generators).
        self.count += 1
        line = issue.line
        if line is not None:
            if line != self.last_line:
                self.lines += 1
                self.last_line = line
            kind = _LINE_TYPES.get(issue.field or "")
            if not kind:
                kind = line_type(issue)
            runs = self.runs.get(kind)
            if runs is None:
                runs = self.runs[kind] = Runs()
            runs.add(line, line)
        values = issue.values.mapping
        if len(self.names) < MAX_NAMES:
            name = _name(issue, values)
            if name is not None:
                self._name(Named(name, line, values.get("found")))
        if not values:
            return
        path = values.get("member") or values.get("path")
        if path.__class__ is str:
            self.folder = common_folder(self.folder, folder_of(path))
        if values.get("miscased"):
            self.miscased += 1
        if values.get("present"):
            self.present += 1
        found = values.get("found")
        # A size measured against a limit (a numeric `found` may also be, say, a timestamp).
        if (found.__class__ is int or found.__class__ is float) and "limit" in values:
            self.largest = found if self.largest is None else max(self.largest, found)

    def _name(self, named: Named) -> None:
        for known in self.names:
            if known.name == named.name:
                return
        if len(self.names) < MAX_NAMES:
            self.names.append(named)

    def merge(self, later: Cause) -> None:
        """Add a cause of the same key found on later lines."""
        self.count += later.count
        self.lines += later.lines
        first_line = later.first.line
        if first_line is not None and first_line == self.last_line:
            self.lines -= 1  # the same line, split between two tallies
        if later.last_line is not None:
            self.last_line = later.last_line
        for kind, runs in later.runs.items():
            mine = self.runs.get(kind)
            if mine is None:
                mine = self.runs[kind] = Runs()
            mine.merge(runs)
        for named in later.names:
            self._name(named)
        if later.folder is not None:
            self.folder = common_folder(self.folder, later.folder)
        self.miscased += later.miscased
        self.present += later.present
        if later.defined_line is not None:
            self.defined_line = later.defined_line
        if later.largest is not None:
            self.largest = (
                later.largest if self.largest is None else max(self.largest, later.largest)
            )


class Other(NamedTuple):
    """Issues of causes beyond `MAX_CAUSES`, counted per code."""

    code: str
    severity: Severity
    effect: str | None


class CauseTally:
    """Issues added up per cause, in bounded memory (see the module doc).

    `max_causes` None: no cap (a worker's tally of one batch, bounded by the batch; the
    parent applies the cap when it merges, as it would have issue by issue).
    """

    def __init__(self, max_causes: int | None = MAX_CAUSES) -> None:
        self.max_causes = max_causes
        self.causes: dict[CauseKey, Cause] = {}
        self.others: dict[Other, int] = {}

    def __iter__(self) -> Iterator[Cause]:
        return iter(self.causes.values())

    @property
    def total(self) -> int:
        return sum(c.count for c in self.causes.values()) + sum(self.others.values())

    def _cause(self, key: CauseKey, first: Issue) -> Cause | None:
        cause = self.causes.get(key)
        if cause is None and (self.max_causes is None or len(self.causes) < self.max_causes):
            cause = self.causes[key] = Cause(key, first)
        return cause

    def _other(self, code: str, issue: Issue, n: int) -> None:
        other = Other(code, issue.severity, issue.effect)
        self.others[other] = self.others.get(other, 0) + n

    def add(self, issue: Issue) -> None:
        cause = self._cause(cause_key(issue), issue)
        if cause is None:
            self._other(issue.code, issue, 1)
        else:
            cause.add(issue)

    def add_count(
        self, issue: Issue, n: int, key: CauseKey | None = None, folder: str | None = None
    ) -> Cause | None:
        """`n` more issues like `issue` (of cause `key`, by default its own) that were only
        counted: no lines, no names; `folder`: the common folder of the files they name, if
        they name files. Returns their cause (None: beyond the cap)."""
        if n <= 0:
            return None
        key = key or cause_key(issue)
        cause = self._cause(key, issue)
        if cause is None:
            self._other(key.code, issue, n)
        else:
            cause.count += n
            if folder is not None:
                cause.folder = common_folder(cause.folder, folder)
        return cause

    def merge(self, later: CauseTally) -> None:
        """Add a tally of issues that came after every issue added so far."""
        for key, cause in later.causes.items():
            mine = self._cause(key, cause.first)
            if mine is None:
                self._other(key.code, cause.first, cause.count)
            else:
                mine.merge(cause)
        for other, n in later.others.items():
            self.others[other] = self.others.get(other, 0) + n

    def redefine(self, kind: str, key: str, n: int, line: int) -> None:
        """`n` issues of references to the `kind` target `key` turn out "defined later",
        on `line`: their cause becomes a defined-later one."""
        old_key = CauseKey(f"unknown-{kind}", kind, key)
        cause = self.causes.get(old_key)
        # The cause's own key string when there is one (not another copy of the name).
        new_key = (cause.key if cause is not None else old_key)._replace(code="defined-later")
        if cause is None:
            for other in list(self.others):
                if other.code == old_key.code:
                    self.others[other] -= n
                    moved = other._replace(code=new_key.code)
                    self.others[moved] = self.others.get(moved, 0) + n
                    break
            return
        if n >= cause.count:
            # The usual case: every issue of the cause moves, with its lines and names.
            del self.causes[old_key]
            cause.key, cause.defined_line = new_key, line
            self.causes[new_key] = cause
            return
        # Only some were pending (an archive with very many unknown targets): those move,
        # counted without their lines; the others stay "unknown", as in the issue list.
        cause.count -= n
        moved_cause = self.add_count(cause.first, n, new_key)
        if moved_cause is not None:
            moved_cause.defined_line = line
