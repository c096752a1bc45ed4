"""The verdicts: which settings of the target server would stop or trim the import.

`check_limits` compares what the archive needs (`Needs`, built while the archive streamed by)
with the target configuration and turns that into issues, the `limits` table (configured /
needed / ok per setting) and the ``mmctl config set`` commands that would make the import
pass, with the commands to revert them afterwards (`archivekit.check.limits.commands`).

Severity: without an explicit target configuration the server defaults are assumed and
every limit hit is a warning; with one (file, environment or option) a limit that fails the
import or drops data is an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from archivekit.check.limits.commands import config_commands, config_value
from archivekit.check.limits.needs import Needs, Offender
from archivekit.check.rules.context import MAX_POST_SIZE, MAX_POST_SIZE_SOURCE
from archivekit.check.rules.post import MAX_FILES_PER_POST
from archivekit.check.target import SETTINGS_BY_ATTRIBUTE, TargetConfig
from archivekit.errors import UsageError
from archivekit.issues import DROPS_DATA, FAILS_IMPORT, Issue, Scalar, Severity, Values

CODE = "limit-exceeded"

# Default --bandwidth: 10 Mbit/s. Deliberately conservative: it is the upload rate of many
# office and home links and VPN tunnels between an admin's machine and a server, and at
# that rate the default 300 s timeouts still let ~375 MB through, so a default-sized
# (100 MiB) archive passes. Better to warn early than to watch an upload die at 5 minutes.
DEFAULT_BANDWIDTH_BPS = 10_000_000.0

# Settings that are not config keys, as the limits table names them (it says what decides
# them rather than a configured value).
_NOT_CONFIG_KEYS = {
    "max_post_size": f"{MAX_POST_SIZE} (not a config setting: from the posts.message column)"
}
# Rows of the limits table that no config setting changes: they are not "configured" (their
# `configured` value is what the server allows), and their `decided_by` says what decides them.
DECIDED_BY = {
    "max_post_size": MAX_POST_SIZE_SOURCE,
    "files_per_post": f"a constant of the server's code ({MAX_FILES_PER_POST} files a post)",
}
FIXED_LIMITS = frozenset(DECIDED_BY)

_TEAM_LIMIT_ID = "app.import.import_user_teams.save_members.max_accounts.app_error"
_CHANNEL_LIMIT_ID = "store.sql_channel.save_channel.limit.app_error"
_FILE_TOO_LARGE_ID = "api.file.upload_file.too_large_detailed.app_error"
_IMAGE_TOO_LARGE_ID = "api.file.upload_file.large_image_detailed.app_error"
_PROFILE_IMAGE_ID = "api.user.upload_profile_user.check_image_limits.app_error"
_UPLOAD_TOO_LARGE_ID = "api.upload.create.upload_too_large.app_error"
_ATTACHMENTS_DISABLED_ID = "api.file.attachments.disabled.app_error"
_NO_STORAGE_ID = "api.file.upload_file.storage.app_error"


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
        value = config_value(getattr(self.target, attribute))
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
        *,
        attribute: str,
        found: Scalar,
        unit: str | None = None,
        needed: Scalar = None,
        extra: dict[str, Scalar] | None = None,
    ) -> None:
        """One limit hit; its values: the `setting`, the value `found`, the `limit` (the
        configured value), the `unit` of both, the `name` of the team or file, what the
        whole archive `needed` where the message says it, and any `extra` it speaks of."""
        setting = SETTINGS_BY_ATTRIBUTE[attribute]
        values: dict[str, Scalar] = {
            "setting": setting.config_path or _NOT_CONFIG_KEYS[attribute],
            "found": found,
            "limit": getattr(self.target, attribute),
        }
        if unit is not None:
            values["unit"] = unit
        if offender is not None and offender.name:
            values["name"] = offender.name
        if needed is not None:
            values["needed"] = needed
        values.update(extra or {})
        if offender is None:
            self.archive_issues.append(
                Issue(
                    CODE,
                    self.severity,
                    message,
                    None,
                    None,
                    None,
                    server_error_id,
                    effect,
                    Values(values),
                )
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
                Values(values),
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
        if attribute in DECIDED_BY:
            self.limits[attribute]["decided_by"] = DECIDED_BY[attribute]

    # Each check appends its issues and its row.

    def team_size(self) -> None:
        overflows = self.needs.team_overflows()
        for o in overflows:
            needed = self.needs.members_needed_by(o.name)
            self.issue(
                f"team {o.name!r} would get its member number {o.found} from this line, but "
                f"{self.configured('max_users_per_team')}; the archive needs "
                f"{needed} for this team "
                "(counting active users only, from an empty team). The import stops here.",
                FAILS_IMPORT,
                _TEAM_LIMIT_ID,
                o,
                attribute="max_users_per_team",
                found=o.found,
                unit="members",
                needed=needed,
            )
        needed = self.needs.members_needed
        ok = needed <= self.target.max_users_per_team
        self.row("max_users_per_team", needed, ok, len(overflows))

    def channels_per_team(self) -> None:
        overflows = self.needs.channel_overflows()
        defaults = ", ".join(self.needs.default_channels)
        for o in overflows:
            needed = self.needs.channels_needed_by(o.name)
            self.issue(
                f"team {o.name!r} would get its channel number {o.found} (non-archived, "
                f"default channels {defaults} included) from this line, but "
                f"{self.configured('max_channels_per_team')}; the archive needs "
                f"{needed} for this team. The import stops here.",
                FAILS_IMPORT,
                _CHANNEL_LIMIT_ID,
                o,
                attribute="max_channels_per_team",
                found=o.found,
                unit="channels",
                needed=needed,
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
                attribute="max_file_size",
                found=o.found,
                unit="bytes",
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
                attribute="max_file_size",
                found=o.found,
                unit="bytes",
            )
        resolution_text = self.configured("max_image_resolution")
        for o in needs.overresolution_attachments.kept:
            self.issue(
                f"image {o.name!r} has {o.found} pixels, but {resolution_text}: the server "
                "drops the file and imports the post without it.",
                DROPS_DATA,
                _IMAGE_TOO_LARGE_ID,
                o,
                attribute="max_image_resolution",
                found=o.found,
                unit="pixels",
            )
        for o in needs.overresolution_profile_images.kept:
            self.issue(
                f"profile image {o.name!r} has {o.found} pixels, but {resolution_text}: "
                "the server stops the import at this line.",
                FAILS_IMPORT,
                _PROFILE_IMAGE_ID,
                o,
                attribute="max_image_resolution",
                found=o.found,
                unit="pixels",
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
                attribute="driver_name",
                found=None,
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
                attribute="max_file_size",
                found=size,
                unit="bytes",
            )
        self.row_attachments_enabled(bypass)
        seconds = size * 8 / self.bandwidth
        needed = math.ceil(seconds)
        for attribute in ("read_timeout", "write_timeout"):
            limit = getattr(target, attribute)
            ok = seconds <= limit
            if not ok:
                bandwidth = f"{self.bandwidth / 1e6:g} Mbit/s"
                self.issue(
                    f"uploading the archive ({_size(size)}) takes about {needed} s at "
                    f"{bandwidth} (--bandwidth), but "
                    f"{self.configured(attribute)}: the server cuts the upload request. "
                    f"Raise it, or resume the cut upload with 'mmctl import upload --resume "
                    f"--upload ID ARCHIVE' (each attempt sends the rest), {bypass}.",
                    FAILS_IMPORT,
                    None,
                    attribute=attribute,
                    found=needed,
                    unit="seconds",
                    extra={"archive_bytes": size, "bandwidth": bandwidth},
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
                attribute="enable_file_attachments",
                found=True,
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
            "decided_by": DECIDED_BY["files_per_post"],
        }


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
    change, revert = config_commands(target, checker.limits)
    issues = checker.archive_issues + sorted(checker.line_issues, key=lambda i: i.line or 0)
    return LimitsResult(issues, checker.limits, change, revert, seconds, bandwidth_bps)
