"""Channel lines: validator order and limits, plus DM/GM-looking names at apply."""

from __future__ import annotations

from typing import Any

import pytest

from archivekit.check.rules.channel import apply_channel, validate_channel
from archivekit.check.rules.context import RuleContext

CTX = RuleContext()
PREFIX = "app.import.validate_channel_import_data."


def channel(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"team": "engineering", "name": "general", "type": "O"}
    data.update(fields)
    return data


def server_id(data: dict[str, Any]) -> str | None:
    issue = validate_channel(data, CTX)
    return None if issue is None else issue.server_error_id


def test_a_minimal_channel_is_valid() -> None:
    assert validate_channel(channel(), CTX) is None
    assert apply_channel(channel(), CTX) == []


def test_team_is_checked_first() -> None:
    issue = validate_channel(channel(team=None, name=None), CTX)
    assert issue is not None
    assert (issue.code, issue.server_error_id) == ("missing-field", PREFIX + "team_missing.error")


def test_name_length_is_64_bytes() -> None:
    assert validate_channel(channel(name="a" * 64), CTX) is None
    assert server_id(channel(name="a" * 65)) == PREFIX + "name_length.error"
    assert server_id(channel(name=None)) == PREFIX + "name_missing.error"


@pytest.mark.parametrize("name", ["a", "a_", "a-", "a_b", "Town-Square", "0"])
def test_valid_channel_names(name: str) -> None:
    assert validate_channel(channel(name=name), CTX) is None


@pytest.mark.parametrize("name", ["", "_a", "-a", "a b", "a.b", "café"])
def test_invalid_channel_names(name: str) -> None:
    assert server_id(channel(name=name)) == PREFIX + "name_characters.error"


def test_display_name_is_64_runes_and_empty_is_fine() -> None:
    assert validate_channel(channel(display_name="é" * 64), CTX) is None
    assert validate_channel(channel(display_name=""), CTX) is None
    assert server_id(channel(display_name="é" * 65)) == PREFIX + "display_name_length.error"


def test_type_must_be_o_or_p() -> None:
    assert validate_channel(channel(type="P"), CTX) is None
    assert server_id(channel(type="D")) == PREFIX + "type_invalid.error"
    assert server_id(channel(type=None)) == PREFIX + "type_missing.error"


def test_header_and_purpose_count_runes() -> None:
    assert validate_channel(channel(header="é" * 1024, purpose="é" * 250), CTX) is None
    assert server_id(channel(header="é" * 1025)) == PREFIX + "header_length.error"
    assert server_id(channel(purpose="é" * 251)) == PREFIX + "purpose_length.error"


def test_scheme_name_syntax() -> None:
    assert server_id(channel(scheme="x")) == PREFIX + "scheme_invalid.error"


def test_type_fault_is_reported_before_header_fault() -> None:
    assert server_id(channel(type="X", header="a" * 2000)) == PREFIX + "type_invalid.error"


@pytest.mark.parametrize(
    "name", ["a" * 40, "0123456789abcdef0123456789abcdef01234567", "a" * 26 + "__" + "b" * 26]
)
def test_names_that_look_like_dm_or_gm_fail_at_apply(name: str) -> None:
    issues = apply_channel(channel(name=name), CTX)
    assert [i.server_error_id for i in issues] == ["model.channel.is_valid.name.app_error"]


@pytest.mark.parametrize(
    "name", ["ABCDEF0123456789ABCDEF0123456789ABCDEF01", "A" * 26 + "__" + "B" * 26]
)
def test_dm_or_gm_names_are_checked_after_the_importers_lowercasing(name: str) -> None:
    # The importer lowercases the name before Channel.IsValid: 40 uppercase hex digits become
    # a group-message name the server refuses (not only an uppercase warning).
    issues = apply_channel(channel(name=name), CTX)
    assert [(i.severity.value, i.server_error_id) for i in issues][-1] == (
        "error",
        "model.channel.is_valid.name.app_error",
    )
    assert dict(issues[-1].values) == {"found": name, "key": name.lower()}


def test_almost_dm_names_pass_apply() -> None:
    assert apply_channel(channel(name="a" * 39), CTX) == []
    assert apply_channel(channel(name="a" * 26 + "__" + "b" * 25), CTX) == []
