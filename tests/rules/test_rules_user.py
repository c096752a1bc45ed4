"""User lines: the validator in the server's order (§4.5), memberships, preferences, and the
apply-time rules (email syntax, locale, roles length, password policy, preference values)."""

from __future__ import annotations

from typing import Any

import pytest

from archivekit.check.rules.context import PasswordPolicy, RuleContext
from archivekit.check.rules.user import apply_user, is_valid_email, is_valid_theme, validate_user

CTX = RuleContext()
USER = "app.import.validate_user_import_data."
TEAMS = "app.import.validate_user_teams_import_data."
CHANNELS = "app.import.validate_user_channels_import_data."


def user(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"username": "alice", "email": "alice@example.com"}
    data.update(fields)
    return data


def membership(roles: str | None = None, **channels: str | None) -> dict[str, Any]:
    team: dict[str, Any] = {"name": "engineering", "roles": roles}
    if channels:
        team["channels"] = [{"name": name, "roles": r} for name, r in channels.items()]
    return team


def server_id(data: dict[str, Any]) -> str | None:
    issue = validate_user(data, CTX)
    return None if issue is None else issue.server_error_id


def apply_ids(data: dict[str, Any], ctx: RuleContext = CTX) -> list[str | None]:
    return [i.server_error_id for i in apply_user(data, ctx)]


def test_a_minimal_user_is_valid() -> None:
    assert validate_user(user(), CTX) is None
    assert apply_user(user(), CTX) == []


# --- username / email ----------------------------------------------------------------------------
def test_username_is_lowercased_then_1_to_64_bytes() -> None:
    assert validate_user(user(username="Alice.Smith-2_x"), CTX) is None
    assert validate_user(user(username="a" * 64), CTX) is None
    assert server_id(user(username="a" * 65)) == USER + "username_invalid.error"
    assert server_id(user(username=None)) == USER + "username_missing.error"


@pytest.mark.parametrize("name", ["", "all", "System", "bob smith", "bob@x", "élodie"])
def test_invalid_usernames(name: str) -> None:
    assert server_id(user(username=name)) == USER + "username_invalid.error"


def test_dotted_capital_i_lowercases_like_go() -> None:
    # Go maps U+0130 to a plain "i"; Python's str.lower would add a combining dot.
    assert validate_user(user(username="\u0130van"), CTX) is None


def test_email_length() -> None:
    local = "a" * (128 - len("@example.com"))
    assert validate_user(user(email=local + "@example.com"), CTX) is None
    assert server_id(user(email="a" + local + "@example.com")) == USER + "email_length.error"
    assert server_id(user(email="")) == USER + "email_length.error"
    assert server_id(user(email=None)) == USER + "email_missing.error"


def test_profile_image_traversal_is_the_first_check() -> None:
    issue = validate_user(user(profile_image="../secret.png", username=None), CTX)
    assert issue is not None
    assert issue.server_error_id == USER + "invalid_image_path.error"
    assert "'../secret.png'" in issue.message


# --- auth ----------------------------------------------------------------------------------------
def test_auth_data_and_password_even_empty_are_exclusive() -> None:
    assert server_id(user(auth_data="", password="")) == USER + "auth_data_and_password.error"


def test_auth_data_length_is_128_bytes() -> None:
    assert validate_user(user(auth_service="ldap", auth_data="a" * 128), CTX) is None
    assert server_id(user(auth_service="ldap", auth_data="a" * 129)) == (
        USER + "auth_data_length.error"
    )


def test_auth_service_and_auth_data_go_together() -> None:
    dependency = USER + "auth_data_and_service_dependency.error"
    assert server_id(user(auth_service="saml")) == dependency
    assert server_id(user(auth_data="x")) == dependency
    assert validate_user(user(auth_service="", auth_data=""), CTX) is None


def test_unknown_auth_service_uses_the_odd_teams_id() -> None:
    assert server_id(user(auth_service="github", auth_data="x")) == (
        TEAMS + "invalid_auth_service.error"
    )


def test_password_is_1_to_72_bytes() -> None:
    assert validate_user(user(password="é" * 36), CTX) is None
    assert server_id(user(password="é" * 36 + "a")) == USER + "password_length.error"
    assert server_id(user(password="")) == USER + "password_length.error"


# --- profile lengths -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "limit"), [("nickname", 64), ("first_name", 64), ("last_name", 64), ("position", 128)]
)
def test_profile_fields_count_runes(key: str, limit: int) -> None:
    assert validate_user(user(**{key: "é" * limit}), CTX) is None
    assert server_id(user(**{key: "é" * (limit + 1)})) == USER + f"{key}_length.error"


def test_nickname_is_checked_before_position() -> None:
    assert server_id(user(nickname="a" * 65, position="a" * 129)) == USER + "nickname_length.error"


# --- roles ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("roles", ["system_user", "system_user system_admin", " system_user\t"])
def test_valid_roles(roles: str) -> None:
    assert validate_user(user(roles=roles), CTX) is None


@pytest.mark.parametrize("roles", ["system_admin", "System_User", "system-user", "a" * 65])
def test_invalid_roles(roles: str) -> None:
    assert server_id(user(roles=roles)) == USER + "roles_invalid.error"


# --- guest consistency ---------------------------------------------------------------------------
def test_system_guest_needs_team_guest_everywhere() -> None:
    data = user(roles="system_guest", teams=[membership("team_guest"), membership("team_user")])
    issue = validate_user(data, CTX)
    assert issue is not None
    assert issue.server_error_id == USER + "system_guest_missing_team_guest_roles.error"
    assert "1 of 2" in issue.message


def test_system_guest_needs_channel_guest_everywhere() -> None:
    data = user(roles="system_guest", teams=[membership("team_guest", a="channel_user")])
    assert server_id(data) == USER + "system_guest_missing_channel_guest_roles.error"


def test_consistent_guest_is_valid() -> None:
    data = user(roles="system_guest", teams=[membership("team_guest", a="channel_guest")])
    assert validate_user(data, CTX) is None


def test_all_team_guest_without_system_guest() -> None:
    data = user(roles="system_user", teams=[membership("team_guest")])
    assert server_id(data) == USER + "team_guest_missing_system_guest_role.error"


def test_all_channel_guest_without_system_guest() -> None:
    data = user(roles="system_user", teams=[membership("team_user", a="channel_guest")])
    assert server_id(data) == USER + "channel_guest_missing_system_guest_role.error"


def test_partial_guest_roles_pass_and_no_roles_skips_the_check() -> None:
    partial = [membership("team_guest"), membership("team_user")]
    assert validate_user(user(roles="system_user", teams=partial), CTX) is None
    assert validate_user(user(teams=[membership("team_guest")]), CTX) is None


# --- notify props and preferences ----------------------------------------------------------------
def test_notify_props_in_server_order() -> None:
    data = user(notify_props={"desktop": "sometimes", "comments": "nope"})
    assert server_id(data) == USER + "notify_props_desktop_invalid.error"
    assert server_id(user(notify_props={"comments": "nope"})) == (
        USER + "notify_props_comments_trigger_invalid.error"
    )
    assert server_id(user(notify_props={"channel": "True"})) == (
        USER + "notify_props_channel_trigger_invalid.error"
    )


def test_validated_preferences_are_case_sensitive() -> None:
    assert server_id(user(formatting="True")) == USER + "advanced_props_formatting.error"
    assert server_id(user(email_interval="daily")) == USER + "advanced_props_email_interval.error"
    assert validate_user(user(show_unread_section="false", email_interval="hour"), CTX) is None


# --- memberships ---------------------------------------------------------------------------------
def test_team_membership_rules() -> None:
    assert server_id(user(teams=[{"roles": "team_user"}])) == TEAMS + "team_name_missing.error"
    assert server_id(user(teams=[membership("Team_User")])) == TEAMS + "invalid_roles.error"


def test_channel_membership_rules_come_before_the_team_theme() -> None:
    team = membership(None, a="channel_user")
    team["theme"] = "not json"
    team["channels"][0]["notify_props"] = {"mark_unread": "none"}
    issue = validate_user(user(teams=[team]), CTX)
    assert issue is not None
    assert issue.field == "user.teams[0].channels[0].notify_props.mark_unread"
    assert issue.server_error_id == CHANNELS + "invalid_notify_props_mark_unread.error"


def test_team_theme() -> None:
    theme_id = TEAMS + "invalid_team_theme.error"
    assert (
        validate_user(user(teams=[{**membership(), "theme": ' \t{"a": "b"} trailing'}]), CTX)
        is None
    )
    assert validate_user(user(teams=[{**membership(), "theme": " \t\r"}]), CTX) is None
    assert server_id(user(teams=[{**membership(), "theme": '{"a": 1}'}])) == theme_id
    assert server_id(user(teams=[{**membership(), "theme": "[]"}])) == theme_id


@pytest.mark.parametrize(
    ("theme", "valid"),
    [("null", True), ('\n{"a":"b"}', True), ('"x"', False), ('{"a":{}}', False), ("{", False)],
)
def test_theme_decoding_matches_go(theme: str, valid: bool) -> None:
    assert is_valid_theme(theme) is valid


# --- apply ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "email", ["a@b.c", "First.Last@Example.COM", "a@localhost", "a@[1.2.3.4]", "ß@b.c"]
)
def test_valid_emails_at_apply(email: str) -> None:
    assert apply_user(user(email=email), CTX) == []


@pytest.mark.parametrize(
    "email",
    [
        "plainaddress",
        "a@@b.c",
        "Bob <a@b.c>",
        "a b@c.d",
        "a@b..c",
        ".a@b.c",
        "a@b.c (Bob)",
        '"a@b"@c.d',
        "a@[1.2.3]",
        # The current server compares the parsed address with the input (the importer
        # lowercases but does not trim): all of these parse, none is equal to its address.
        "<alice@example.com>",
        '"bob"@example.com',
        " carol@example.com",
        "dave@example.com ",
        "erin@ example.com",
        "frank@example.com()",
    ],
)
def test_invalid_emails_at_apply(email: str) -> None:
    issues = apply_user(user(email=email), CTX)
    assert [i.server_error_id for i in issues] == ["model.user.is_valid.email.app_error"]
    assert issues[0].values["found"] == email
    assert issues[0].values["reason"] in issues[0].message


def test_email_is_checked_after_the_importers_lowercasing() -> None:
    assert is_valid_email("a@b.c ()") is False
    assert is_valid_email("A@b.c") is False  # IsValidEmail itself wants lowercase...
    assert apply_user(user(email="A@B.C"), CTX) == []  # ...which the importer makes it


@pytest.mark.parametrize("locale", ["en", "pt_BR", "zh-TW", "es_US", ""])
def test_valid_locales(locale: str) -> None:
    assert apply_user(user(locale=locale), CTX) == []


@pytest.mark.parametrize("locale", ["en-US-x", "english", "e", "en_b"])
def test_invalid_locales(locale: str) -> None:
    assert apply_ids(user(locale=locale)) == ["model.user.is_valid.locale.app_error"]


def test_roles_string_is_at_most_256_bytes_at_apply() -> None:
    roles_256 = " ".join(["a" * 63] * 3 + ["a" * 64])
    roles_257 = " ".join(["a" * 63] * 4 + ["a"])
    assert (len(roles_256), len(roles_257)) == (256, 257)
    assert apply_user(user(roles=roles_256), CTX) == []
    assert apply_ids(user(roles=roles_257)) == ["model.user.is_valid.roles_limit.app_error"]


def test_password_policy_minimum_length() -> None:
    assert apply_user(user(password="12345678"), CTX) == []
    assert apply_ids(user(password="1234567")) == ["model.user.is_valid.pwd_min_length.app_error"]


def test_password_policy_character_classes_accumulate() -> None:
    strict = RuleContext(password=PasswordPolicy(uppercase=True, number=True, symbol=True))
    assert apply_user(user(password="Abcdefg1!"), strict) == []
    assert apply_ids(user(password="abcdefgh"), strict) == [
        "model.user.is_valid.pwd_uppercase_number_symbol.app_error"
    ]
    # "{" is not one of the server's symbols
    assert apply_ids(user(password="Abcdefg1{"), strict) == [
        "model.user.is_valid.pwd_symbol.app_error"
    ]


def test_preference_values_at_apply() -> None:
    assert apply_user(user(theme='{"sidebarBg": "#fff"}', limit_visible_dms_gms="40"), CTX) == []
    assert apply_ids(user(theme="dark")) == ["app.import.import_user.save_preferences.error"]
    assert apply_ids(user(limit_visible_dms_gms="41")) == [
        "app.import.import_user.save_preferences.error"
    ]
    assert apply_ids(user(limit_visible_dms_gms="0")) == [
        "app.import.import_user.save_preferences.error"
    ]
    assert apply_user(user(tutorial_step="x" * 20000), CTX) == []
    assert apply_ids(user(tutorial_step="x" * 20001)) == [
        "app.import.import_user.save_preferences.error"
    ]
