"""Counters per team, channel, DM/GM, user, day, line type and file type, from one pass.

`TableCounts` takes decoded lines one at a time and keeps one small counter object per key — never
a post: memory grows with the number of teams, channels, DMs/GMs, users and file extensions,
never with the number of posts. Tallies of disjoint sets of lines `merge`
into the tally of their union, so workers can each count a share of the JSONL.

What is counted (the meaning every table shares; tests hold an independent counter to it):

- Names are keys after Go's lowercasing (the server stores teams, channels and usernames
  lowercased): ``Town-Square`` and ``town-square`` are one channel.
- posts: post and direct_post lines (roots); replies: objects in their ``replies`` lists;
  reactions: objects in the ``reactions`` lists of posts and replies; files: attachment objects
  with a non-empty ``path``, replies included; file bytes: the size of the member each path
  resolves to (as the server resolves it), 0 when it is not in the archive (``files_missing``).
- A post is in its channel (``team``/``channel``) or in the DM/GM of its ``channel_members``
  (matched by member set: DM for one or two distinct members, GM for more).
- Dates are ``create_at`` in ms (UTC). Posts and replies fall on the day of their own
  ``create_at``, files on the day of the post or reply that carries them (reactions are not
  counted per day). At most `PERIODS_HELD` days are held per (team, kind) series and
  `BUCKETS_HELD` in all: past that, the tally widens its `period` (day → month → quarter →
  year → decade → …, `archivekit.check.periods`) and re-counts what it holds, so hostile
  ``create_at`` values spread over centuries cannot grow it. First and last
  post dates of channels and DMs/GMs are those of their root posts; a user's activity spans
  their posts, replies and reactions.
- authors: distinct users who wrote a post or a reply in the channel.
- members: membership entries of user lines (teams, channels). A user's DMs/GMs: the distinct
  member sets they are in, from direct_channel and direct_post lines alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from archivekit.check import periods
from archivekit.check.facts import add_counters, earliest, latest, take_later_definition
from archivekit.gosem.decode import POST_LINE_TYPES, list_or_empty, str_or_none
from archivekit.gosem.paths import resolve
from archivekit.gosem.strings import go_lower, members_key, members_text

DAY_MS = periods.DAY_MS
CHANNEL, DM, GM = "channel", "DM", "GM"
# Day buckets are keyed by one int: the day index shifted left, or'ed with the id of the
# (team, kind) group; Python ints keep this exact for negative days too.
_GROUP_BITS = 24
# Periods held per series (ten years of days) and in all (a few MB of buckets), whatever the
# timestamps: past either, the period widens.
PERIODS_HELD = 3660
BUCKETS_HELD = 100_000
_STARTS_CACHED = 4096  # day -> period start, while the period is wider than a day

SizeOf = Callable[[str], int | None]


def _span(into: Any, other: Any) -> None:
    into.first_at = earliest(into.first_at, other.first_at)
    into.last_at = latest(into.last_at, other.last_at)


@dataclass(slots=True)
class Team:
    """A team as the tables and `inspect` count it (`posts`: inspect's count only; the tables
    add their posts up from the team's channels)."""

    name: str
    display_name: str | None = None
    type: str | None = None
    defined_on: int | None = None
    members: int = 0
    channels: int = 0
    posts: int = 0

    def merge(self, other: Team) -> None:
        """Add the counts of the same team from another share of the lines."""
        add_counters(self, other, ("members", "channels", "posts"))
        take_later_definition(self, other, ("display_name", "type"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "type": self.type,
            "defined_on": self.defined_on,
            "members": self.members,
            "channels": self.channels,
            "posts": self.posts,
        }


@dataclass(slots=True)
class Place:
    """A channel, or a DM/GM (`team` is "" and `name` its sorted members joined by ","): the
    one counter per channel, of the tables and of `inspect` (`archivekit.report.inventory`),
    which fills only type, defined_on, posts, replies, files, first_at and last_at — `files`
    there being every attachment object listed, as its plain JSON parsing sees them.

    `group`: the tables' id of its (team, kind) group of day buckets (-1: not in the tables)."""

    team: str
    name: str
    kind: str = CHANNEL
    group: int = -1
    type: str | None = None
    display_name: str | None = None
    archived: bool = False
    defined_on: int | None = None
    members: int = 0
    posts: int = 0
    replies: int = 0
    reactions: int = 0
    files: int = 0
    file_bytes: int = 0
    first_at: int | None = None
    last_at: int | None = None
    authors: set[str] = field(default_factory=set)
    member_names: tuple[str, ...] = ()  # a DM/GM's distinct members, sorted

    def merge(self, other: Place) -> None:
        add_counters(
            self, other, ("members", "posts", "replies", "reactions", "files", "file_bytes")
        )
        _span(self, other)
        self.authors |= other.authors
        take_later_definition(self, other, ("type", "display_name", "archived"))


_PERSON_COUNTS = (
    "teams", "channels", "posts", "direct_posts", "replies", "reactions", "files",
)  # fmt: skip


@dataclass(slots=True)
class Person:
    name: str
    kind: str | None = None  # "user" or "bot" once a line defines it
    deactivated: bool = False
    defined_on: int | None = None
    teams: int = 0
    channels: int = 0
    posts: int = 0
    direct_posts: int = 0
    replies: int = 0
    reactions: int = 0
    files: int = 0
    first_at: int | None = None
    last_at: int | None = None

    def merge(self, other: Person) -> None:
        add_counters(self, other, _PERSON_COUNTS)
        _span(self, other)
        take_later_definition(self, other, ("kind", "deactivated"))


@dataclass(slots=True)
class Bucket:
    """What happened on one day in one (team, kind) group."""

    posts: int = 0
    replies: int = 0
    files: int = 0
    file_bytes: int = 0

    def merge(self, other: Bucket) -> None:
        self.add(other.posts, other.replies, other.files, other.file_bytes)

    def add(self, posts: int, replies: int, files: int, file_bytes: int) -> None:
        # Spelled out, not `add_counters`: a hostile spread of dates merges a bucket per day.
        self.posts += posts
        self.replies += replies
        self.files += files
        self.file_bytes += file_bytes


@dataclass(slots=True)
class LineType:
    lines: int = 0
    bytes: int = 0
    replies: int = 0
    reactions: int = 0
    files: int = 0

    def merge(self, other: LineType) -> None:
        add_counters(self, other, ("lines", "bytes", "replies", "reactions", "files"))


@dataclass(slots=True)
class FileType:
    files: int = 0
    bytes: int = 0
    missing: int = 0
    largest: int = 0

    def merge(self, other: FileType) -> None:
        add_counters(self, other, ("files", "bytes", "missing"))
        self.largest = max(self.largest, other.largest)


def team_in(teams: dict[str, Team], name: str) -> Team:
    """The counter of team `name` in `teams` (keyed by the lowercased name), made if new."""
    key = go_lower(name)
    found = teams.get(key)
    if found is None:
        found = teams[key] = Team(key)
    return found


def extension(path: str) -> str:
    """A file's type as its lowercased extension ("" when it has none)."""
    name = path.rpartition("/")[2]
    stem, dot, ext = name.rpartition(".")
    return go_lower(ext) if dot and stem else ""


def direct_kind(members: tuple[str, ...] | frozenset[str]) -> str:
    return DM if len(members) <= 2 else GM


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


class TableCounts:
    """Counters of one share of an archive's lines (see the module docstring). `size_of`
    gives a member's size by its key (attachment bytes); None for a tally that only adds up
    others (`merge`)."""

    def __init__(self, size_of: SizeOf | None = None) -> None:
        self._size_of: SizeOf | None = size_of
        self.lines = 0
        self.undecodable = 0
        self.teams: dict[str, Team] = {}
        self.places: dict[tuple[str, str], Place] = {}
        self.people: dict[str, Person] = {}
        # group id -> (team, kind); day key -> bucket (see _GROUP_BITS).
        self.groups: dict[tuple[str, str], int] = {}
        self.days: dict[int, Bucket] = {}
        self.period = periods.DAY  # what a `days` key's day stands for: that day, or a period
        self._held: dict[int, int] = {}  # group id -> periods held
        self._starts: dict[int, int] = {}
        self._period = periods.Starts(self.period)
        self.line_types: dict[str, LineType] = {}
        self.file_types: dict[str, FileType] = {}
        # Raw spellings seen in lines -> their counters (saves lowercasing every post).
        self._channel_cache: dict[tuple[str, str], Place] = {}
        self._direct_cache: dict[tuple[Any, ...], Place] = {}
        self._person_cache: dict[str, Person] = {}

    # -- keys -----------------------------------------------------------------------------

    def team(self, name: str) -> Team:
        return team_in(self.teams, name)

    def _group(self, team: str, kind: str) -> int:
        group = self.groups.get((team, kind))
        if group is None:
            group = self.groups[(team, kind)] = len(self.groups)
        return group

    def channel(self, team: str, name: str) -> Place:
        cached = self._channel_cache.get((team, name))
        if cached is not None:
            return cached
        key = (go_lower(team), go_lower(name))
        place = self.places.get(key)
        if place is None:
            place = self.places[key] = Place(key[0], key[1], CHANNEL, self._group(key[0], CHANNEL))
        self._channel_cache[(team, name)] = place
        return place

    def direct(self, members: list[Any]) -> Place | None:
        names = tuple(members)
        # (Checked before the cache: a member that is a list or an object cannot be hashed.)
        if not names or not all(type(m) is str for m in names):
            return None
        cached = self._direct_cache.get(names)
        if cached is not None:
            return cached
        distinct = tuple(sorted(members_key(names)))
        key = ("", members_text(distinct))
        place = self.places.get(key)
        if place is None:
            kind = direct_kind(distinct)
            place = self.places[key] = Place("", key[1], kind, self._group("", kind))
            place.member_names = distinct
        self._direct_cache[names] = place
        return place

    def person(self, name: str) -> Person:
        cached = self._person_cache.get(name)
        if cached is not None:
            return cached
        key = go_lower(name)
        person = self.people.get(key)
        if person is None:
            person = self.people[key] = Person(key)
        self._person_cache[name] = person
        return person

    def line_type(self, name: str) -> LineType:
        found = self.line_types.get(name)
        if found is None:
            found = self.line_types[name] = LineType()
        return found

    # -- lines ----------------------------------------------------------------------------

    def add(self, line: int, raw_size: int, record: Any) -> None:
        """Count one decoded line (`record` None: it could not be decoded)."""
        if type(record) is not dict:
            self.undecodable += 1
            stats = self.line_type("(undecodable)")
            stats.lines += 1
            stats.bytes += raw_size
            return
        kind = record.get("type")
        if kind == "post":  # nearly every line: straight through
            stats = self.line_types.get(kind) or self.line_type(kind)
            stats.lines += 1
            stats.bytes += raw_size
            post = record.get(kind)
            if type(post) is dict:
                team, channel = post.get("team"), post.get("channel")
                if type(team) is str and type(channel) is str:
                    place = self._channel_cache.get((team, channel)) or self.channel(team, channel)
                    self._post(post, place, stats)
            return
        name = kind if isinstance(kind, str) else "(no type)"
        stats = self.line_types.get(name) or self.line_type(name)
        stats.lines += 1
        stats.bytes += raw_size
        payload = record.get(kind) if isinstance(kind, str) else None
        if type(payload) is not dict:
            return
        if kind == "direct_post":
            direct = self.direct(list_or_empty(payload.get("channel_members")))
            if direct is not None:
                self._post(payload, direct, stats)
        elif kind == "user" or kind == "bot":
            self._user(line, kind, payload)
        elif kind == "channel":
            self._channel(line, payload)
        elif kind == "team":
            team_name = payload.get("name")
            if type(team_name) is str:
                team = self.team(team_name)
                team.defined_on = line
                team.display_name = str_or_none(payload.get("display_name"))
                team.type = str_or_none(payload.get("type"))
        elif kind == "direct_channel":
            self._direct_channel(line, payload)

    def _channel(self, line: int, payload: dict[str, Any]) -> None:
        team, name = payload.get("team"), payload.get("name")
        if type(team) is not str or type(name) is not str:
            return
        place = self.channel(team, name)
        place.defined_on = line
        place.type = str_or_none(payload.get("type"))
        place.display_name = str_or_none(payload.get("display_name"))
        deleted_at = payload.get("deleted_at")
        place.archived = type(deleted_at) is int and deleted_at > 0
        self.team(team).channels += 1

    def _user(self, line: int, kind: str, payload: dict[str, Any]) -> None:
        username = payload.get("username")
        if type(username) is not str:
            return
        person = self.person(username)
        person.defined_on = line
        person.kind = kind
        delete_at = payload.get("delete_at")
        person.deactivated = type(delete_at) is int and delete_at > 0
        for membership in list_or_empty(payload.get("teams")):
            if type(membership) is not dict or type(membership.get("name")) is not str:
                continue
            team_name = membership["name"]
            self.team(team_name).members += 1
            person.teams += 1
            for entry in list_or_empty(membership.get("channels")):
                if type(entry) is dict and type(entry.get("name")) is str:
                    self.channel(team_name, entry["name"]).members += 1
                    person.channels += 1

    def _direct_channel(self, line: int, payload: dict[str, Any]) -> None:
        # `participants` wins over `members` when present (reference §4.9).
        participants = payload.get("participants")
        if type(participants) is list:
            names = [p.get("username") if type(p) is dict else None for p in participants]
        else:
            names = list_or_empty(payload.get("members"))
        place = self.direct(names)
        if place is None:
            return
        place.defined_on = line

    def _post(self, post: dict[str, Any], place: Place, stats: LineType) -> None:
        # The hot path of every table (one call per post line).
        at = post.get("create_at")
        place.posts += 1
        bucket = None
        if type(at) is int:
            if place.first_at is None or at < place.first_at:
                place.first_at = at
            if place.last_at is None or at > place.last_at:
                place.last_at = at
            bucket = self._day(at, place.group)
            bucket.posts += 1
        else:
            at = None
        author = self._wrote(post.get("user"), place, at)
        if author is not None:
            author.posts += 1
            if place.kind != CHANNEL:
                author.direct_posts += 1
        self._carried(post, place, author, bucket, stats)
        replies = post.get("replies")
        if not replies or type(replies) is not list:
            return
        for reply in replies:
            if type(reply) is not dict:
                continue
            place.replies += 1
            stats.replies += 1
            at = reply.get("create_at")
            bucket = None
            if type(at) is int:
                bucket = self._day(at, place.group)
                bucket.replies += 1
            else:
                at = None
            author = self._wrote(reply.get("user"), place, at)
            if author is not None:
                author.replies += 1
            self._carried(reply, place, author, bucket, stats)

    def _day(self, at: int, group: int) -> Bucket:
        day = at // DAY_MS
        bucket = self.days.get(((self._start(day) if self.period else day) << _GROUP_BITS) | group)
        return bucket if bucket is not None else self._hold(day, group)

    def _start(self, day: int) -> int:
        # The period's first day; cached, as most posts fall in a few periods (lines in date
        # order: the last period's bounds; in any order: the days seen lately).
        first = self._starts.get(day)
        if first is None:
            if len(self._starts) >= _STARTS_CACHED:
                self._starts.clear()
            first = self._starts[day] = self._period(day)
        return first

    def _hold(self, day: int, group: int) -> Bucket:
        """The bucket of the period that holds `day` (a day, or the first day of a period no
        wider than the tally's) in `group`; a new one widens the period when too many are held."""
        key = (self._start(day) << _GROUP_BITS) | group
        bucket = self.days.get(key)
        if bucket is not None:
            return bucket
        held = self._held.get(group, 0) + 1
        if self.period < periods.WIDEST and (held > PERIODS_HELD or len(self.days) >= BUCKETS_HELD):
            self._widen(self.period + 1)
            return self._hold(day, group)
        self._held[group] = held
        bucket = self.days[key] = Bucket()
        return bucket

    def _widen(self, level: int) -> None:
        """Count what is held per period of `level` (or wider, until few enough are held)."""
        mask = (1 << _GROUP_BITS) - 1
        level, held = _fitting(self.days, level)
        widened: dict[int, Bucket] = {}
        start = periods.Starts(level)
        for key in sorted(self.days):  # by day: neighbours share their period
            bucket = self.days[key]
            wide = (start(key >> _GROUP_BITS) << _GROUP_BITS) | (key & mask)
            found = widened.get(wide)
            if found is None:
                widened[wide] = bucket
            else:
                found.merge(bucket)
        self.days, self._held, self.period = widened, held, level
        self._starts.clear()
        self._period = periods.Starts(level)

    def _wrote(self, user: Any, place: Place, at: int | None) -> Person | None:
        """The author of a post or reply (None: no username), with their activity span."""
        if type(user) is not str:
            return None
        author = self._person_cache.get(user) or self.person(user)
        place.authors.add(author.name)
        if at is not None:
            if author.first_at is None or at < author.first_at:
                author.first_at = at
            if author.last_at is None or at > author.last_at:
                author.last_at = at
        return author

    def _carried(
        self,
        post: dict[str, Any],
        place: Place,
        author: Person | None,
        bucket: Bucket | None,
        stats: LineType,
    ) -> None:
        """The files and reactions of a post or reply."""
        attachments = post.get("attachments")
        if attachments:
            self._files(attachments, place, author, bucket, stats)
        reactions = post.get("reactions")
        if reactions:
            self._reactions(reactions, place, stats)

    def _reactions(self, reactions: Any, place: Place, stats: LineType) -> None:
        if type(reactions) is not list:
            return
        people = self._person_cache
        for reaction in reactions:
            if type(reaction) is not dict:
                continue
            place.reactions += 1
            stats.reactions += 1
            user = reaction.get("user")
            if type(user) is str:
                person = people.get(user) or self.person(user)
                person.reactions += 1
                at = reaction.get("create_at")
                if type(at) is int:
                    if person.first_at is None or at < person.first_at:
                        person.first_at = at
                    if person.last_at is None or at > person.last_at:
                        person.last_at = at

    def _files(
        self,
        attachments: Any,
        place: Place,
        author: Person | None,
        bucket: Bucket | None,
        stats: LineType,
    ) -> None:
        if type(attachments) is not list:
            return
        for attachment in attachments:
            if type(attachment) is not dict:
                continue
            path = attachment.get("path")
            if type(path) is not str or not path:
                continue
            key = resolve(path)
            size = self._size_of(key) if key is not None and self._size_of else None
            file_type = self.file_types.get(extension(path))
            if file_type is None:
                file_type = self.file_types[extension(path)] = FileType()
            file_type.files += 1
            if size is None:
                file_type.missing += 1
                size = 0
            file_type.bytes += size
            file_type.largest = max(file_type.largest, size)
            place.files += 1
            place.file_bytes += size
            stats.files += 1
            if author is not None:
                author.files += 1
            if bucket is not None:
                bucket.files += 1
                bucket.file_bytes += size

    def add_counted(self, counted: tuple[Any, ...]) -> None:
        """Add what the C counter (`archivekit.check.fast._report.Tally.counts()`) counted of
        other lines: the figures `add` gives those lines, keyed by names as written.

        `counted` is (line types, places, people, authors, teams, days, file types, level):
        line types ((lines, bytes, replies, reactions, files) of post, then direct_post lines);
        places [(names, kind, posts, replies, reactions, files, file bytes, first, last)] with
        names (team, channel) for kind 0, the members as written for 1 (DM) and 2 (GM); people
        [(name, posts, direct posts, replies, reactions, files, first, last)]; authors
        [(place, person)] as positions in those lists; teams [name] (day group 2 + i); days
        [(day, group, posts, replies, files, file bytes)] with group 0 DMs, 1 GMs and `day`
        the first day of a period of `level` (C widens its periods under the same caps as this
        tally, never past the level this tally would end at for those days: the figures are
        those of C's days counted here one by one); file types [(extension, files, bytes,
        missing, largest)]."""
        # Each row is merged as the tally of other lines would be (`merge`).
        line_types, places, people, authors, teams, days, file_types, level = counted
        for name, counts in zip(POST_LINE_TYPES, line_types, strict=True):
            if counts[0]:  # lines
                self.line_type(name).merge(LineType(*counts))
        mine: list[Place] = []
        for names, kind, *counts, first, last in places:
            place = self.direct(list(names)) if kind else self.channel(*names)
            if place is None or (kind and place.kind != (DM if kind == 1 else GM)):
                raise AssertionError(f"the C counter's DM/GM {names!r} is not Python's")
            posts, replies, reactions, files, file_bytes = counts
            place.merge(
                Place(
                    place.team, place.name, place.kind, place.group, posts=posts, replies=replies,
                    reactions=reactions, files=files, file_bytes=file_bytes, first_at=first,
                    last_at=last,
                )
            )  # fmt: skip
            mine.append(place)
        persons: list[Person] = []
        for name, *counts, first, last in people:
            person = self.person(name)
            posts, direct_posts, replies, reactions, files = counts
            person.merge(
                Person(
                    name, posts=posts, direct_posts=direct_posts, replies=replies,
                    reactions=reactions, files=files, first_at=first, last_at=last,
                )
            )  # fmt: skip
            persons.append(person)
        for place_at, person_at in authors:
            mine[place_at].authors.add(persons[person_at].name)
        # C's day groups (0 DM, 1 GM, 2 + i team i as written) -> this tally's group ids.
        keys = [("", DM), ("", GM)] + [(go_lower(team), CHANNEL) for team in teams]
        groups: dict[int, int] = {}
        for row in days:
            if row[1] not in groups:
                groups[row[1]] = self._group(*keys[row[1]])
        # In date order (sorted in place: C's rows are a period each), summed per period and
        # group before they are held: a spread of dates held per a wider period costs a
        # comparison per day (`periods.Starts`) and a bucket lookup per period, not a date's
        # arithmetic and a bucket lookup per day.
        if level > self.period:
            self._widen(level)
        days.sort()
        current: int | None = None
        sums: dict[int, list[int]] = {}
        for day, group, posts, replies, files, file_bytes in days:
            first = self._period(day)
            if first != current:
                self._hold_sums(current, sums)
                current, sums = first, {}
            mapped = groups[group]
            found = sums.get(mapped)
            if found is None:
                sums[mapped] = [posts, replies, files, file_bytes]
            else:
                found[0] += posts
                found[1] += replies
                found[2] += files
                found[3] += file_bytes
        self._hold_sums(current, sums)
        for ext, *counts in file_types:
            self.file_types.setdefault(ext, FileType()).merge(FileType(*counts))

    def _hold_sums(self, first: int | None, sums: dict[int, list[int]]) -> None:
        """Add `sums` (group -> posts, replies, files, file bytes) to the period from `first`."""
        if first is not None:
            for group, counts in sums.items():
                self._hold(first, group).add(*counts)

    def detach(self) -> None:
        """Drop what only counting needs (the archive, caches): the tally can now be pickled."""
        self._size_of = None
        self._channel_cache.clear()
        self._direct_cache.clear()
        self._person_cache.clear()
        self._starts.clear()

    # -- merging --------------------------------------------------------------------------

    def merge(self, other: TableCounts) -> None:
        """Add the counts of `other` (a tally of other lines of the same archive)."""
        self.lines = max(self.lines, other.lines)
        self.undecodable += other.undecodable
        _merge_into(self.teams, other.teams, lambda k, v: Team(k))
        _merge_into(self.people, other.people, lambda k, v: Person(k))
        for key, place in other.places.items():
            mine = self.places.get(key)
            if mine is None:
                mine = self.places[key] = Place(
                    place.team, place.name, place.kind, self._group(place.team, place.kind)
                )
                mine.member_names = place.member_names
            mine.merge(place)
        if other.period > self.period:
            self._widen(other.period)
        their_groups = {group: key for key, group in other.groups.items()}
        for day_key in sorted(other.days):  # by day (`add_counted`)
            bucket = other.days[day_key]
            day, group = self.split_day_key(day_key)
            self._hold(day, self._group(*their_groups[group])).merge(bucket)
        _merge_into(self.line_types, other.line_types, lambda k, v: LineType())
        _merge_into(self.file_types, other.file_types, lambda k, v: FileType())

    def direct_channels(self) -> dict[str, int]:
        """User -> the DMs/GMs they are a member of: distinct member sets, whether a
        direct_channel line or only direct_post lines name them (counted once the tallies are
        merged, so a DM that several shares meet counts once)."""
        found: dict[str, int] = {}
        for place in self.places.values():
            for member in place.member_names:
                found[member] = found.get(member, 0) + 1
        return found

    def group_keys(self) -> dict[int, tuple[str, str]]:
        return {group: key for key, group in self.groups.items()}

    @staticmethod
    def split_day_key(day_key: int) -> tuple[int, int]:
        """(day index since 1970-01-01, group id) of a `days` key: the day, or the first day of
        the tally's `period`."""
        return day_key >> _GROUP_BITS, day_key & ((1 << _GROUP_BITS) - 1)


def _fitting(keys: Iterable[int], level: int) -> tuple[int, dict[int, int]]:
    """The narrowest period, `level` or wider, at which the day keys `keys` fall in no more
    buckets than the caps allow (`PERIODS_HELD` a group, `BUCKETS_HELD` in all) — the C
    counter's test, so both end at the same level — or `periods.WIDEST` when none does (more
    groups than `BUCKETS_HELD`, or dates on both sides of year 0 in too many), and the periods
    each group would hold. Each level's (period, group) pairs come from the last level's: each
    period of a level is whole ones of the level below."""
    mask = (1 << _GROUP_BITS) - 1
    while True:
        start = periods.Starts(level)
        pairs = {(start(key >> _GROUP_BITS) << _GROUP_BITS) | (key & mask) for key in sorted(keys)}
        held = Counter(key & mask for key in pairs)
        if level >= periods.WIDEST or (
            max(held.values(), default=0) <= PERIODS_HELD and len(pairs) <= BUCKETS_HELD
        ):
            return level, dict(held)
        keys, level = pairs, level + 1


def _merge_into(
    mine: dict[str, Any], theirs: dict[str, Any], new: Callable[[str, Any], Any]
) -> None:
    for key, value in theirs.items():
        found = mine.get(key)
        if found is None:
            found = mine[key] = new(key, value)
        found.merge(value)
