"""`direct_channel` and `direct_post` lines: validator order and ids, skips, and apply crashes."""

from __future__ import annotations

from typing import Any

import pytest

from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.direct import (
    apply_direct_channel,
    apply_direct_post,
    validate_direct_channel,
    validate_direct_post,
)
from archivekit.issues import CODES, DROPS_DATA, FAILS_IMPORT, Issue, Severity

CTX = RuleContext()
DC = "app.import.validate_direct_channel_import_data."
DP = "app.import.validate_direct_post_import_data."
R = "app.import.validate_reply_import_data."
RX = "app.import.validate_reaction_import_data."


def users(count: int) -> list[str]:
    return [f"user{i}" for i in range(count)]


def participants(*names: str | None) -> list[dict[str, Any] | None]:
    return [{"username": name} if name is not None else None for name in names]


def channel_failure(data: dict[str, Any]) -> Issue:
    issue = validate_direct_channel(data, CTX)
    assert issue is not None
    assert issue.code in CODES
    assert issue.severity is Severity.ERROR
    assert issue.message
    return issue


def direct_post(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel_members": ["alice", "bob"],
        "user": "alice",
        "message": "hi",
        "create_at": 1000,
    }
    data.update(fields)
    return data


def post_failure(data: dict[str, Any]) -> Issue:
    issue = validate_direct_post(data, CTX)
    assert issue is not None
    assert issue.code in CODES
    assert issue.severity is Severity.ERROR
    assert issue.effect == FAILS_IMPORT
    return issue


# --- direct_channel: validator ---------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize("key", ["members", "participants"])
def test_two_or_three_to_eight_members_are_valid(key: str, count: int) -> None:
    value = users(count) if key == "members" else participants(*users(count))
    assert validate_direct_channel({key: value}, CTX) is None


def test_the_same_user_twice_is_a_valid_self_dm() -> None:
    assert validate_direct_channel({"members": ["alice", "alice"]}, CTX) is None


@pytest.mark.parametrize(
    ("count", "error_id"),
    [(0, "members_too_few.error"), (1, "members_too_few.error"), (9, "members_too_many.error")],
)
@pytest.mark.parametrize("key", ["members", "participants"])
def test_other_sizes_make_the_server_skip_the_line(key: str, count: int, error_id: str) -> None:
    value = users(count) if key == "members" else participants(*users(count))
    issue = channel_failure({key: value})
    assert issue.code == "direct-channel-skipped"
    assert issue.effect == DROPS_DATA
    assert issue.server_error_id == DC + error_id
    assert issue.field == f"direct_channel.{key}"


def test_null_participants_still_count_towards_the_size() -> None:
    assert validate_direct_channel({"participants": participants("a", None)}, CTX) is None


def test_members_or_participants_are_required() -> None:
    issue = channel_failure({"header": "x"})
    assert issue.code == "missing-field"
    assert issue.server_error_id == DC + "members_required.error"
    assert issue.effect == FAILS_IMPORT


def test_count_rule_applies_to_each_present_array_participants_first() -> None:
    both = {"participants": participants("a", "b"), "members": users(9)}
    assert channel_failure(both).field == "direct_channel.members"
    both = {"participants": participants("a"), "members": users(9)}
    issue = channel_failure(both)
    assert issue.field == "direct_channel.participants"
    assert issue.server_error_id == DC + "members_too_few.error"


def test_header_of_1024_runes_is_valid_1025_is_not() -> None:
    assert validate_direct_channel({"members": users(2), "header": "😀" * 1024}, CTX) is None
    issue = channel_failure({"members": users(2), "header": "😀" * 1025})
    assert issue.code == "invalid-field"
    assert issue.server_error_id == DC + "header_length.error"
    assert issue.field == "direct_channel.header"


def test_size_is_checked_before_the_header() -> None:
    issue = channel_failure({"members": users(1), "header": "x" * 2000})
    assert issue.code == "direct-channel-skipped"


def test_favoriters_must_be_members_exactly() -> None:
    assert (
        validate_direct_channel({"members": ["Alice", "bob"], "favorited_by": ["Alice"]}, CTX)
        is None
    )
    issue = channel_failure({"members": ["Alice", "bob"], "favorited_by": ["bob", "alice"]})
    assert issue.server_error_id == DC + "unknown_favoriter.error"
    assert issue.field == "direct_channel.favorited_by[1]"
    assert "'alice'" in issue.message


def test_favoriters_may_be_participants_or_members() -> None:
    data = {
        "participants": participants("alice", "bob"),
        "members": ["carol", "dave"],
        "favorited_by": ["bob", "carol"],
    }
    assert validate_direct_channel(data, CTX) is None


def test_header_is_checked_before_favoriters() -> None:
    data = {"members": users(2), "header": "x" * 1025, "favorited_by": ["nobody"]}
    assert channel_failure(data).field == "direct_channel.header"


def test_null_participant_reached_by_the_favoriter_scan_crashes_the_validator() -> None:
    data = {"participants": participants("alice", None, "bob"), "favorited_by": ["bob"]}
    issue = channel_failure(data)
    assert issue.field == "direct_channel.participants[1]"
    assert issue.effect == FAILS_IMPORT
    assert "crash" in issue.message


def test_participant_without_username_crashes_the_favoriter_scan_too() -> None:
    data = {"participants": [{"username": "alice"}, {}], "favorited_by": ["bob"]}
    assert channel_failure(data).field == "direct_channel.participants[1]"


def test_favoriter_matched_before_a_null_participant_passes_the_validator() -> None:
    data = {"participants": participants("alice", None), "favorited_by": ["alice"]}
    assert validate_direct_channel(data, CTX) is None
    [issue] = apply_direct_channel(data, CTX)
    assert issue.code == "apply-invalid"
    assert issue.field == "direct_channel.participants[1]"


# --- direct_channel: apply -------------------------------------------------------------------


def test_a_clean_direct_channel_applies_without_issues() -> None:
    data = {
        "participants": participants("alice", "bob"),
        "shown_by": ["ALICE", "bob"],
        "favorited_by": ["alice"],
    }
    assert validate_direct_channel(data, CTX) is None
    assert apply_direct_channel(data, CTX) == []


def test_null_participants_crash_the_import() -> None:
    data = {"participants": [None, {"username": "bob"}, {"notify_props": {}}]}
    issues = apply_direct_channel(data, CTX)
    assert [issue.field for issue in issues] == [
        "direct_channel.participants[0]",
        "direct_channel.participants[2]",
    ]
    assert all(issue.effect == FAILS_IMPORT for issue in issues)


def test_shown_by_outside_the_channel_crashes_the_import() -> None:
    data = {"members": ["alice", "bob"], "shown_by": ["bob", "carol"]}
    [issue] = apply_direct_channel(data, CTX)
    assert issue.field == "direct_channel.shown_by[1]"
    assert issue.severity is Severity.ERROR


def test_participants_win_over_members_for_shown_by() -> None:
    data = {
        "participants": participants("alice", "bob"),
        "members": ["carol"],
        "shown_by": ["carol"],
    }
    [issue] = apply_direct_channel(data, CTX)
    assert issue.field == "direct_channel.shown_by[0]"


# --- direct_post: validator ------------------------------------------------------------------


def test_a_complete_direct_post_passes_both_layers() -> None:
    data = direct_post(
        flagged_by=["bob"],
        reactions=[{"user": "bob", "emoji_name": "+1", "create_at": 1000}],
        replies=[{"user": "bob", "message": "re", "create_at": 1001}],
        attachments=[{"path": "x.png"}],
        thread_followers=[{"user": "bob"}],
        props={"k": "v"},
    )
    assert validate_direct_post(data, CTX) is None
    assert apply_direct_post(data, CTX) == []


def test_channel_members_are_required() -> None:
    issue = post_failure(direct_post(channel_members=None))
    assert issue.code == "missing-field"
    assert issue.server_error_id == DP + "channel_members_required.error"


@pytest.mark.parametrize("count", [2, 3, 8])
def test_direct_post_member_counts_that_are_valid(count: int) -> None:
    assert validate_direct_post(direct_post(channel_members=users(count)), CTX) is None


@pytest.mark.parametrize(
    ("count", "error_id"),
    [
        (0, "channel_members_too_few.error"),
        (1, "channel_members_too_few.error"),
        (9, "channel_members_too_many.error"),
    ],
)
def test_direct_post_member_counts_are_fatal(count: int, error_id: str) -> None:
    issue = post_failure(direct_post(channel_members=users(count)))
    assert issue.code == "invalid-field"
    assert issue.server_error_id == DP + error_id
    assert issue.field == "direct_post.channel_members"


@pytest.mark.parametrize(
    ("fields", "error_id", "field"),
    [
        ({"user": None}, DP + "user_missing.error", "direct_post.user"),
        ({"message": None}, DP + "message_missing.error", "direct_post.message"),
        ({"message": "é" * 16_384}, DP + "message_length.error", "direct_post.message"),
        ({"create_at": None}, DP + "create_at_missing.error", "direct_post.create_at"),
        ({"create_at": 0}, DP + "create_at_zero.error", "direct_post.create_at"),
    ],
)
def test_direct_post_fields_carry_direct_post_ids(
    fields: dict[str, Any], error_id: str, field: str
) -> None:
    issue = post_failure(direct_post(**fields))
    assert issue.server_error_id == error_id
    assert issue.field == field


def test_direct_post_message_at_the_limit_and_negative_time_are_valid() -> None:
    assert validate_direct_post(direct_post(message="😀" * 16_383, create_at=-1), CTX) is None


def test_flaggers_must_be_channel_members_exactly() -> None:
    issue = post_failure(direct_post(flagged_by=["alice", "Bob"]))
    assert issue.server_error_id == DP + "unknown_flagger.error"
    assert issue.field == "direct_post.flagged_by[1]"


def test_direct_post_checks_run_in_server_order() -> None:
    data = direct_post(
        channel_members=users(1), user=None, message=None, create_at=0, flagged_by=["x"]
    )
    assert post_failure(data).field == "direct_post.channel_members"
    data["channel_members"] = ["x", "y"]
    assert post_failure(data).field == "direct_post.user"
    data["user"] = "x"
    assert post_failure(data).field == "direct_post.message"
    data["message"] = ""
    assert post_failure(data).field == "direct_post.create_at"
    data["create_at"] = 5
    data["flagged_by"] = ["z"]
    data["reactions"] = [{}]
    assert post_failure(data).field == "direct_post.flagged_by[0]"
    data["flagged_by"] = None
    data["replies"] = [{}]
    assert post_failure(data).field == "direct_post.reactions[0].user"
    data["reactions"] = None
    data["attachments"] = [{"path": "../x"}]
    assert post_failure(data).field == "direct_post.replies[0].user"
    data["replies"] = None
    data["thread_followers"] = [{}]
    assert post_failure(data).field == "direct_post.attachments[0].path"
    data["attachments"] = None
    assert post_failure(data).field == "direct_post.thread_followers[0].user"


def test_nested_errors_keep_their_own_ids_and_wrappers() -> None:
    reply = {"user": "bob", "message": "re", "create_at": 0}
    assert post_failure(direct_post(replies=[reply])).server_error_id == R + "create_at_zero.error"
    late = {"user": "bob", "emoji_name": "x", "create_at": 999}
    issue = post_failure(direct_post(reactions=[late]))
    assert issue.server_error_id == RX + "create_at_before_parent.error"
    issue = post_failure(direct_post(attachments=[{"path": "../x"}]))
    assert issue.server_error_id == DP + "attachment.error"
    issue = post_failure(direct_post(thread_followers=[{"user": ""}]))
    assert issue.server_error_id == DP + "thread_follower.error"


def test_direct_post_props_are_not_measured_by_the_validator() -> None:
    assert validate_direct_post(direct_post(props={"k": "x" * 900_000}), CTX) is None


# --- direct_post: apply ----------------------------------------------------------------------


def test_direct_post_props_of_800000_runes_save() -> None:
    assert apply_direct_post(direct_post(props={"k": "é" * (800_000 - 8)}), CTX) == []


def test_direct_post_props_of_800001_runes_fail_on_save() -> None:
    [issue] = apply_direct_post(direct_post(props={"k": "é" * (800_001 - 8)}), CTX)
    assert issue.code == "apply-invalid"
    assert issue.server_error_id == "model.post.is_valid.props.app_error"
    assert issue.field == "direct_post.props"


def test_direct_post_shares_the_post_save_rules() -> None:
    data = direct_post(
        type="bogus",
        attachments=[{"path": f"{i}.png"} for i in range(11)],
        replies=[{"user": "bob", "message": "re", "create_at": 999, "type": "nope"}],
    )
    issues = apply_direct_post(data, CTX)
    assert {(issue.code, issue.field) for issue in issues} == {
        ("apply-invalid", "direct_post.type"),
        ("too-many-files", "direct_post.attachments"),
        ("apply-invalid", "direct_post.replies[0].type"),
        ("reply-before-parent", "direct_post.replies[0].create_at"),
    }
    assert all(issue.code in CODES for issue in issues)


# --- a group that lists a user twice ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"members": ["alice", "bob", "alice"]}, "direct_channel.members[2]"),
        ({"members": ["alice", "bob", "carol", "ALICE"]}, "direct_channel.members[3]"),
        (
            {"participants": participants("alice", "bob", "Bob")},
            "direct_channel.participants[2].username",
        ),
    ],
)
def test_a_group_channel_listing_a_user_twice_fails_the_import(
    data: dict[str, Any], field: str
) -> None:
    # importDirectChannel builds the ids through its lowercased user map, duplicates kept;
    # createGroupChannel finds fewer users than ids and refuses the group.
    assert validate_direct_channel(data, CTX) is None
    [issue] = apply_direct_channel(data, CTX)
    assert (issue.code, issue.field, issue.effect) == ("apply-invalid", field, FAILS_IMPORT)
    assert issue.server_error_id == "app.import.import_direct_channel.create_group_channel.error"
    assert "api.channel.create_group.bad_user.app_error" in issue.message
    assert issue.values["first_index"] in (0, 1)


def test_a_group_reduced_to_two_users_says_it_is_a_direct_message() -> None:
    [issue] = apply_direct_channel({"members": ["alice", "bob", "alice"]}, CTX)
    assert "write it as a direct message" in issue.message


def test_a_self_dm_and_distinct_members_are_fine() -> None:
    assert apply_direct_channel({"members": ["alice", "alice"]}, CTX) == []
    assert apply_direct_channel({"members": ["alice", "bob", "carol"]}, CTX) == []


def test_a_direct_post_listing_a_user_twice_fails_the_import() -> None:
    data = direct_post(channel_members=["alice", "bob", "alice"])
    assert validate_direct_post(data, CTX) is None
    [issue] = apply_direct_post(data, CTX)
    assert issue.field == "direct_post.channel_members[2]"
    assert issue.server_error_id == "app.import.import_direct_post.create_group_channel.error"
    assert apply_direct_post(direct_post(channel_members=["alice", "alice"]), CTX) == []
