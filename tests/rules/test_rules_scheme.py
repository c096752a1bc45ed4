"""Scheme lines: scope, role presence, names, then the embedded roles in the server's order."""

from __future__ import annotations

from typing import Any

import pytest

from archivekit.check.rules import vendored
from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.scheme import apply_scheme, validate_scheme

CTX = RuleContext()
PREFIX = "app.import.validate_scheme_import_data."


@pytest.fixture(autouse=True)
def known_permissions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vendored, "permissions", lambda: frozenset({"create_post"}))


def a_role(name: str = "some_role") -> dict[str, Any]:
    return {"name": name, "display_name": "Role"}


def team_scheme(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "scope": "team",
        "name": "my_scheme",
        "display_name": "My scheme",
        "default_team_admin_role": a_role(),
        "default_team_user_role": a_role(),
        "default_channel_admin_role": a_role(),
        "default_channel_user_role": a_role(),
    }
    data.update(fields)
    return data


def channel_scheme(**fields: Any) -> dict[str, Any]:
    data = team_scheme(scope="channel", default_team_admin_role=None, default_team_user_role=None)
    data.update(fields)
    return data


def server_id(data: dict[str, Any]) -> str | None:
    issue = validate_scheme(data, CTX)
    return None if issue is None else issue.server_error_id


def test_complete_team_and_channel_schemes_are_valid() -> None:
    assert validate_scheme(team_scheme(), CTX) is None
    assert validate_scheme(channel_scheme(), CTX) is None
    assert apply_scheme(team_scheme(), CTX) == []


def test_missing_scope_comes_first() -> None:
    issue = validate_scheme(team_scheme(scope=None, name=None), CTX)
    assert issue is not None
    assert issue.code == "missing-field"
    assert issue.server_error_id == PREFIX + "null_scope.error"


def test_unknown_scope() -> None:
    assert server_id(team_scheme(scope="Team")) == PREFIX + "unknown_scheme.error"


def test_team_scheme_needs_the_team_roles() -> None:
    assert server_id(team_scheme(default_team_user_role=None)) == (
        PREFIX + "wrong_roles_for_scope.error"
    )


def test_channel_scheme_must_not_have_team_roles() -> None:
    assert server_id(channel_scheme(default_team_admin_role=a_role())) == (
        PREFIX + "wrong_roles_for_scope.error"
    )


def test_guest_roles_are_optional() -> None:
    assert validate_scheme(channel_scheme(default_team_guest_role=a_role()), CTX) is None


@pytest.mark.parametrize(
    ("name", "valid"),
    [("ab", True), ("a", False), ("a" * 64, True), ("a" * 65, False), ("My_scheme", False)],
)
def test_scheme_name_is_2_to_64_lowercase(name: str, valid: bool) -> None:
    expected = None if valid else PREFIX + "name_invalid.error"
    assert server_id(team_scheme(name=name)) == expected


def test_display_name_and_description_limits() -> None:
    assert validate_scheme(team_scheme(display_name="a" * 128, description="a" * 1024), CTX) is None
    assert server_id(team_scheme(display_name="a" * 129)) == PREFIX + "display_name_invalid.error"
    assert server_id(team_scheme(display_name="")) == PREFIX + "display_name_invalid.error"
    assert server_id(team_scheme(description="a" * 1025)) == PREFIX + "description_invalid.error"


def test_embedded_roles_are_checked_after_the_scheme_fields_and_in_order() -> None:
    data = team_scheme(
        default_team_user_role=a_role("Bad"), default_channel_admin_role=a_role("Worse")
    )
    issue = validate_scheme(data, CTX)
    assert issue is not None
    assert issue.field == "scheme.default_team_user_role.name"
    assert issue.server_error_id == "app.import.validate_role_import_data.name_invalid.error"
    # a scheme-level fault wins over a role fault
    assert server_id({**data, "display_name": ""}) == PREFIX + "display_name_invalid.error"
