"""Target server limits: what the archive needs, each limit at its boundary, and the advice."""

from __future__ import annotations

from typing import Any

import pytest

from archivekit.check.limits import (
    DEFAULT_BANDWIDTH_BPS,
    MAX_OFFENDERS_PER_KIND,
    LimitsResult,
    Needs,
    check_limits,
)
from archivekit.check.target import TargetConfig, load_target
from archivekit.errors import UsageError
from archivekit.issues import CODES, DROPS_DATA, FAILS_IMPORT, Issue, Severity
from archivekit.options import parse_bandwidth

PNG = ("png", 0, 0)


def target(**settings: Any) -> TargetConfig:
    return TargetConfig(**settings)


def check(needs: Needs, *, explicit: bool = True, bandwidth: float = 1e12) -> LimitsResult:
    # A huge bandwidth by default so that only the tests about upload time see timeouts.
    return check_limits(needs, needs.target, explicit=explicit, bandwidth_bps=bandwidth)


def only(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, issues
    return issues[0]


def add_users(needs: Needs, team: str, count: int, *, first_line: int = 10) -> None:
    for i in range(count):
        needs.user_teams(first_line + i, f"user{i}", True, [team])


# --- team size -----------------------------------------------------------------------------


def test_team_exactly_at_max_users_per_team_is_ok() -> None:
    needs = Needs(target(max_users_per_team=3))
    add_users(needs, "eng", 3)
    result = check(needs)
    assert result.issues == []
    assert result.limits["max_users_per_team"] == {
        "setting": "TeamSettings.MaxUsersPerTeam",
        "configured": 3,
        "needed": 3,
        "ok": True,
        "source": "default",
        "count": 0,
    }


def test_one_member_over_max_users_per_team_fails_the_import_at_that_line() -> None:
    needs = Needs(target(max_users_per_team=3), jsonl_member="import.jsonl")
    add_users(needs, "eng", 5)
    issue = only(check(needs).issues)
    assert (issue.code, issue.effect, issue.severity) == (
        "limit-exceeded",
        FAILS_IMPORT,
        Severity.ERROR,
    )
    assert (issue.member, issue.line, issue.field) == ("import.jsonl", 13, "user.teams[0].name")
    assert issue.server_error_id == (
        "app.import.import_user_teams.save_members.max_accounts.app_error"
    )
    assert "TeamSettings.MaxUsersPerTeam is 3" in issue.message
    assert "needs 5" in issue.message
    assert check(needs).limits["max_users_per_team"]["needed"] == 5


def test_inactive_users_are_not_counted_but_still_refused_by_a_full_team() -> None:
    needs = Needs(target(max_users_per_team=2))
    needs.user_teams(1, "gone", False, ["eng"])  # 0 + 1 <= 2, stays 0
    needs.user_teams(2, "a", True, ["eng"])  # 1
    needs.user_teams(3, "b", True, ["eng"])  # 2
    assert check(needs).issues == []
    needs.user_teams(4, "gone2", False, ["eng"])  # 2 + 1 > 2: refused even though inactive
    assert only(check(needs).issues).line == 4


def test_a_user_already_member_of_the_team_adds_nothing() -> None:
    needs = Needs(target(max_users_per_team=1))
    needs.user_teams(1, "Alice", True, ["eng"])
    needs.user_teams(2, "alice", True, ["ENG"])  # same user (lowercased), same team
    needs.user_teams(3, "ALICE", True, ["eng", "eng"])
    result = check(needs)
    assert result.issues == []
    assert result.limits["max_users_per_team"]["needed"] == 1


def test_each_team_reports_its_own_first_overflowing_line() -> None:
    needs = Needs(target(max_users_per_team=1))
    needs.user_teams(1, "a", True, ["x", "y"])
    needs.user_teams(2, "b", True, ["y", "x"])
    issues = check(needs).issues
    assert [(i.line, i.field) for i in issues] == [
        (2, "user.teams[0].name"),
        (2, "user.teams[1].name"),
    ]
    assert check(needs).limits["max_users_per_team"]["count"] == 2


# --- channels per team ---------------------------------------------------------------------


def test_new_team_default_channels_count_towards_max_channels_per_team() -> None:
    needs = Needs(target(max_channels_per_team=3))
    needs.team(1, "eng")
    needs.channel(2, "eng", "dev", False)  # town-square, off-topic, dev = 3
    assert check(needs).issues == []
    assert check(needs).limits["max_channels_per_team"]["needed"] == 3
    needs.channel(3, "ENG", "ops", False)
    issue = only(check(needs).issues)
    assert (issue.line, issue.field, issue.effect) == (3, "channel.name", FAILS_IMPORT)
    assert issue.server_error_id == "store.sql_channel.save_channel.limit.app_error"
    assert "town-square, off-topic" in issue.message


def test_archived_channels_do_not_count() -> None:
    needs = Needs(target(max_channels_per_team=3))
    needs.team(1, "eng")
    needs.channel(2, "eng", "old", True)  # created at 3, then archived
    needs.channel(3, "eng", "dev", False)  # 3 again
    assert check(needs).issues == []
    needs.channel(4, "eng", "ops", False)
    assert only(check(needs).issues).line == 4


def test_archiving_an_existing_channel_frees_its_place() -> None:
    needs = Needs(target(max_channels_per_team=3))
    needs.team(1, "eng")
    needs.channel(2, "eng", "dev", False)
    needs.channel(3, "eng", "dev", True)
    needs.channel(4, "eng", "ops", False)
    assert check(needs).issues == []


def test_channel_lines_for_existing_channels_add_nothing() -> None:
    needs = Needs(target(max_channels_per_team=2))
    needs.team(1, "eng")
    needs.channel(2, "eng", "Town-Square", False)
    needs.channel(3, "eng", "off-topic", False)
    needs.team(4, "ENG")  # the same team again: no new default channels
    result = check(needs)
    assert result.issues == []
    assert result.limits["max_channels_per_team"]["needed"] == 2


def test_experimental_default_channels_replace_off_topic() -> None:
    needs = Needs(target(max_channels_per_team=3, experimental_default_channels=["a", "b"]))
    needs.team(1, "eng")  # town-square, a, b
    needs.channel(2, "eng", "off-topic", False)
    issue = only(check(needs).issues)
    assert issue.line == 2
    assert "town-square, a, b" in issue.message


def test_default_channels_alone_can_exceed_a_tiny_limit_at_the_team_line() -> None:
    needs = Needs(target(max_channels_per_team=1))
    needs.team(5, "eng")
    issue = only(check(needs).issues)
    assert (issue.line, issue.field) == (5, "team.name")


def test_channels_of_a_team_not_in_the_archive_start_from_its_default_channels() -> None:
    needs = Needs(target(max_channels_per_team=3))
    needs.channel(1, "existing", "dev", False)
    assert check(needs).issues == []
    needs.channel(2, "existing", "ops", False)
    assert only(check(needs).issues).line == 2


# --- attachments and profile images --------------------------------------------------------


def test_attachment_exactly_max_file_size_is_ok_one_byte_more_is_dropped() -> None:
    needs = Needs(target(max_file_size=1000))
    needs.attachment(7, "post.attachments[0].path", "data/a.bin", 1000, None)
    assert check(needs).issues == []
    needs.attachment(8, "post.replies[1].attachments[0].path", "data/b.bin", 1001, None)
    issue = only(check(needs).issues)
    assert (issue.line, issue.field, issue.effect) == (
        8,
        "post.replies[1].attachments[0].path",
        DROPS_DATA,
    )
    assert issue.server_error_id == "api.file.upload_file.too_large_detailed.app_error"
    assert "'data/b.bin' is 1001 bytes" in issue.message
    assert check(needs).limits["max_file_size"]["needed"] == 1001


def test_image_exactly_max_resolution_is_ok_one_pixel_more_is_dropped() -> None:
    needs = Needs(target(max_image_resolution=100))
    needs.attachment(1, "post.attachments[0].path", "data/ok.png", 10, ("png", 10, 10))
    assert check(needs).issues == []
    needs.attachment(2, "post.attachments[0].path", "data/big.JPG", 10, ("jpeg", 101, 1))
    issue = only(check(needs).issues)
    assert (issue.line, issue.effect) == (2, DROPS_DATA)
    assert issue.server_error_id == "api.file.upload_file.large_image_detailed.app_error"
    assert check(needs).limits["max_image_resolution"]["needed"] == 101


def test_files_not_named_as_images_are_not_measured_by_the_server() -> None:
    needs = Needs(target(max_image_resolution=100))
    needs.attachment(1, "post.attachments[0].path", "data/photo.dat", 10, ("png", 100, 100))
    needs.attachment(2, "post.attachments[0].path", "data/png", 10, ("png", 100, 100))
    result = check(needs)
    assert result.issues == []
    assert result.limits["max_image_resolution"]["needed"] == 0


def test_an_oversized_image_is_reported_once_but_its_pixels_still_count() -> None:
    needs = Needs(target(max_file_size=10, max_image_resolution=100))
    needs.attachment(1, "post.attachments[0].path", "data/a.png", 11, ("png", 20, 20))
    result = check(needs)
    assert "is 11 bytes" in only(result.issues).message
    assert result.limits["max_image_resolution"]["needed"] == 400
    assert result.limits["max_image_resolution"]["ok"] is False


def test_profile_image_over_max_resolution_fails_the_import() -> None:
    needs = Needs(target(max_image_resolution=100))
    needs.profile_image(3, "user.profile_image", "data/p.gif", 10, ("gif", 10, 10))
    assert check(needs).issues == []
    needs.profile_image(4, "bot.profile_image", "data/q.bin", 10, ("gif", 10, 11))
    issue = only(check(needs).issues)
    assert (issue.line, issue.field, issue.effect) == (4, "bot.profile_image", FAILS_IMPORT)
    assert issue.server_error_id == "api.user.upload_profile_user.check_image_limits.app_error"


def test_profile_image_over_max_file_size_is_dropped() -> None:
    needs = Needs(target(max_file_size=10))
    needs.profile_image(3, "user.profile_image", "data/p.png", 10, None)
    assert check(needs).issues == []
    needs.profile_image(4, "user.profile_image", "data/q.png", 11, None)
    assert only(check(needs).issues).effect == DROPS_DATA


def test_per_file_issues_are_capped_but_counted() -> None:
    needs = Needs(target(max_file_size=1))
    for line in range(MAX_OFFENDERS_PER_KIND + 5):
        needs.attachment(line + 1, "post.attachments[0].path", f"data/{line}", 2, None)
    result = check(needs)
    assert len(result.issues) == MAX_OFFENDERS_PER_KIND
    assert result.limits["max_file_size"]["count"] == MAX_OFFENDERS_PER_KIND + 5


def test_no_file_store_drops_every_file() -> None:
    needs = Needs(target(driver_name=""))
    assert check(needs).issues == []  # no files, nothing lost
    needs.attachment(1, "post.attachments[0].path", "data/a", 1, None)
    issue = only(check(needs).issues)
    assert (issue.line, issue.effect) == (None, DROPS_DATA)
    assert check(needs).what_to_change == ["mmctl config set FileSettings.DriverName local"]


# --- the archive upload --------------------------------------------------------------------


def test_archive_exactly_max_file_size_uploads_one_byte_more_is_refused() -> None:
    needs = Needs(target(max_file_size=1000))
    needs.archive(1000, 500)
    assert check(needs).issues == []
    needs.archive(1001, 500)
    issue = only(check(needs).issues)
    assert (issue.line, issue.field, issue.effect) == (None, None, FAILS_IMPORT)
    assert issue.server_error_id == "api.upload.create.upload_too_large.app_error"
    assert "mmctl --local import process --bypass-upload" in issue.message
    assert "EnableLocalMode" in issue.message


def test_upload_time_exactly_the_read_timeout_is_ok_a_byte_more_is_cut() -> None:
    # 10 Mbit/s for 300 s is 375,000,000 bytes.
    needs = Needs(target(max_file_size=10**10))
    needs.archive(375_000_000, 1)
    result = check(needs, bandwidth=DEFAULT_BANDWIDTH_BPS)
    assert result.issues == []
    assert result.upload_seconds == 300
    needs.archive(375_000_001, 1)
    result = check(needs, bandwidth=DEFAULT_BANDWIDTH_BPS)
    messages = [i.message for i in result.issues]
    assert len(messages) == 2
    assert "ServiceSettings.ReadTimeout is 300" in messages[0]
    assert "ServiceSettings.WriteTimeout is 300" in messages[1]
    assert result.limits["read_timeout"]["needed"] == 301
    assert "--resume" in messages[0]


def test_the_smaller_timeout_decides() -> None:
    needs = Needs(target(max_file_size=10**10, write_timeout=60))
    needs.archive(100_000_000, 1)  # 80 s at 10 Mbit/s
    result = check(needs, bandwidth=DEFAULT_BANDWIDTH_BPS)
    assert result.limits["read_timeout"]["ok"] is True
    assert result.limits["write_timeout"]["ok"] is False
    assert result.what_to_change == [
        "mmctl config set ServiceSettings.WriteTimeout 80  # restart the server to apply"
    ]


def test_file_attachments_disabled_refuses_the_upload() -> None:
    needs = Needs(target(enable_file_attachments=False))
    needs.archive(10, 1)
    issue = only(check(needs).issues)
    assert issue.server_error_id == "api.file.attachments.disabled.app_error"
    assert check(needs).what_to_change == [
        "mmctl config set FileSettings.EnableFileAttachments true"
    ]
    assert check(needs).revert == ["mmctl config set FileSettings.EnableFileAttachments false"]


def test_without_an_archive_size_there_is_no_upload_check() -> None:
    result = check(Needs(target(enable_file_attachments=False)))
    assert result.issues == []
    assert result.upload_seconds is None
    assert "read_timeout" not in result.limits


# --- posts ---------------------------------------------------------------------------------


def test_longest_message_and_most_files_are_tracked_at_their_boundaries() -> None:
    needs = Needs(target(max_post_size=100))
    needs.post_message(1, "post.message", 100)
    needs.post_files(1, "post.attachments", 10)
    limits = check(needs).limits
    assert (limits["max_post_size"]["needed"], limits["max_post_size"]["ok"]) == (100, True)
    assert (limits["files_per_post"]["needed"], limits["files_per_post"]["ok"]) == (10, True)
    needs.post_message(2, "post.replies[0].message", 101)
    needs.post_files(2, "post.replies[0].attachments", 11)
    limits = check(needs).limits
    assert (limits["max_post_size"]["needed"], limits["max_post_size"]["ok"]) == (101, False)
    assert limits["files_per_post"]["ok"] is False
    # The per-line post rules report these lines; no duplicate here, no mmctl command.
    assert check(needs).issues == []
    assert check(needs).what_to_change == []


# --- severity, advice, report --------------------------------------------------------------


def test_limits_hit_are_warnings_without_an_explicit_target_and_errors_with_one() -> None:
    needs = Needs(target(max_users_per_team=1))
    add_users(needs, "eng", 2)
    assert only(check(needs, explicit=False).issues).severity == Severity.WARNING
    assert only(check(needs, explicit=True).issues).severity == Severity.ERROR


def test_a_clean_archive_has_no_issues_and_every_limit_ok() -> None:
    needs = Needs()
    needs.team(1, "eng")
    needs.channel(2, "eng", "dev", False)
    add_users(needs, "eng", 50)
    needs.attachment(60, "post.attachments[0].path", "data/a.png", 5, ("png", 7680, 4320))
    needs.archive(1_000_000, 10_000)
    result = check(needs, explicit=False, bandwidth=DEFAULT_BANDWIDTH_BPS)
    assert result.issues == []
    assert all(row["ok"] for row in result.limits.values())
    assert result.what_to_change == []
    assert result.revert == []


def test_what_to_change_and_revert_commands() -> None:
    needs = Needs(target(max_users_per_team=2, max_channels_per_team=2, max_file_size=50))
    needs.team(1, "eng")
    needs.channel(2, "eng", "dev", False)
    add_users(needs, "eng", 3)
    needs.archive(60, 1)
    result = check(needs)
    assert result.what_to_change == [
        "mmctl config set TeamSettings.MaxUsersPerTeam 3",
        "mmctl config set TeamSettings.MaxChannelsPerTeam 3",
        "mmctl config set FileSettings.MaxFileSize 60",
    ]
    assert result.revert == [
        "mmctl config set TeamSettings.MaxUsersPerTeam 2",
        "mmctl config set TeamSettings.MaxChannelsPerTeam 2",
        "mmctl config set FileSettings.MaxFileSize 50",
    ]


def test_a_setting_from_the_environment_is_changed_in_the_environment() -> None:
    config, explicit = load_target(env={"MM_TEAMSETTINGS_MAXUSERSPERTEAM": "1"})
    needs = Needs(config)
    add_users(needs, "eng", 2)
    result = check_limits(needs, config, explicit=explicit)
    assert "(from MM_TEAMSETTINGS_MAXUSERSPERTEAM)" in only(result.issues).message
    assert result.what_to_change == [
        "export MM_TEAMSETTINGS_MAXUSERSPERTEAM=2  # in the server's environment"
    ]
    assert result.revert == ["export MM_TEAMSETTINGS_MAXUSERSPERTEAM=1"]
    assert result.limits["max_users_per_team"]["source"] == "env"


def test_to_dict_has_the_limits_and_the_commands() -> None:
    result = check(Needs())
    assert set(result.to_dict()) == {
        "limits",
        "what_to_change",
        "revert",
        "upload_seconds",
        "bandwidth_bps",
    }


def test_every_emitted_code_is_catalogued() -> None:
    needs = Needs(target(max_users_per_team=0, max_file_size=0, enable_file_attachments=False))
    add_users(needs, "eng", 1)
    needs.attachment(1, "post.attachments[0].path", "data/a.png", 1, PNG)
    needs.archive(1, 1)
    issues = check(needs).issues
    assert len(issues) >= 3
    assert {i.code for i in issues} <= set(CODES)


def test_check_limits_refuses_a_target_other_than_the_accumulators() -> None:
    with pytest.raises(ValueError, match="differs"):
        check_limits(Needs(), target(max_users_per_team=5), explicit=True)


@pytest.mark.parametrize(
    ("text", "bits_per_second"),
    [
        ("10Mbit", 10e6),
        ("10M", 10e6),
        ("10 mbps", 10e6),
        ("800kbit/s", 800e3),
        ("2.5MB/s", 20e6),
        ("1MiB/s", 8 * 1024**2),
        ("1Gi", 1024**3),
        ("20", 20),
    ],
)
def test_parse_bandwidth(text: str, bits_per_second: float) -> None:
    assert parse_bandwidth(text) == bits_per_second


@pytest.mark.parametrize("text", ["", "fast", "0", "-5M", "10 Mbit per s"])
def test_parse_bandwidth_refuses_nonsense(text: str) -> None:
    with pytest.raises(UsageError, match="bandwidth"):
        parse_bandwidth(text)
