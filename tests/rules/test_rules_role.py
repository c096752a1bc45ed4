"""Role lines: the validator's checks in the server's order, at their limits."""

from __future__ import annotations

from typing import Any

import pytest

from archivekit.check.rules import vendored
from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.role import apply_role, validate_role

CTX = RuleContext()


@pytest.fixture(autouse=True)
def known_permissions(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pin the rule, not the vendored list.
    monkeypatch.setattr(vendored, "permissions", lambda: frozenset({"create_post", "edit_post"}))


def role(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "custom_role", "display_name": "Custom"}
    data.update(fields)
    return data


def server_id(data: dict[str, Any]) -> str | None:
    issue = validate_role(data, CTX)
    return None if issue is None else issue.server_error_id


def test_a_minimal_role_is_valid() -> None:
    assert validate_role(role(), CTX) is None
    assert apply_role(role(), CTX) == []


def test_missing_name_is_a_missing_field() -> None:
    issue = validate_role(role(name=None), CTX)
    assert issue is not None
    assert issue.code == "missing-field"
    assert issue.field == "role.name"
    assert issue.server_error_id == "app.import.validate_role_import_data.name_invalid.error"
    assert issue.effect == "fails-import"


@pytest.mark.parametrize("name", ["a" * 64, "x_1", "0"])
def test_role_names_up_to_64_lowercase_bytes_are_valid(name: str) -> None:
    assert validate_role(role(name=name), CTX) is None


@pytest.mark.parametrize("name", ["a" * 65, "", "Admin", "team-admin", "rôle"])
def test_bad_role_names_are_refused(name: str) -> None:
    assert server_id(role(name=name)) == "app.import.validate_role_import_data.name_invalid.error"


def test_display_name_limit_is_128_bytes() -> None:
    display_id = "app.import.validate_role_import_data.display_name_invalid.error"
    assert validate_role(role(display_name="é" * 64), CTX) is None  # 128 bytes
    assert server_id(role(display_name="é" * 64 + "a")) == display_id  # 129 bytes
    assert server_id(role(display_name="")) == display_id


def test_description_limit_is_1024_bytes() -> None:
    assert validate_role(role(description="é" * 512), CTX) is None
    assert server_id(role(description="é" * 512 + "a")) == (
        "app.import.validate_role_import_data.description_invalid.error"
    )


def test_unknown_permission_points_at_its_index() -> None:
    issue = validate_role(role(permissions=["create_post", "fly"]), CTX)
    assert issue is not None
    assert issue.field == "role.permissions[1]"
    assert "'fly'" in issue.message
    assert issue.server_error_id == "app.import.validate_role_import_data.invalid_permission.error"


def test_name_is_checked_before_display_name() -> None:
    assert server_id(role(name="Bad", display_name="")) == (
        "app.import.validate_role_import_data.name_invalid.error"
    )
