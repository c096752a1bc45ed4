"""What a `filter` keeps: the selectors, parsed, and the rules that apply them to one line.

Names follow the server's case rules. A selector's names are given in any case and mean the
stored, lowercase names (``--team Eng`` is team ``eng``). A post or direct post is matched by
its team, channel, author and members exactly as written, as the server looks them up: a post
whose team is written ``Eng`` belongs to no team (the server does not find it) and is never
selected by one. Definition lines (teams, channels, users, DM channels) are matched by their
lowercased names, the identity the server stores them under.

Selectors combine like this:

* *place* selectors (``teams``, ``channels``, ``users``, ``dms``): a post or direct post is
  kept when it matches **any** of them — a post in a selected team or channel, a post whose
  author (of the root post) is a selected user, a DM/GM whose members include a selected user
  or are exactly a selected set. With none given, every place is selected. Excluding forms
  remove what they match, whatever else selected it.
* ``since`` / ``until`` (milliseconds, inclusive) apply to the ``create_at`` of post and
  direct-post lines; a reply always stays with its root post.
* ``types`` / ``exclude_types``: the line types selected. Lines of other types are still kept
  when a kept line needs them (a post needs its team, channel and users).
* ``attachments=False``: attachment references are removed from kept lines and no attachment
  file is copied (profile and emoji images, which the server requires, stay).
* ``direct=False``: no direct_channel or direct_post lines.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from archivekit.errors import UsageError
from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.gosem.strings import go_lower, members_key, members_text

# The order the server's exporter writes line types in (reference §1.1): a working order, since
# every reference points to an earlier block. Writers that build a JSONL from parts use it.
EXPORT_ORDER: tuple[str, ...] = (
    "version",
    "scheme",
    "role",
    "team",
    "channel",
    "user",
    "bot",
    "post",
    "emoji",
    "direct_channel",
    "direct_post",
)
DEFINITION_TYPES = frozenset(EXPORT_ORDER) - {*POST_LINE_TYPES, "version"}

Place = tuple[str, str]  # (team, channel), lowercased


def by_export_order(counts: Mapping[str, int]) -> dict[str, int]:
    """Counts by line type, the non-zero ones, in `EXPORT_ORDER` (others after)."""
    order = {t: i for i, t in enumerate(EXPORT_ORDER)}
    return {k: counts[k] for k in sorted(counts, key=lambda k: order.get(k, 99)) if counts[k]}


Members = frozenset[str]  # a DM/GM's member set, lowercased


@dataclass(frozen=True, slots=True)
class Selection:
    """The selectors of a filter; see the module docstring. Names as given (any case)."""

    teams: frozenset[str] = frozenset()
    channels: frozenset[Place] = frozenset()
    users: frozenset[str] = frozenset()
    dms: frozenset[Members] = frozenset()
    exclude_teams: frozenset[str] = frozenset()
    exclude_channels: frozenset[Place] = frozenset()
    exclude_users: frozenset[str] = frozenset()
    exclude_dms: frozenset[Members] = frozenset()
    since: int | None = None
    until: int | None = None
    types: frozenset[str] | None = None
    exclude_types: frozenset[str] = frozenset()
    attachments: bool = True
    direct: bool = True
    # Derived, lowercased views (filled in __post_init__).
    _teams: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _users: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _channels: frozenset[Place] = field(default=frozenset(), repr=False, compare=False)
    _x_teams: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _x_users: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _x_channels: frozenset[Place] = field(default=frozenset(), repr=False, compare=False)
    _types: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        lower = members_key
        setattr_ = object.__setattr__
        setattr_(self, "_teams", lower(self.teams))
        setattr_(self, "_users", lower(self.users))
        setattr_(self, "_channels", frozenset(_lower_place(p) for p in self.channels))
        setattr_(self, "_x_teams", lower(self.exclude_teams))
        setattr_(self, "_x_users", lower(self.exclude_users))
        setattr_(self, "_x_channels", frozenset(_lower_place(p) for p in self.exclude_channels))
        types = frozenset(EXPORT_ORDER) if self.types is None else self.types | {"version"}
        types -= self.exclude_types
        if not self.direct:
            types -= {"direct_channel", "direct_post"}
        unknown = (self.types or frozenset()) | self.exclude_types
        unknown -= frozenset(EXPORT_ORDER)
        if unknown:
            raise UsageError(
                f"unknown line type(s) {', '.join(sorted(unknown))}; the types are "
                + ", ".join(EXPORT_ORDER)
            )
        setattr_(self, "_types", types)

    # --- what the selection is like ------------------------------------------------------------
    @property
    def positive(self) -> bool:
        """Whether some place selector narrows the places (else every place is selected)."""
        return bool(self.teams or self.channels or self.users or self.dms)

    @property
    def team_only(self) -> frozenset[str] | None:
        """The teams whose posts are kept, when a post's team alone decides (only --team
        narrows places), else None."""
        if not self.teams or self.channels or self.users or self.exclude_channels:
            return None
        return self._teams - self._x_teams

    @property
    def no_direct_posts(self) -> bool:
        """No direct post can be selected: the type is left out, or places are narrowed by
        teams and channels only (no user, no DM set)."""
        if not self.selects_type("direct_post"):
            return True
        return self.positive and not (self.users or self.dms or self.exclude_dms)

    @property
    def by_author(self) -> bool:
        """Whether a channel post's author takes part in the decision."""
        return bool(self.users or self.exclude_users)

    @property
    def narrows_places(self) -> bool:
        """Whether some place is left out: then definitions wait until the kept lines are known."""
        return self.positive or bool(
            self.exclude_teams or self.exclude_channels or self.exclude_users or self.exclude_dms
        )

    @property
    def empty(self) -> bool:
        """No selector at all: the output is the input (its JSONL lines and referenced files)."""
        return self == Selection()

    def selects_type(self, line_type: str) -> bool:
        return line_type in self._types

    @property
    def all_definitions(self) -> bool:
        """Every definition type is selected (no --types / --exclude-types narrowing them)."""
        return DEFINITION_TYPES - {"direct_channel"} <= self._types

    # --- places --------------------------------------------------------------------------------
    def team_selected(self, team: str) -> bool:
        """A team line (lowercased name) is selected for itself (not merely needed)."""
        if team in self._x_teams:
            return False
        if not self.positive:
            return True
        return team in self._teams or any(t == team for t, _ in self._channels)

    def team_in_scope(self, team: str) -> bool:
        """Whether the team's members count as selected users."""
        if team in self._x_teams:
            return False
        return not self.positive or team in self._teams

    def channel_selected(self, place: Place) -> bool:
        if place[0] in self._x_teams or place in self._x_channels:
            return False
        if not self.positive:
            return True
        return place[0] in self._teams or place in self._channels

    def user_excluded(self, user: str) -> bool:
        return user in self._x_users

    def user_named(self, user: str) -> bool:
        """Named by ``users`` (and not excluded)."""
        return user in self._users and user not in self._x_users

    def user_selected(self, user: str) -> bool:
        """Selected by name (a user line is also kept as a member of kept places)."""
        if user in self._x_users:
            return False
        return not self.positive or user in self._users

    def direct_selected(self, members: Members) -> bool:
        """A DM/GM (direct_channel line or the place of a direct_post) is selected."""
        if members in self.exclude_dms or members & self._x_users:
            return False
        if not self.positive:
            return True
        return members in self.dms or bool(members & self._users)

    def post_selected(self, place: Place, author: str) -> bool:
        """A channel post (place and root author as written) is selected."""
        if place[0] in self._x_teams or place in self._x_channels or author in self._x_users:
            return False
        if not self.positive:
            return True
        return place[0] in self._teams or place in self._channels or author in self._users

    def in_period(self, create_at: object) -> bool:
        if self.since is None and self.until is None:
            return True
        if type(create_at) is not int:
            return False  # cannot be placed in time: left out of a period
        if self.since is not None and create_at < self.since:
            return False
        return self.until is None or create_at <= self.until

    # --- names the archive must have -----------------------------------------------------------
    def named(self) -> dict[str, set[str]]:
        """Every name a selector uses, by kind (lowercased; channels as ``team/channel``, DM
        sets as comma-joined sorted members)."""
        return {
            "team": set(self._teams | self._x_teams),
            "channel": {f"{t}/{c}" for t, c in self._channels | self._x_channels},
            "user": set(self._users | self._x_users),
            "dm": {members_text(m) for m in self.dms | self.exclude_dms},
        }


def _lower_place(place: Place) -> Place:
    return go_lower(place[0]), go_lower(place[1])


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to ``name`` (for "did you mean")."""
    candidates = sorted(set(known))
    found = difflib.get_close_matches(name, candidates, n=n, cutoff=0.6)
    if not found:
        found = [c for c in candidates if name in c or c in name][:n]
    return found or candidates[:n]
