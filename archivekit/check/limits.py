"""What an archive needs from the target server, and which settings would stop or trim it.

`Needs` is fed while the archive streams by (one call per team, channel, user, attachment,
profile image and message) and keeps memory bounded by teams, channels and memberships,
never by posts: per attachment it keeps only running maxima plus the first
`MAX_OFFENDERS_PER_KIND` offending files. `check_limits` turns that into issues, the
`limits` table (configured / needed / ok per setting) and the ``mmctl config set`` commands
that would make the import pass, with the commands to revert them afterwards.

Severity: without an explicit target configuration the server defaults are assumed and
every limit hit is a warning; with one (file, environment or option) a limit that fails the
import or drops data is an error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from archivekit.check.target import SETTINGS_BY_ATTRIBUTE, TargetConfig
from archivekit.errors import UsageError
from archivekit.issues import DROPS_DATA, FAILS_IMPORT, Issue, Severity

CODE = "limit-exceeded"

# Default --bandwidth: 10 Mbit/s. Deliberately conservative: it is the upload rate of many
# office and home links and VPN tunnels between an admin's machine and a server, and at
# that rate the default 300 s timeouts still let ~375 MB through, so a default-sized
# (100 MiB) archive passes. Better to warn early than to watch an upload die at 5 minutes.
DEFAULT_BANDWIDTH_BPS = 10_000_000.0

# Per-file issues (data that gets dropped) are reported one by one so the user can find the
# line; past this many per kind only the count grows (the report layer caps issues anyway).
MAX_OFFENDERS_PER_KIND = 1000

# model.PostFileIdsMaxRunes (300) fits 10 file ids: a constant, not a setting.
MAX_FILES_PER_POST = 10

# Go's mime.TypeByExtension: the extensions for which FileInfo.IsImage() is true, so the
# server checks MaxImageResolution (other files are stored without looking at pixels).
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".webp"})

# Settings that are not config keys, as the limits table names them.
_NOT_CONFIG_KEYS = {"max_post_size": "MaxPostSize (posts.message column size, not a config key)"}

_TEAM_LIMIT_ID = "app.import.import_user_teams.save_members.max_accounts.app_error"
_CHANNEL_LIMIT_ID = "store.sql_channel.save_channel.limit.app_error"
_FILE_TOO_LARGE_ID = "api.file.upload_file.too_large_detailed.app_error"
_IMAGE_TOO_LARGE_ID = "api.file.upload_file.large_image_detailed.app_error"
_PROFILE_IMAGE_ID = "api.user.upload_profile_user.check_image_limits.app_error"
_UPLOAD_TOO_LARGE_ID = "api.upload.create.upload_too_large.app_error"
_ATTACHMENTS_DISABLED_ID = "api.file.attachments.disabled.app_error"
_NO_STORAGE_ID = "api.file.upload_file.storage.app_error"


@dataclass(frozen=True, slots=True)
class Offender:
    """One line that hits a limit: where, which file (if any), and the value found."""

    line: int
    field: str
    found: int
    name: str = ""  # team name or zip member, for the message


@dataclass(slots=True)
class _Kind:
    """Offenders of one kind: the first few kept, all counted."""

    kept: list[Offender] = field(default_factory=list)
    count: int = 0

    def add(self, offender: Offender) -> None:
        self.count += 1
        if len(self.kept) < MAX_OFFENDERS_PER_KIND:
            self.kept.append(offender)


@dataclass(slots=True)
class _Maximum:
    """A running maximum and the first line that reached it."""

    value: int = 0
    line: int | None = None
    field: str | None = None

    def see(self, value: int, line: int, field: str) -> None:
        if value > self.value:
            self.value, self.line, self.field = value, line, field


def is_image_name(member_name: str) -> bool:
    dot = member_name.rfind(".")
    return dot > member_name.rfind("/") and member_name[dot:].lower() in IMAGE_EXTENSIONS


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
        self._default_channels = [n.lower() for n in self.target.default_channels()]
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

    # --- teams and channels --------------------------------------------------------------

    def team(self, line: int, name: str) -> None:
        """A team line: a new team is created with its default channels."""
        key = name.lower()
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

    def channel(self, line: int, team: str, name: str, deleted_at: int | None) -> None:
        """A channel line: upserted by (lowercased team, lowercased name)."""
        team_key = team.lower()
        if team_key not in self._channels:
            # Not defined in the archive (yet): if it exists on the server it was created
            # with its default channels. (A missing team is reported by the reference rules.)
            self._new_team(team_key, line, "channel.team", check=False)
        key = name.lower()
        archived = deleted_at is not None and deleted_at > 0
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

    def user_teams(self, line: int, username: str, active: bool, teams: list[str]) -> None:
        """A user line's team memberships, simulated as reference §5.3 prescribes.

        Each team the user is not yet a member of: fails if count + 1 > MaxUsersPerTeam,
        then counts only if the user is active (`delete_at` absent or 0). Starts from 0
        existing members (the server's own members are unknown here).
        """
        user = username.lower()
        memberships = self._user_teams.get(user)
        if memberships is None:
            memberships = self._user_teams[user] = set()
        limit = self.target.max_users_per_team
        for index, team in enumerate(teams):
            key = team.lower()
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
        if dims is not None and is_image_name(member_name):
            pixels = dims[1] * dims[2]
            # Counted even when the file is too large, so that the needed resolution is
            # right once MaxFileSize is raised; reported only once (the size refuses it
            # before its pixels are looked at).
            self.largest_image.see(pixels, line, field)
            if pixels > self.target.max_image_resolution and not oversized:
                self.overresolution_attachments.add(Offender(line, field, pixels, member_name))

    def attachment_totals(
        self, count: int, total_bytes: int, largest: int, line: int, field: str
    ) -> None:
        """`count` attachment references at once (the fast path's): none over MaxFileSize and
        none an image, `largest` the first of the largest files, at `line` and `field`."""
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


# --- the checker ---------------------------------------------------------------------------


@dataclass(slots=True)
class LimitsResult:
    """Everything `check_limits` found.

    `limits` maps a setting's attribute to ``{"setting", "configured", "needed", "ok",
    "source", "count"}`` (count: how many teams / files / ... are over the configured value).
    """

    issues: list[Issue]
    limits: dict[str, dict[str, Any]]
    what_to_change: list[str]
    revert: list[str]
    upload_seconds: float | None
    bandwidth_bps: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "limits": self.limits,
            "what_to_change": self.what_to_change,
            "revert": self.revert,
            "upload_seconds": self.upload_seconds,
            "bandwidth_bps": self.bandwidth_bps,
        }


def _size(n: int) -> str:
    if n < 1024 * 1024:
        return f"{n} bytes"
    return f"{n} bytes ({n / (1024 * 1024):.1f} MiB)"


def _go_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(value)
    return str(value)


class _Checker:
    """Builds the issues and the limits table, one check per setting group."""

    def __init__(
        self, needs: Needs, target: TargetConfig, explicit: bool, bandwidth: float
    ) -> None:
        self.needs = needs
        self.target = target
        self.severity = Severity.ERROR if explicit else Severity.WARNING
        self.bandwidth = bandwidth
        self.archive_issues: list[Issue] = []
        self.line_issues: list[Issue] = []
        self.limits: dict[str, dict[str, Any]] = {}

    def configured(self, attribute: str) -> str:
        """'TeamSettings.MaxUsersPerTeam is 50 (server default)' and the like."""
        setting = SETTINGS_BY_ATTRIBUTE[attribute]
        value = _go_value(getattr(self.target, attribute))
        origin = {
            "default": "server default",
            "file": "from the config file",
            "env": f"from {setting.env}",
            "option": f"from {setting.option}",
        }[self.target.source(attribute)]
        return f"{setting.config_path or attribute} is {value} ({origin})"

    def issue(
        self,
        message: str,
        effect: str,
        server_error_id: str | None,
        offender: Offender | None = None,
    ) -> None:
        if offender is None:
            self.archive_issues.append(
                Issue(CODE, self.severity, message, None, None, None, server_error_id, effect)
            )
            return
        self.line_issues.append(
            Issue(
                CODE,
                self.severity,
                message,
                self.needs.jsonl_member,
                offender.line,
                offender.field,
                server_error_id,
                effect,
            )
        )

    def row(self, attribute: str, needed: Any, ok: bool, count: int = 0) -> None:
        setting = SETTINGS_BY_ATTRIBUTE[attribute]
        self.limits[attribute] = {
            "setting": setting.config_path or _NOT_CONFIG_KEYS[attribute],
            "configured": getattr(self.target, attribute),
            "needed": needed,
            "ok": ok,
            "source": self.target.source(attribute),
            "count": count,
        }

    # Each check appends its issues and its row.

    def team_size(self) -> None:
        overflows = self.needs.team_overflows()
        for o in overflows:
            self.issue(
                f"team {o.name!r} would get its member number {o.found} from this line, but "
                f"{self.configured('max_users_per_team')}; the archive needs "
                f"{self.needs.members_needed_by(o.name)} for this team "
                "(counting active users only, from an empty team). The import stops here.",
                FAILS_IMPORT,
                _TEAM_LIMIT_ID,
                o,
            )
        needed = self.needs.members_needed
        ok = needed <= self.target.max_users_per_team
        self.row("max_users_per_team", needed, ok, len(overflows))

    def channels_per_team(self) -> None:
        overflows = self.needs.channel_overflows()
        defaults = ", ".join(self.needs.default_channels)
        for o in overflows:
            self.issue(
                f"team {o.name!r} would get its channel number {o.found} (non-archived, "
                f"default channels {defaults} included) from this line, but "
                f"{self.configured('max_channels_per_team')}; the archive needs "
                f"{self.needs.channels_needed_by(o.name)} for this team. The import stops here.",
                FAILS_IMPORT,
                _CHANNEL_LIMIT_ID,
                o,
            )
        needed = self.needs.channels_needed
        ok = needed <= self.target.max_channels_per_team
        self.row("max_channels_per_team", needed, ok, len(overflows))

    def files(self) -> None:
        needs = self.needs
        limit_text = self.configured("max_file_size")
        for o in needs.oversized_attachments.kept:
            self.issue(
                f"attachment {o.name!r} is {_size(o.found)}, but {limit_text}: the server "
                "drops the file and imports the post without it.",
                DROPS_DATA,
                _FILE_TOO_LARGE_ID,
                o,
            )
        for o in needs.oversized_profile_images.kept:
            # UNVERIFIED: the image is read only up to MaxFileSize (reference §9); the
            # truncated image does not decode and the server logs a warning and goes on.
            self.issue(
                f"profile image {o.name!r} is {_size(o.found)}, but {limit_text}: the server "
                "reads only that much of it, cannot decode it and leaves the user without it.",
                DROPS_DATA,
                None,
                o,
            )
        resolution_text = self.configured("max_image_resolution")
        for o in needs.overresolution_attachments.kept:
            self.issue(
                f"image {o.name!r} has {o.found} pixels, but {resolution_text}: the server "
                "drops the file and imports the post without it.",
                DROPS_DATA,
                _IMAGE_TOO_LARGE_ID,
                o,
            )
        for o in needs.overresolution_profile_images.kept:
            self.issue(
                f"profile image {o.name!r} has {o.found} pixels, but {resolution_text}: "
                "the server stops the import at this line.",
                FAILS_IMPORT,
                _PROFILE_IMAGE_ID,
                o,
            )
        file_count = needs.oversized_attachments.count + needs.oversized_profile_images.count
        archive_over = (
            needs.archive_bytes is not None and needs.archive_bytes > self.target.max_file_size
        )
        needed_size = max(needs.largest_file.value, needs.archive_bytes or 0)
        ok = needed_size <= self.target.max_file_size
        self.row("max_file_size", needed_size, ok, file_count + int(archive_over))
        pixel_count = (
            needs.overresolution_attachments.count + needs.overresolution_profile_images.count
        )
        needed_pixels = needs.largest_image.value
        ok = needed_pixels <= self.target.max_image_resolution
        self.row("max_image_resolution", needed_pixels, ok, pixel_count)
        storage_ok = not (needs.has_files and self.target.driver_name == "")
        if not storage_ok:
            self.issue(
                f"{self.configured('driver_name')}: the server has no file store, so every "
                "attachment and profile image of the archive is dropped.",
                DROPS_DATA,
                _NO_STORAGE_ID,
            )
        self.row("driver_name", "non-empty" if needs.has_files else None, storage_ok)

    def upload(self) -> float | None:
        """`mmctl import upload`: one upload session, its size checked against MaxFileSize.

        mmctl sends the whole file (or, with --resume, the rest of it) as the body of ONE
        POST /api/v4/uploads/{id} request (Client4.UploadData streams the file reader;
        mmctl's importUploadCmdF calls it once). Go's http.Server ReadTimeout bounds the whole
        request including its body, and WriteTimeout runs from the end of the headers to the
        end of the response, so the transfer must finish within the smaller of the two.
        """
        needs = self.needs
        size = needs.archive_bytes
        if size is None:
            return None
        target = self.target
        bypass = (
            "or skip the upload: copy the archive to the server and run "
            "'mmctl --local import process --bypass-upload ARCHIVE' there"
        )
        if not (target.enable_local_mode and not target.enable_cluster):
            bypass += " (needs ServiceSettings.EnableLocalMode=true and no cluster)"
        if size > target.max_file_size:
            self.issue(
                f"the archive is {_size(size)}, but {self.configured('max_file_size')}: "
                f"'mmctl import upload' is refused (HTTP 413). Raise the setting, {bypass}.",
                FAILS_IMPORT,
                _UPLOAD_TOO_LARGE_ID,
            )
        self.row_attachments_enabled(bypass)
        seconds = size * 8 / self.bandwidth
        needed = math.ceil(seconds)
        for attribute in ("read_timeout", "write_timeout"):
            limit = getattr(target, attribute)
            ok = seconds <= limit
            if not ok:
                self.issue(
                    f"uploading the archive ({_size(size)}) takes about {needed} s at "
                    f"{self.bandwidth / 1e6:g} Mbit/s (--bandwidth), but "
                    f"{self.configured(attribute)}: the server cuts the upload request. "
                    f"Raise it, or resume the cut upload with 'mmctl import upload --resume "
                    f"--upload ID ARCHIVE' (each attempt sends the rest), {bypass}.",
                    FAILS_IMPORT,
                    None,
                )
            self.row(attribute, needed, ok, 0 if ok else 1)
        return seconds

    def row_attachments_enabled(self, bypass: str) -> None:
        ok = self.target.enable_file_attachments
        if not ok:
            self.issue(
                f"{self.configured('enable_file_attachments')}: 'mmctl import upload' is "
                f"refused. Enable it for the upload, {bypass}.",
                FAILS_IMPORT,
                _ATTACHMENTS_DISABLED_ID,
            )
        self.row("enable_file_attachments", True, ok, 0 if ok else 1)

    def posts(self) -> None:
        # Over-long messages are reported line by line by the post rules (message_length,
        # with the server's error id); here only the table row, to show what is needed.
        longest = self.needs.longest_message.value
        self.row("max_post_size", longest, longest <= self.target.max_post_size)
        most = self.needs.most_files.value
        self.limits["files_per_post"] = {
            "setting": "files per post (constant)",
            "configured": MAX_FILES_PER_POST,
            "needed": most,
            "ok": most <= MAX_FILES_PER_POST,
            "source": "default",
            "count": 0,
        }


def _commands(
    target: TargetConfig, limits: dict[str, dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """The `mmctl config set` commands that make every failing setting pass, and their undo.

    A setting that comes from an MM_ variable cannot be changed with mmctl (the variable
    wins over the stored config): for those the variable to set is printed instead.
    """
    change: list[str] = []
    revert: list[str] = []
    for attribute, row in limits.items():
        setting = SETTINGS_BY_ATTRIBUTE.get(attribute)
        if row["ok"] or setting is None or setting.config_path is None:
            continue
        needed = row["needed"]
        if attribute == "driver_name":
            needed = "local"
        note = "  # restart the server to apply" if attribute.endswith("_timeout") else ""
        if target.source(attribute) == "env":
            assert setting.env is not None
            change.append(
                f"export {setting.env}={_go_value(needed)}  # in the server's environment"
            )
            revert.append(f"export {setting.env}={_go_value(row['configured'])}")
            continue
        change.append(f"mmctl config set {setting.config_path} {_go_value(needed)}{note}")
        revert.append(
            f"mmctl config set {setting.config_path} {_go_value(row['configured'])}{note}"
        )
    return change, revert


def check_limits(
    needs: Needs,
    target: TargetConfig,
    *,
    explicit: bool,
    bandwidth_bps: float = DEFAULT_BANDWIDTH_BPS,
) -> LimitsResult:
    """Compare what the archive needs with the target configuration.

    `target` must equal the configuration `needs` was built with (it decided which lines
    hit the limits). Issues: archive-level ones first, then by line.
    """
    if target != needs.target:
        raise ValueError("check_limits: target differs from the one Needs was built with")
    if not bandwidth_bps > 0:
        raise UsageError("--bandwidth must be positive")
    checker = _Checker(needs, target, explicit, bandwidth_bps)
    checker.team_size()
    checker.channels_per_team()
    checker.files()
    seconds = checker.upload()
    checker.posts()
    change, revert = _commands(target, checker.limits)
    issues = checker.archive_issues + sorted(checker.line_issues, key=lambda i: i.line or 0)
    return LimitsResult(issues, checker.limits, change, revert, seconds, bandwidth_bps)


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
