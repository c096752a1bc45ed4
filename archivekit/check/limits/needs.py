"""What an archive needs from the target server, simulated while the archive streams by.

`Needs` sees the engine's facts (`Needs.see`: definitions of teams, channels and users, files
used, message lengths, files per post) and keeps memory bounded by teams, channels and
memberships, never by posts: per attachment it keeps only running maxima plus the first
`MAX_OFFENDERS_PER_KIND` offending files. `archivekit.check.limits.verdicts` judges the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from archivekit.check.facts import (
    ChannelDefined,
    Fact,
    FilesUsed,
    FileUsed,
    ImageUsed,
    LongestMessage,
    MostFiles,
    TeamDefined,
    UserDefined,
)
from archivekit.check.target import TargetConfig
from archivekit.gosem.images import is_image_name
from archivekit.gosem.strings import go_lower

# Per-file issues (data that gets dropped) are reported one by one so the user can find the
# line; past this many per kind only the count grows (the report layer caps issues anyway).
MAX_OFFENDERS_PER_KIND = 1000


class Offender(NamedTuple):
    """One line that hits a limit: where, which file (if any), and the value found. (A named
    tuple: a frozen dataclass would cost start-up a millisecond.)"""

    line: int
    field: str
    found: int
    name: str = ""  # team name or zip member, for the message


# _Kind and _Maximum are plain classes, not dataclasses: nothing compares or prints them, and
# a dataclass costs ~0.5 ms at import (part of every run's start-up).


class _Kind:
    """Offenders of one kind: the first few kept, all counted."""

    __slots__ = ("count", "kept")

    def __init__(self) -> None:
        self.kept: list[Offender] = []
        self.count = 0

    def add(self, offender: Offender) -> None:
        self.count += 1
        if len(self.kept) < MAX_OFFENDERS_PER_KIND:
            self.kept.append(offender)


class _Maximum:
    """A running maximum and the first line that reached it."""

    __slots__ = ("field", "line", "value")

    def __init__(self) -> None:
        self.value = 0
        self.line: int | None = None
        self.field: str | None = None

    def see(self, value: int, line: int, field: str) -> None:
        if value > self.value:
            self.value, self.line, self.field = value, line, field


class Needs:
    """Accumulates what the archive needs, streaming (see module doc).

    `target` decides which line is the first to hit a limit (and which default channels a
    new team gets); `check_limits` must be given the same configuration.
    """

    def __init__(
        self, target: TargetConfig | None = None, *, jsonl_member: str | None = None
    ) -> None:
        self.target = TargetConfig() if target is None else target
        self.jsonl_member = jsonl_member
        self._default_channels = [go_lower(n) for n in self.target.default_channels()]
        # Team size (reference §5.3): active members per team, memberships per user.
        self._active_members: dict[str, int] = {}
        self._user_teams: dict[str, set[str]] = {}
        self._members_needed: dict[str, int] = {}
        self._team_overflow: dict[str, Offender] = {}
        # Channels per team: name -> active (not archived), and the non-archived count.
        self._channels: dict[str, dict[str, bool]] = {}
        self._channel_count: dict[str, int] = {}
        self._channels_needed: dict[str, int] = {}
        self._channel_overflow: dict[str, Offender] = {}
        # Files.
        self.attachments = 0
        self.attachment_bytes = 0
        self.profile_images = 0
        self.largest_file = _Maximum()
        self.largest_image = _Maximum()  # pixels, among files the server measures
        self.oversized_attachments = _Kind()
        self.overresolution_attachments = _Kind()
        self.oversized_profile_images = _Kind()
        self.overresolution_profile_images = _Kind()
        # Posts.
        self.longest_message = _Maximum()
        self.most_files = _Maximum()
        # Archive.
        self.archive_bytes: int | None = None
        self.jsonl_bytes: int | None = None

    def see(self, fact: Fact) -> None:
        """One fact of the engine's (`archivekit.check.facts`); names come lowercased."""
        if isinstance(fact, FileUsed):
            if fact.use == "attachment" and fact.readable and fact.imported:
                self.attachment(fact.line, fact.field, fact.name, fact.size, fact.dims)
            elif fact.use == "profile image" and fact.readable:
                self.profile_image(fact.line, fact.field, fact.name, fact.size, fact.dims)
        elif isinstance(fact, FilesUsed):
            self.attachment_totals(fact.files, fact.size, fact.largest, fact.line, fact.field)
        elif isinstance(fact, ImageUsed):
            self.attachment_image(fact.line, fact.field, fact.name, fact.dims, oversized=False)
        elif isinstance(fact, TeamDefined):
            self.team(fact.line, fact.name)
        elif isinstance(fact, ChannelDefined):
            self.channel(fact.line, fact.team, fact.name, fact.archived)
        elif isinstance(fact, UserDefined):
            if fact.teams:
                self.user_teams(fact.line, fact.name, fact.active, fact.teams)
        elif isinstance(fact, LongestMessage):
            self.post_message(fact.line, fact.field, fact.runes)
        elif isinstance(fact, MostFiles):
            self.post_files(fact.line, fact.field, fact.files)

    # --- teams and channels --------------------------------------------------------------

    def team(self, line: int, name: str) -> None:
        """A team line: a new team is created with its default channels."""
        key = go_lower(name)
        if key not in self._channels:
            self._new_team(key, line, "team.name", check=True)

    def _new_team(self, key: str, line: int, field: str, *, check: bool) -> None:
        self._channels[key] = {}
        self._channel_count[key] = 0
        for channel in self._default_channels:
            self._create_channel(key, channel, line, field, archived=False, check=check)

    def _create_channel(
        self, team: str, name: str, line: int, field: str, *, archived: bool, check: bool
    ) -> None:
        # The store refuses a new channel when the team already has MaxChannelsPerTeam
        # non-archived channels; an archived channel is created first, then archived.
        before = self._channel_count[team]
        self._channels[team][name] = not archived
        if not check:  # the channel already exists on the server
            self._channel_count[team] = before + 1
            return
        if before + 1 > self._channels_needed.get(team, 0):
            self._channels_needed[team] = before + 1
        if before + 1 > self.target.max_channels_per_team and team not in self._channel_overflow:
            self._channel_overflow[team] = Offender(line, field, before + 1, team)
        if not archived:
            self._channel_count[team] = before + 1

    def channel(self, line: int, team: str, name: str, archived: bool) -> None:
        """A channel line (`archived`: deleted_at > 0), upserted by (lowercased team, lowercased
        name)."""
        team_key = go_lower(team)
        if team_key not in self._channels:
            # Not defined in the archive (yet): if it exists on the server it was created
            # with its default channels. (A missing team is reported by the reference rules.)
            self._new_team(team_key, line, "channel.team", check=False)
        key = go_lower(name)
        channels = self._channels[team_key]
        existing = channels.get(key)
        if existing is None:
            self._create_channel(team_key, key, line, "channel.name", archived=archived, check=True)
        elif existing and archived:
            # Updating an active channel with deleted_at > 0 archives it. A later line without
            # deleted_at leaves an archived channel archived (UNVERIFIED: the importer only
            # ever archives); it keeps not counting.
            channels[key] = False
            self._channel_count[team_key] -= 1

    def user_teams(self, line: int, username: str, active: bool, teams: Sequence[str]) -> None:
        """A user line's team memberships, simulated as reference §5.3 prescribes.

        Each team the user is not yet a member of: fails if count + 1 > MaxUsersPerTeam,
        then counts only if the user is active (`delete_at` absent or 0). Starts from 0
        existing members (the server's own members are unknown here).
        """
        user = go_lower(username)
        memberships = self._user_teams.get(user)
        if memberships is None:
            memberships = self._user_teams[user] = set()
        limit = self.target.max_users_per_team
        for index, team in enumerate(teams):
            key = go_lower(team)
            if key in memberships:
                continue
            memberships.add(key)
            needed = self._active_members.get(key, 0) + 1
            if needed > self._members_needed.get(key, 0):
                self._members_needed[key] = needed
            if needed > limit and key not in self._team_overflow:
                self._team_overflow[key] = Offender(line, f"user.teams[{index}].name", needed, key)
            if active:
                self._active_members[key] = needed

    # --- files ---------------------------------------------------------------------------

    def attachment(
        self,
        line: int,
        field: str,
        member_name: str,
        size: int,
        dims: tuple[str, int, int] | None,
    ) -> None:
        """One attachment reference (a post's or reply's file)."""
        self.attachments += 1
        self.attachment_bytes += size
        self.largest_file.see(size, line, field)
        oversized = size > self.target.max_file_size
        if oversized:
            self.oversized_attachments.add(Offender(line, field, size, member_name))
        if dims is not None:
            self.attachment_image(line, field, member_name, dims, oversized=oversized)

    def attachment_image(
        self,
        line: int,
        field: str,
        member_name: str,
        dims: tuple[str, int, int],
        *,
        oversized: bool,
    ) -> None:
        """The pixels of an attachment whose header decoded (counted by `attachment` or
        `attachment_totals`), when the server measures them (an image's name)."""
        if not is_image_name(member_name):
            return
        pixels = dims[1] * dims[2]
        # Counted even when the file is too large, so that the needed resolution is right
        # once MaxFileSize is raised; reported only once (the size refuses it before its
        # pixels are looked at).
        self.largest_image.see(pixels, line, field)
        if pixels > self.target.max_image_resolution and not oversized:
            self.overresolution_attachments.add(Offender(line, field, pixels, member_name))

    def attachment_totals(
        self, count: int, total_bytes: int, largest: int, line: int, field: str
    ) -> None:
        """`count` attachment references at once (the fast path's): none over MaxFileSize,
        `largest` the first of the largest files, at `line` and `field` (the pixels of images
        among them come as `attachment_image`)."""
        self.attachments += count
        self.attachment_bytes += total_bytes
        self.largest_file.see(largest, line, field)

    def profile_image(
        self,
        line: int,
        field: str,
        member_name: str,
        size: int,
        dims: tuple[str, int, int] | None,
    ) -> None:
        """A user's or bot's profile image (checked whatever its file name)."""
        self.profile_images += 1
        self.largest_file.see(size, line, field)
        if dims is not None:
            pixels = dims[1] * dims[2]
            self.largest_image.see(pixels, line, field)
            if pixels > self.target.max_image_resolution:
                self.overresolution_profile_images.add(Offender(line, field, pixels, member_name))
        if size > self.target.max_file_size:
            self.oversized_profile_images.add(Offender(line, field, size, member_name))

    # --- posts and archive ---------------------------------------------------------------

    def post_message(self, line: int, field: str, runes: int) -> None:
        """A message's length in runes (only the maximum is kept)."""
        if runes > self.longest_message.value:
            self.longest_message.see(runes, line, field)

    def post_files(self, line: int, field: str, count: int) -> None:
        """How many files one post or reply lists (only the maximum is kept)."""
        if count > self.most_files.value:
            self.most_files.see(count, line, field)

    def archive(self, size_bytes: int, jsonl_bytes: int) -> None:
        """The zip's size (what `mmctl import upload` sends) and the JSONL's."""
        self.archive_bytes = size_bytes
        self.jsonl_bytes = jsonl_bytes

    # --- read-outs for the checker -------------------------------------------------------

    @property
    def members_needed(self) -> int:
        return max(self._members_needed.values(), default=0)

    @property
    def channels_needed(self) -> int:
        return max(self._channels_needed.values(), default=0)

    def team_overflows(self) -> list[Offender]:
        return sorted(self._team_overflow.values(), key=lambda o: o.line)

    def channel_overflows(self) -> list[Offender]:
        return sorted(self._channel_overflow.values(), key=lambda o: o.line)

    def members_needed_by(self, team: str) -> int:
        return self._members_needed.get(team, 0)

    def channels_needed_by(self, team: str) -> int:
        return self._channels_needed.get(team, 0)

    @property
    def default_channels(self) -> list[str]:
        return list(self._default_channels)

    @property
    def has_files(self) -> bool:
        return self.attachments > 0 or self.profile_images > 0
