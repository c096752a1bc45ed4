"""Emoji lines: order name → image → path → name syntax → system emoji (skipped, not fatal)."""

from __future__ import annotations

from typing import Any

import pytest

from archivekit.check.rules import vendored
from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.emoji import apply_emoji, validate_emoji

CTX = RuleContext()
PREFIX = "app.import.validate_emoji_import_data."


@pytest.fixture(autouse=True)
def system_emojis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vendored, "system_emojis", lambda: frozenset({"smile", "+1"}))


def emoji(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "party_parrot", "image": "emoji/parrot.gif"}
    data.update(fields)
    return data


def server_id(data: dict[str, Any]) -> str | None:
    issue = validate_emoji(data, CTX)
    return None if issue is None else issue.server_error_id


def test_a_custom_emoji_is_valid() -> None:
    assert validate_emoji(emoji(), CTX) is None
    assert apply_emoji(emoji(), CTX) == []


def test_empty_name_is_missing_and_comes_before_the_image() -> None:
    assert server_id(emoji(name="", image=None)) == PREFIX + "name_missing.error"
    assert server_id(emoji(image="")) == PREFIX + "image_missing.error"


def test_image_path_traversal_is_checked_before_the_name_syntax() -> None:
    issue = validate_emoji(emoji(image="../x.png", name="bad name"), CTX)
    assert issue is not None
    assert issue.server_error_id == PREFIX + "invalid_image_path.error"
    assert "'../x.png'" in issue.message


def test_name_is_64_bytes_of_the_allowed_characters() -> None:
    assert validate_emoji(emoji(name="A+b-c_" + "x" * 58), CTX) is None
    assert server_id(emoji(name="x" * 65)) == "model.emoji.name.app_error"
    assert server_id(emoji(name="smile!")) == "model.emoji.name.app_error"


def test_system_emoji_name_drops_the_emoji() -> None:
    issue = validate_emoji(emoji(name="+1"), CTX)
    assert issue is not None
    assert (issue.code, issue.severity.value, issue.effect) == (
        "system-emoji-name",
        "error",
        "drops-data",
    )
    assert issue.server_error_id == "model.emoji.system_emoji_name.app_error"


def test_system_emoji_names_are_case_sensitive() -> None:
    assert validate_emoji(emoji(name="Smile"), CTX) is None
