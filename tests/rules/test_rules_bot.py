"""Bot lines: user error ids reused; owner checked without lowercasing."""

from __future__ import annotations

from typing import Any

from archivekit.check.rules.bot import apply_bot, validate_bot
from archivekit.check.rules.context import RuleContext

CTX = RuleContext()
USER = "app.import.validate_user_import_data."


def bot(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"username": "helper-bot", "owner": "alice"}
    data.update(fields)
    return data


def server_id(data: dict[str, Any]) -> str | None:
    issue = validate_bot(data, CTX)
    return None if issue is None else issue.server_error_id


def test_a_minimal_bot_is_valid() -> None:
    assert validate_bot(bot(), CTX) is None
    assert apply_bot(bot(), CTX) == []


def test_username_is_lowercased_but_owner_is_not() -> None:
    assert validate_bot(bot(username="Helper"), CTX) is None
    issue = validate_bot(bot(owner="Alice"), CTX)
    assert issue is not None
    assert (issue.field, issue.server_error_id) == ("bot.owner", USER + "username_invalid.error")


def test_missing_owner_has_its_own_id() -> None:
    assert server_id(bot(owner=None)) == "app.import.validate_bot_import_data.owner_missing.error"


def test_display_name_reuses_the_first_name_id() -> None:
    assert validate_bot(bot(display_name="é" * 64), CTX) is None
    assert server_id(bot(display_name="é" * 65)) == USER + "first_name_length.error"


def test_profile_image_traversal_comes_first() -> None:
    issue = validate_bot(bot(profile_image="../../etc/passwd", username=None), CTX)
    assert issue is not None
    assert issue.server_error_id == USER + "invalid_image_path.error"
    assert "../../etc/passwd" in issue.message


def test_description_is_1024_runes_at_apply() -> None:
    assert apply_bot(bot(description="é" * 1024), CTX) == []
    issues = apply_bot(bot(description="é" * 1025), CTX)
    assert [i.server_error_id for i in issues] == ["model.bot.is_valid.description.app_error"]
