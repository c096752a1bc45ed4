"""What the engine finds in a run of lines, as plain data: issues, facts, counts, identities.

The engine (`archivekit.check.engine.LineProcessor`) never calls out while it works: it
appends what it finds to a `Findings` and hands it over with ``take()``. Whoever runs it adds
the findings up with the same code — `validate` in one process, or the parent of a parallel
run with the findings its workers send back (`archivekit.report.tally.Tally`). Everything
here is picklable and refers to nothing of the archive but names and numbers.

Facts are what the consumers beyond the issue list need to know about a line: definitions
(for "defined later" and the target limits' simulation of teams, channels and memberships),
the files the line uses (size, image dimensions), the longest message and the most files on
one post (as running maxima: a fact only when a line beats the maximum so far).

Facts are named tuples: cheap to make, to send between processes and to import. Being tuples,
two facts of different kinds with the same fields compare equal: tell them apart by type.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from archivekit.check.causes import CauseTally
from archivekit.issues import Issue, Severity

# --- merging tallies ---------------------------------------------------------------------------
# Tallies of disjoint shares of the lines (workers' shares, or one pass's parts) add up to the
# tally of them all with these two; every counter class merges with them (`Counts`, inspect's
# summaries, the tables' counters).


def add_counters(into: Any, other: Any, names: Iterable[str]) -> None:
    """Add the counters `names` of `other` to those of `into` (merging is not the hot path)."""
    for name in names:
        setattr(into, name, getattr(into, name) + getattr(other, name))


def take_later_definition(into: Any, other: Any, names: Iterable[str]) -> None:
    """The later definition wins, as in one pass: when `other` was defined on a later line
    (``defined_on``), that line and its fields `names` replace those of `into`."""
    later = other.defined_on
    if later is not None and (into.defined_on is None or later > into.defined_on):
        into.defined_on = later
        for name in names:
            setattr(into, name, getattr(other, name))


def earliest(a: int | None, b: int | None) -> int | None:
    """The earlier of two dates, either of which may be unknown (None)."""
    return b if a is None or (b is not None and b < a) else a


def latest(a: int | None, b: int | None) -> int | None:
    """The later of two dates, either of which may be unknown (None)."""
    return b if a is None or (b is not None and b > a) else a


COUNT_KEYS = (
    "teams",
    "channels",
    "users",
    "bots",
    "roles",
    "schemes",
    "emojis",
    "posts",
    "replies",
    "reactions",
    "direct_channels",
    "direct_posts",
    "attachments",
)


@dataclass(slots=True)
class Counts:
    """Lines of each type (valid or not); replies, reactions and attachments are the objects
    inside post and direct_post lines, replies' included.

    ``attachments`` counts references — entries of the attachment lists — never files in
    the archive (validate's ``attachment_stats``, inspect's ``files``). Which entries depends on
    who counts: validate and the tables count those with a non-empty ``path`` (the ones the
    server looks up); inspect, which parses plain JSON, counts every entry listed, so an
    entry without a path counts in inspect's number only. The JSON key is ``attachments`` in
    both reports.
    """

    teams: int = 0
    channels: int = 0
    users: int = 0
    bots: int = 0
    roles: int = 0
    schemes: int = 0
    emojis: int = 0
    posts: int = 0
    replies: int = 0
    reactions: int = 0
    direct_channels: int = 0
    direct_posts: int = 0
    attachments: int = 0

    def to_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in COUNT_KEYS}

    def add(self, other: Counts) -> None:
        add_counters(self, other, COUNT_KEYS)


class Unresolved(NamedTuple):
    """A reference to a team, channel, user or scheme that is not defined (yet): its kind and
    the key a later definition is stored under (lowercased; ``team/channel`` for channels)."""

    kind: str
    key: str


# --- facts -----------------------------------------------------------------------------------


class TeamDefined(NamedTuple):
    """A team line with a name (`name` lowercased, as the server stores it)."""

    line: int
    name: str

    @property
    def defines(self) -> Unresolved:
        return Unresolved("team", self.name)


class ChannelDefined(NamedTuple):
    """A channel line with a team and a name (lowercased); `archived`: deleted_at > 0."""

    line: int
    team: str
    name: str
    archived: bool

    @property
    def defines(self) -> Unresolved:
        return Unresolved("channel", f"{self.team}/{self.name}")


class UserDefined(NamedTuple):
    """A user or bot line with a username (lowercased), the teams it joins (lowercased, in
    line order; none for bots) and whether it is active (no delete_at)."""

    line: int
    name: str
    active: bool = True
    teams: tuple[str, ...] = ()

    @property
    def defines(self) -> Unresolved:
        return Unresolved("user", self.name)


class SchemeDefined(NamedTuple):
    """A scheme line with a name (exact: schemes are looked up as written)."""

    line: int
    name: str

    @property
    def defines(self) -> Unresolved:
        return Unresolved("scheme", self.name)


FileUse = Literal["attachment", "profile image", "emoji image"]


class FileUsed(NamedTuple):
    """A line uses a member of the archive (it resolved to it).

    `readable`: the server can read it (else the line's issues say what happens); `dims`:
    (format, width, height) when the server would measure it (images by name for
    attachments, any profile image), None otherwise or when the header does not decode;
    `imported`: False when the server never gets to the file (an emoji line that fails
    validation, a reply attachment dropped after a failed one: the file still counts as
    referenced); `entry`: the member's
    position in the archive's member index (for the referenced-files bitmap).
    """

    line: int
    field: str
    use: FileUse
    key: str  # the member's NFC key
    name: str  # the member's name in the zip
    size: int
    readable: bool = True
    dims: tuple[str, int, int] | None = None
    imported: bool = True
    entry: int = -1

    @property
    def fatal(self) -> bool:
        """Whether damage to the file stops the import (profile and emoji images do)."""
        return self.imported and self.use != "attachment"


class FilesUsed(NamedTuple):
    """The attachments of a run of post lines the fast path accepted, all at once: `files`
    references, each to a readable entry within MaxFileSize, `size`
    bytes in all, the first largest file (`largest` bytes, at `line` and `field`), and
    `members`: the entry indexes used, packed as native uint32 (repeats included). Images
    among them have their pixels in `ImageUsed` facts."""

    files: int
    size: int
    line: int
    field: str
    largest: int
    members: bytes


class ImageUsed(NamedTuple):
    """An image attachment of a line the fast path accepted, with the dimensions the server
    measures (only when its header decodes): its file is already counted in a `FilesUsed`,
    this is for its pixels (MaxImageResolution). `name`: the member's name in the zip."""

    line: int
    field: str
    name: str
    dims: tuple[str, int, int]


class LongestMessage(NamedTuple):
    """A post or reply message longer (in runes) than every earlier one the engine saw."""

    line: int
    field: str
    runes: int


class MostFiles(NamedTuple):
    """A post or reply listing more files than every earlier one the engine saw."""

    line: int
    field: str
    files: int


class Maxima:
    """The running maxima behind `LongestMessage` and `MostFiles`: a line is a fact only when it
    beats them. Hot loops compare with `message` and `files` before calling."""

    __slots__ = ("files", "message")

    def __init__(self) -> None:
        self.message = -1  # runes of the longest message so far
        self.files = 0  # files of the longest list so far

    def longest_message(self, found: Findings, line: int, field: str, runes: int) -> None:
        """A message longer than all before it (the caller compared with `message`)."""
        self.message = runes
        found.facts.append(LongestMessage(line, field, runes))

    def file_count(self, found: Findings, line: int, field: str, count: int) -> None:
        """A list of `count` files: a fact when it is the longest so far."""
        if count > self.files:
            self.files = count
            found.facts.append(MostFiles(line, field, count))


Definition = TeamDefined | ChannelDefined | UserDefined | SchemeDefined
Fact = Definition | FileUsed | FilesUsed | ImageUsed | LongestMessage | MostFiles
DEFINITIONS = (TeamDefined, ChannelDefined, UserDefined, SchemeDefined)


# --- the engine's output ---------------------------------------------------------------------


class PackedIdentities:
    """Post identities and their lines, packed as native uint64 pairs (for the deduper)."""

    __slots__ = ("identities", "lines")

    def __init__(self) -> None:
        self.identities = array("Q")
        self.lines = array("Q")

    def add(self, identity: int, line: int) -> None:
        self.identities.append(identity)
        self.lines.append(line)

    def add_many(self, identities: bytes, lines: bytes) -> None:
        """Pairs already packed (what the C fast path returns)."""
        self.identities.frombytes(identities)
        self.lines.frombytes(lines)


@dataclass(slots=True)
class Findings:
    """Everything the engine found in a run of lines, in line order within each list.

    `issues` pairs every issue (placed at its member and line) with the reference it could
    not resolve, if any: a later definition turns it into "defined-later". A parallel
    worker over its issue budget leaves issues out and sends only their counts
    (`left_out`, `left_out_unresolved`) and their causes (`left_out_causes`, a tally of this
    batch only), so that the totals and the root causes stay exact.
    """

    lines: int = 0
    counts: Counts = field(default_factory=Counts)
    issues: list[tuple[Issue, Unresolved | None]] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    identities: bytes = b""
    identity_lines: bytes = b""
    missing: int = 0  # attachment references that resolve to no member
    left_out: Counter[tuple[str, Severity]] = field(default_factory=Counter)
    left_out_unresolved: Counter[Unresolved] = field(default_factory=Counter)
    left_out_causes: CauseTally | None = None

    def add(
        self, issue: Issue, member: str, line: int | None, unresolved: Unresolved | None = None
    ) -> None:
        """An issue of `line`, placed at its own member or else at `member` (the JSONL)."""
        self.issues.append((issue.at(issue.member or member, line), unresolved))

    def keep_issues(self, budget: int) -> None:
        """Keep the first `budget` issues; count the rest (a worker's cap, see above)."""
        if len(self.issues) <= budget:
            return
        causes = self.left_out_causes = CauseTally(max_causes=None)
        for issue, unresolved in self.issues[budget:]:
            self.left_out[(issue.code, issue.severity)] += 1
            if unresolved is not None:
                self.left_out_unresolved[unresolved] += 1
            causes.add(issue)
        del self.issues[budget:]
