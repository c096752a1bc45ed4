"""`post` lines: the server's validator order and ids, and the save-time (apply) rules."""

from __future__ import annotations

from typing import Any

import pytest

from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.post import apply_post, validate_post
from archivekit.issues import CODES, DROPS_DATA, FAILS_IMPORT, Issue, Severity

CTX = RuleContext()
P = "app.import.validate_post_import_data."
R = "app.import.validate_reply_import_data."
RX = "app.import.validate_reaction_import_data."


def post(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "team": "team",
        "channel": "town-square",
        "user": "alice",
        "message": "hello",
        "create_at": 1000,
    }
    data.update(fields)
    return data


def reply(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"user": "bob", "message": "re", "create_at": 2000}
    data.update(fields)
    return data


def reaction(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"user": "bob", "emoji_name": "thumbsup", "create_at": 2000}
    data.update(fields)
    return data


def failure(data: dict[str, Any], ctx: RuleContext = CTX) -> Issue:
    issue = validate_post(data, ctx)
    assert issue is not None
    assert issue.code in CODES
    assert issue.severity is Severity.ERROR
    assert issue.effect == FAILS_IMPORT
    assert issue.message
    return issue


def applied(data: dict[str, Any]) -> list[Issue]:
    assert validate_post(data, CTX) is None
    issues = apply_post(data, CTX)
    assert all(issue.code in CODES for issue in issues)
    return issues


def test_a_complete_post_passes_both_layers() -> None:
    data = post(
        reactions=[reaction()],
        replies=[reply(reactions=[reaction(create_at=2000)], attachments=[{"path": "a.png"}])],
        props={"from_webhook": "true"},
        attachments=[{"path": "files/a.png"}, {}, {"path": ""}],
        thread_followers=[{"user": "bob", "last_viewed": 5}],
        type="custom_poll",
    )
    assert validate_post(data, CTX) is None
    assert apply_post(data, CTX) == []


@pytest.mark.parametrize("key", ["team", "channel", "user", "message", "create_at"])
def test_required_fields(key: str) -> None:
    data = post()
    data[key] = None
    issue = failure(data)
    assert issue.code == "missing-field"
    assert issue.server_error_id == f"{P}{key}_missing.error"
    assert issue.field == f"post.{key}"


def test_the_first_missing_field_in_server_order_wins() -> None:
    issue = failure(post(team=None, message=None, create_at=0))
    assert issue.server_error_id == P + "team_missing.error"
    issue = failure(post(user=None, channel=None))
    assert issue.server_error_id == P + "channel_missing.error"


def test_message_at_max_post_size_runes_is_valid() -> None:
    # 4-byte characters: 16,383 runes are 65,532 bytes; only runes count.
    assert validate_post(post(message="😀" * 16_383), CTX) is None
    assert validate_post(post(message="é" * 16_383), CTX) is None


def test_message_one_rune_over_max_post_size_is_invalid() -> None:
    issue = failure(post(message="é" * 16_384))
    assert issue.code == "invalid-field"
    assert issue.server_error_id == P + "message_length.error"
    assert issue.field == "post.message"
    assert "16,384" in issue.message
    assert "16,383" in issue.message


def test_message_limit_follows_the_target_servers_max_post_size() -> None:
    small = RuleContext(max_post_size=4000)
    assert validate_post(post(message="x" * 4000), small) is None
    assert failure(post(message="x" * 4001), small).server_error_id == P + "message_length.error"


def test_empty_message_is_valid() -> None:
    assert validate_post(post(message=""), CTX) is None


def test_create_at_zero_is_invalid_but_negative_is_allowed() -> None:
    issue = failure(post(create_at=0))
    assert issue.server_error_id == P + "create_at_zero.error"
    assert issue.field == "post.create_at"
    assert validate_post(post(create_at=-1), CTX) is None


# --- reactions -------------------------------------------------------------------------------


def test_reaction_at_the_posts_time_is_valid_one_ms_earlier_is_not() -> None:
    assert validate_post(post(reactions=[reaction(create_at=1000)]), CTX) is None
    issue = failure(post(reactions=[reaction(), reaction(create_at=999)]))
    assert issue.server_error_id == RX + "create_at_before_parent.error"
    assert issue.field == "post.reactions[1].create_at"
    assert "999" in issue.message
    assert "1000" in issue.message


@pytest.mark.parametrize(
    ("fields", "error_id", "path"),
    [
        ({"user": None}, RX + "user_missing.error", "user"),
        ({"emoji_name": None}, RX + "emoji_name_missing.error", "emoji_name"),
        ({"create_at": None}, RX + "create_at_missing.error", "create_at"),
        ({"create_at": 0}, RX + "create_at_zero.error", "create_at"),
    ],
)
def test_reaction_required_fields(fields: dict[str, Any], error_id: str, path: str) -> None:
    issue = failure(post(reactions=[reaction(**fields)]))
    assert issue.server_error_id == error_id
    assert issue.field == f"post.reactions[0].{path}"


def test_a_null_reaction_element_reports_user_missing() -> None:
    # The decoder turns a null element into {}; Go decodes it as an empty struct.
    assert failure(post(reactions=[{}])).server_error_id == RX + "user_missing.error"


def test_reaction_emoji_name_limit_is_64_runes_in_the_validator() -> None:
    assert validate_post(post(reactions=[reaction(emoji_name="é" * 64)]), CTX) is None
    issue = failure(post(reactions=[reaction(emoji_name="é" * 65)]))
    assert issue.server_error_id == RX + "emoji_name_length.error"
    assert issue.field == "post.reactions[0].emoji_name"


def test_negative_reaction_time_on_a_negative_post_is_fine() -> None:
    assert validate_post(post(create_at=-500, reactions=[reaction(create_at=-1)]), CTX) is None


# --- replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error_id", "path"),
    [
        ({"user": None}, R + "user_missing.error", "user"),
        ({"message": None}, R + "message_missing.error", "message"),
        ({"message": "é" * 16_384}, R + "message_length.error", "message"),
        ({"create_at": None}, R + "create_at_missing.error", "create_at"),
        ({"create_at": 0}, R + "create_at_zero.error", "create_at"),
    ],
)
def test_reply_fields_carry_reply_ids_and_nested_paths(
    fields: dict[str, Any], error_id: str, path: str
) -> None:
    issue = failure(post(replies=[reply(), reply(), reply(**fields)]))
    assert issue.server_error_id == error_id
    assert issue.field == f"post.replies[2].{path}"


def test_reply_message_at_the_limit_is_valid() -> None:
    assert validate_post(post(replies=[reply(message="😀" * 16_383)]), CTX) is None


def test_reply_reactions_are_checked_against_the_replys_time() -> None:
    late_reply = reply(create_at=2000, reactions=[reaction(create_at=1500)])
    issue = failure(post(replies=[late_reply]))
    assert issue.server_error_id == RX + "create_at_before_parent.error"
    assert issue.field == "post.replies[0].reactions[0].create_at"


def test_reply_reaction_before_the_post_but_after_an_early_reply_is_valid() -> None:
    early_reply = reply(create_at=500, reactions=[reaction(create_at=600)])
    assert validate_post(post(replies=[early_reply]), CTX) is None


def test_reply_props_over_the_limit_report_the_post_id() -> None:
    issue = failure(post(replies=[reply(props={"k": "x" * 800_000})]))
    assert issue.server_error_id == P + "props_too_large.error"
    assert issue.field == "post.replies[0].props"


def test_reply_attachment_outside_data_is_wrapped_by_the_reply() -> None:
    issue = failure(post(replies=[reply(attachments=[{"path": "../etc/passwd"}])]))
    assert issue.server_error_id == R + "attachment.error"
    assert issue.field == "post.replies[0].attachments[0].path"
    assert "app.import.validate_attachment_import_data.invalid_path.error" in issue.message


def test_reply_checks_run_in_server_order() -> None:
    # props before reactions before attachments, within one reply
    bad = reply(
        props={"k": "x" * 800_000},
        reactions=[reaction(create_at=0)],
        attachments=[{"path": "../x"}],
    )
    assert failure(post(replies=[bad])).field == "post.replies[0].props"
    bad = reply(reactions=[reaction(create_at=0)], attachments=[{"path": "../x"}])
    assert failure(post(replies=[bad])).field == "post.replies[0].reactions[0].create_at"


# --- props, attachments, thread followers ----------------------------------------------------


def test_props_of_exactly_800000_runes_are_valid() -> None:
    props = {"k": "é" * (800_000 - 8)}  # {"k":"…"} adds 8 runes
    assert validate_post(post(props=props), CTX) is None


def test_props_of_800001_runes_are_too_large() -> None:
    issue = failure(post(props={"k": "é" * (800_001 - 8)}))
    assert issue.server_error_id == P + "props_too_large.error"
    assert issue.field == "post.props"
    assert "800,001" in issue.message


@pytest.mark.parametrize("path", ["../x.png", "a/../../x.png", "..", "../data2/x"])
def test_attachment_paths_escaping_data_fail_the_post(path: str) -> None:
    issue = failure(post(attachments=[{"path": "ok.png"}, {"path": path}]))
    assert issue.code == "invalid-field"
    assert issue.server_error_id == P + "attachment.error"
    assert issue.field == "post.attachments[1].path"
    assert "app.import.validate_attachment_import_data.invalid_path.error" in issue.message


@pytest.mark.parametrize("attachment", [{}, {"path": ""}, {"path": "a/../b.png"}])
def test_blank_or_contained_attachment_paths_pass_the_validator(
    attachment: dict[str, Any],
) -> None:
    assert validate_post(post(attachments=[attachment]), CTX) is None


@pytest.mark.parametrize("follower", [{}, {"user": ""}, {"user": None, "last_viewed": 1}])
def test_thread_follower_without_user(follower: dict[str, Any]) -> None:
    issue = failure(post(thread_followers=[{"user": "bob"}, follower]))
    assert issue.server_error_id == P + "thread_follower.error"
    assert issue.field == "post.thread_followers[1].user"
    assert "app.import.validate_thread_follower_data.user_missing.error" in issue.message


def test_post_checks_run_in_server_order() -> None:
    bad_reaction = [reaction(create_at=0)]
    bad_reply = [reply(user=None)]
    big_props = {"k": "x" * 800_000}
    bad_files = [{"path": "../x"}]
    bad_followers = [{}]
    everything = post(
        reactions=bad_reaction,
        replies=bad_reply,
        props=big_props,
        attachments=bad_files,
        thread_followers=bad_followers,
    )
    assert failure(everything).field == "post.reactions[0].create_at"
    everything["reactions"] = None
    assert failure(everything).field == "post.replies[0].user"
    everything["replies"] = None
    assert failure(everything).field == "post.props"
    everything["props"] = None
    assert failure(everything).field == "post.attachments[0].path"
    everything["attachments"] = None
    assert failure(everything).field == "post.thread_followers[0].user"


def test_create_at_is_checked_before_reactions() -> None:
    assert failure(post(create_at=0, reactions=[{}])).field == "post.create_at"


# --- apply layer -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "post_type", ["", "system_join_channel", "slack_attachment", "me", "custom_", "custom_poll"]
)
def test_allowed_post_types(post_type: str) -> None:
    assert applied(post(type=post_type)) == []


@pytest.mark.parametrize("post_type", ["bogus", "Custom_poll", "SYSTEM_GENERIC", "system_"])
def test_unknown_post_types_fail_when_saved(post_type: str) -> None:
    [issue] = applied(post(type=post_type))
    assert issue.code == "apply-invalid"
    assert issue.server_error_id == "model.post.is_valid.type.app_error"
    assert issue.field == "post.type"
    assert issue.effect == FAILS_IMPORT


def test_types_of_newer_servers_are_refused_with_a_hint() -> None:
    [issue] = applied(post(type="card"))
    assert "Newer servers" in issue.message


def test_reply_type_is_checked_too() -> None:
    [issue] = applied(post(replies=[reply(type="bogus")]))
    assert issue.field == "post.replies[0].type"


def files(count: int) -> list[dict[str, Any]]:
    return [{"path": f"f{i}.png"} for i in range(count)]


def test_ten_files_fit_on_a_post() -> None:
    assert applied(post(attachments=files(10), replies=[reply(attachments=files(10))])) == []


def test_eleven_files_do_not_fit_on_a_post() -> None:
    [issue] = applied(post(attachments=files(11)))
    assert issue.code == "too-many-files"
    assert issue.severity is Severity.ERROR
    assert issue.server_error_id == "model.post.is_valid.file_ids.app_error"
    assert issue.field == "post.attachments"
    assert "upload" in issue.message


def test_eleven_files_on_a_reply() -> None:
    [issue] = applied(post(replies=[reply(), reply(attachments=files(11))]))
    assert issue.field == "post.replies[1].attachments"


def test_attachments_without_a_path_never_upload_and_do_not_count() -> None:
    assert applied(post(attachments=[*files(10), {}, {"path": ""}])) == []


@pytest.mark.parametrize("name", ["thumbsup", "+1", "a_b-c", "X" * 64, "0"])
def test_valid_reaction_emoji_names(name: str) -> None:
    assert applied(post(reactions=[reaction(emoji_name=name)])) == []


@pytest.mark.parametrize("name", ["", "👍", "a b", "é" * 64, "a:b", "thumbs\n"])
def test_reaction_emoji_names_the_server_refuses_on_save(name: str) -> None:
    [issue] = applied(post(reactions=[reaction(emoji_name=name)]))
    assert issue.code == "apply-invalid"
    assert issue.server_error_id == "model.reaction.is_valid.emoji_name.app_error"
    assert issue.field == "post.reactions[0].emoji_name"


def test_reply_reaction_emoji_is_checked_with_its_path() -> None:
    [issue] = applied(post(replies=[reply(reactions=[reaction(emoji_name="👍")])]))
    assert issue.field == "post.replies[0].reactions[0].emoji_name"


def test_reply_older_than_its_post_is_a_warning_about_the_clamp() -> None:
    [issue] = applied(post(create_at=1000, replies=[reply(create_at=999)]))
    assert issue.code == "reply-before-parent"
    assert issue.severity is Severity.WARNING
    assert issue.effect not in (FAILS_IMPORT, DROPS_DATA)
    assert issue.field == "post.replies[0].create_at"
    assert "1000" in issue.message


def test_reply_at_the_posts_time_is_not_a_warning() -> None:
    assert applied(post(create_at=1000, replies=[reply(create_at=1000)])) == []


def test_apply_reports_every_independent_problem() -> None:
    data = post(type="bogus", attachments=files(11), reactions=[reaction(emoji_name="")])
    assert {issue.field for issue in applied(data)} == {
        "post.type",
        "post.attachments",
        "post.reactions[0].emoji_name",
    }
