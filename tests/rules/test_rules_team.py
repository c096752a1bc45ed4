"""Team lines: name (raw bytes, reserved prefix, lowercase regex), display name in runes,
type, description in bytes, scheme; plus the apply-time model rules."""

from __future__ import annotations

from typing import Any

import pytest

from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.team import apply_team, validate_team

CTX = RuleContext()
PREFIX = "app.import.validate_team_import_data."


def team(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "engineering", "display_name": "Engineering", "type": "O"}
    data.update(fields)
    return data


def server_id(data: dict[str, Any]) -> str | None:
    issue = validate_team(data, CTX)
    return None if issue is None else issue.server_error_id


def test_a_minimal_team_is_valid() -> None:
    assert validate_team(team(), CTX) is None
    assert apply_team(team(), CTX) == []


def test_missing_name() -> None:
    issue = validate_team(team(name=None), CTX)
    assert issue is not None
    assert (issue.code, issue.field) == ("missing-field", "team.name")
    assert issue.server_error_id == PREFIX + "name_missing.error"


def test_name_length_is_64_bytes_on_the_raw_value() -> None:
    assert validate_team(team(name="a" * 64), CTX) is None
    issue = validate_team(team(name="a" * 65), CTX)
    assert issue is not None
    assert issue.server_error_id == PREFIX + "name_length.error"
    assert "65 bytes" in issue.message
    assert "at most 64 bytes" in issue.message


@pytest.mark.parametrize("name", ["helpdesk", "postgres", "channels", "apiteam", "Admins"])
def test_reserved_prefixes(name: str) -> None:
    assert server_id(team(name=name)) == PREFIX + "name_reserved.error"


def test_length_is_checked_before_reserved_prefix() -> None:
    assert server_id(team(name="admin" + "a" * 60)) == PREFIX + "name_length.error"


@pytest.mark.parametrize("name", ["a__b", "ab", "a-b-c", "Sales", "a1"])
def test_valid_team_names(name: str) -> None:
    assert validate_team(team(name=name), CTX) is None


@pytest.mark.parametrize("name", ["a_b", "a", "-ab", "ab-", "a-b__c", "a b", "a___b"])
def test_invalid_team_name_characters(name: str) -> None:
    assert server_id(team(name=name)) == PREFIX + "name_characters.error"


def test_display_name_counts_runes_not_bytes() -> None:
    assert validate_team(team(display_name="é" * 64), CTX) is None
    assert server_id(team(display_name="é" * 65)) == PREFIX + "display_name_length.error"
    assert server_id(team(display_name="")) == PREFIX + "display_name_length.error"
    assert server_id(team(display_name=None)) == PREFIX + "display_name_missing.error"


def test_type_must_be_o_or_i() -> None:
    assert validate_team(team(type="I"), CTX) is None
    assert server_id(team(type="o")) == PREFIX + "type_invalid.error"
    assert server_id(team(type=None)) == PREFIX + "type_missing.error"


def test_description_counts_bytes() -> None:
    assert validate_team(team(description="é" * 127 + "a"), CTX) is None  # 255 bytes
    assert server_id(team(description="é" * 128)) == PREFIX + "description_length.error"


def test_scheme_name_syntax() -> None:
    assert validate_team(team(scheme="my_scheme"), CTX) is None
    assert server_id(team(scheme="My Scheme")) == PREFIX + "scheme_invalid.error"


def test_name_fault_wins_over_later_faults() -> None:
    assert server_id(team(name="a_b", display_name="", type="X")) == (
        PREFIX + "name_characters.error"
    )


def test_uppercase_name_passes_the_validator_but_warns_at_apply() -> None:
    issues = apply_team(team(name="Sales"), CTX)
    assert [(i.code, i.severity.value) for i in issues] == [("apply-invalid", "warning")]
    assert "'sales'" in issues[0].message
    # Current servers lowercase the name; only older ones refuse it (the message says which).
    assert "current servers save it lowercased" in issues[0].message
    assert "probably" not in issues[0].message
    assert dict(issues[0].values) == {"name": "Sales", "key": "sales"}


def test_display_name_of_only_stripped_characters_fails_at_apply() -> None:
    issues = apply_team(team(display_name="\u202e\ufeff"), CTX)
    assert [i.server_error_id for i in issues] == ["model.team.is_valid.name.app_error"]
    assert issues[0].effect == "fails-import"
