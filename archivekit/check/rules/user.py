"""Rules for `user` lines (reference §4.5 with §4.5.1-4.5.3): the validator in the server's
order, and the apply-time model rules (email syntax, locale, roles length, password policy,
preference values)."""

from __future__ import annotations

import json
import re
from typing import Any

from archivekit.check.rules import vendored
from archivekit.check.rules.common import is_blank
from archivekit.check.rules.context import PasswordPolicy, RuleContext
from archivekit.check.rules.names import (
    AUTH_SERVICES,
    CHANNEL_GUEST_ROLE,
    CHANNEL_MARK_UNREAD_LEVELS,
    CHANNEL_NOTIFY_LEVELS,
    COMMENTS_NOTIFY_LEVELS,
    EMAIL_INTERVALS,
    LIMIT_VISIBLE_DMS_GMS_MAX,
    PREFERENCE_VALUE_MAX_RUNES,
    PUSH_STATUS_LEVELS,
    ROLE_NAME_MAX_BYTES,
    SYSTEM_GUEST_ROLE,
    TEAM_GUEST_ROLE,
    TRUE_FALSE,
    USER_AUTH_DATA_MAX_BYTES,
    USER_EMAIL_MAX_BYTES,
    USER_FIRST_NAME_MAX_RUNES,
    USER_LAST_NAME_MAX_RUNES,
    USER_LOCALE_MAX_BYTES,
    USER_NICKNAME_MAX_RUNES,
    USER_NOTIFY_LEVELS,
    USER_PASSWORD_MAX_BYTES,
    USER_POSITION_MAX_RUNES,
    USER_ROLES_MAX_BYTES,
    apply_failure,
    invalid,
    is_in_role,
    is_valid_user_roles,
    is_valid_username,
    kept,
    length,
    missing,
    shown,
    too_long,
)
from archivekit.gosem.mail import AddressError, parse_address
from archivekit.gosem.paths import escapes_data
from archivekit.gosem.strings import byte_len, go_lower, is_go_int, rune_len
from archivekit.issues import Issue, Scalar, validator_id

_USER = "user"
_TEAMS = "user_teams"
_CHANNELS = "user_channels"


# --- pieces shared with bot lines ----------------------------------------------------------------
def check_profile_image(data: dict[str, Any], record: str) -> Issue | None:
    """The path half of the profile-image check (the zip lookup belongs to the engine)."""
    path = data.get("profile_image")
    if path is not None and escapes_data(path):
        return invalid(
            f"{record}.profile_image",
            validator_id(_USER, "invalid_image_path"),
            f"Profile image path {shown(path)} leaves the archive's data/ folder. Give a path"
            " relative to data/, without `..`.",
            values={"found": kept(path)},
        )
    return None


def check_username(data: dict[str, Any], record: str) -> Issue | None:
    """Username present and valid after lowercasing (the server stores it lowercased)."""
    username = data.get("username")
    if username is None:
        return missing(
            f"{record}.username",
            validator_id(_USER, "username_missing"),
            f"The {record} has no username. Add `username`.",
        )
    if not is_valid_username(go_lower(username)):
        return username_issue(f"{record}.username", username)
    return None


def username_issue(field: str, username: str) -> Issue:
    """A username (of a user, a bot or a bot's owner) the validator refuses."""
    return invalid(
        field,
        validator_id(_USER, "username_invalid"),
        f"Username {shown(username)} is not valid: it must be 1-64 bytes of lowercase letters,"
        " digits, `.`, `-` and `_`, and not one of all, channel, matterbot, system. Rename it"
        " (and every reference to it).",
        values={"found": kept(username)},
    )


# --- validator: scalar fields --------------------------------------------------------------------
# Where users without an email usually come from, and the converter option that fills them.
MISSING_EMAIL_NOTE = (
    "Slack exports omit the emails of bots and deleted users; mmetl's --default-email-domain "
    "fills them in"
)


def _check_email(email: str | None, username: object) -> Issue | None:
    if email is None:
        who = f"User {shown(username)}" if isinstance(username, str) else "The user"
        return missing(
            "user.email",
            validator_id(_USER, "email_missing"),
            f"{who} has no email; the server refuses a user without one. Add one "
            f"({MISSING_EMAIL_NOTE}).",
            values={"subject": username} if isinstance(username, str) else None,
        )
    size = byte_len(email)
    if size == 0 or size > USER_EMAIL_MAX_BYTES:
        message = (
            "The user's email is empty. Fill it in."
            if size == 0
            else too_long("Email", email, size, "bytes", USER_EMAIL_MAX_BYTES)
        )
        return invalid(
            "user.email",
            validator_id(_USER, "email_length"),
            message,
            values=length(size, USER_EMAIL_MAX_BYTES, "bytes", email),
        )
    return None


def _check_auth(data: dict[str, Any]) -> Issue | None:
    auth_data = data.get("auth_data")
    password = data.get("password")
    auth_service = data.get("auth_service")
    # Presence, even of "", is what counts for this first check.
    if auth_data is not None and password is not None:
        return invalid(
            "user.auth_data",
            validator_id(_USER, "auth_data_and_password"),
            "The user has both `auth_data` and `password`. Keep `password` for email login"
            " or `auth_data` + `auth_service` for SSO/LDAP, not both.",
        )
    if auth_data is not None and (size := byte_len(auth_data)) > USER_AUTH_DATA_MAX_BYTES:
        return invalid(
            "user.auth_data",
            validator_id(_USER, "auth_data_length"),
            too_long("auth_data", auth_data, size, "bytes", USER_AUTH_DATA_MAX_BYTES),
            values=length(size, USER_AUTH_DATA_MAX_BYTES, "bytes", auth_data),
        )
    if is_blank(auth_service) != is_blank(auth_data):
        return invalid(
            "user.auth_service",
            validator_id(_USER, "auth_data_and_service_dependency"),
            "`auth_service` and `auth_data` go together: give both (SSO/LDAP users) or"
            " neither (password users).",
        )
    if auth_service is not None and auth_service not in AUTH_SERVICES:
        # The server really uses the user_teams prefix for this user-level error.
        return invalid(
            "user.auth_service",
            validator_id("user_teams", "invalid_auth_service"),
            f"Auth service {shown(auth_service)} is not known; use one of email, gitlab, saml,"
            " ldap, google, office365, openid.",
            values={"found": kept(auth_service)},
        )
    if password is not None:
        size = byte_len(password)
        if size == 0 or size > USER_PASSWORD_MAX_BYTES:
            message = (
                "The user's password is empty. Remove `password` (a random one is generated)"
                " or set one."
                if size == 0
                else f"The password is {size} bytes; the server allows at most"
                f" {USER_PASSWORD_MAX_BYTES} bytes. Shorten it."
            )
            return invalid(
                "user.password",
                validator_id(_USER, "password_length"),
                message,
                values=length(size, USER_PASSWORD_MAX_BYTES, "bytes"),
            )
    return None


_NAME_FIELDS = (
    ("nickname", USER_NICKNAME_MAX_RUNES, "Nickname"),
    ("first_name", USER_FIRST_NAME_MAX_RUNES, "First name"),
    ("last_name", USER_LAST_NAME_MAX_RUNES, "Last name"),
    ("position", USER_POSITION_MAX_RUNES, "Position"),
)


def _check_profile_lengths(data: dict[str, Any]) -> Issue | None:
    for key, limit, label in _NAME_FIELDS:
        value = data.get(key)
        if value is not None and (runes := rune_len(value)) > limit:
            return invalid(
                f"user.{key}",
                validator_id(_USER, f"{key}_length"),
                too_long(label, value, runes, "characters", limit),
                values=length(runes, limit, "characters", value),
            )
    return None


def roles_issue(field: str, server_error_id: str, roles: str) -> Issue:
    """A roles string the validator refuses (of the user or a membership)."""
    return invalid(
        field,
        server_error_id,
        f"Roles {shown(roles)} are not valid: give space-separated role names of lowercase"
        f" letters, digits and `_` (at most {ROLE_NAME_MAX_BYTES} bytes each); `system_admin`"
        " must come with `system_user`.",
        values={"found": kept(roles), "limit": ROLE_NAME_MAX_BYTES, "unit": "bytes"},
    )


# --- validator: guest-role consistency -----------------------------------------------------------
def _check_guest_roles(data: dict[str, Any]) -> Issue | None:
    """validateGuestRoles: system, team and channel guest roles must agree."""
    roles = data.get("roles")
    teams = data.get("teams")
    if roles is None or not teams:
        return None
    is_system_guest = is_in_role(roles, SYSTEM_GUEST_ROLE)
    total_teams = len(teams)
    team_guests = total_channels = channel_guests = 0
    for team in teams:
        team_roles = team.get("roles")
        if team_roles is not None and is_in_role(team_roles, TEAM_GUEST_ROLE):
            team_guests += 1
        for channel in team.get("channels") or ():
            total_channels += 1
            channel_roles = channel.get("roles")
            if channel_roles is not None and is_in_role(channel_roles, CHANNEL_GUEST_ROLE):
                channel_guests += 1
    all_team_guest = team_guests == total_teams
    all_channel_guest = total_channels > 0 and channel_guests == total_channels

    if is_system_guest:
        if not all_team_guest:
            return invalid(
                "user.teams",
                validator_id(_USER, "system_guest_missing_team_guest_roles"),
                f"The user is a system guest but has `team_guest` in only {team_guests} of"
                f" {total_teams} team memberships. Add `team_guest` to every team's roles.",
                values={"found": team_guests, "total": total_teams, "unit": "team memberships"},
            )
        if total_channels > 0 and not all_channel_guest:
            return invalid(
                "user.teams",
                validator_id(_USER, "system_guest_missing_channel_guest_roles"),
                f"The user is a system guest but has `channel_guest` in only {channel_guests} of"
                f" {total_channels} channel memberships. Add `channel_guest` to every channel's"
                " roles.",
                values={
                    "found": channel_guests,
                    "total": total_channels,
                    "unit": "channel memberships",
                },
            )
        return None
    if all_team_guest:
        return invalid(
            "user.roles",
            validator_id(_USER, "team_guest_missing_system_guest_role"),
            "The user is `team_guest` in every team but not `system_guest`. Add"
            " `system_guest` to the user's roles, or make them a regular team member.",
        )
    if all_channel_guest:
        return invalid(
            "user.roles",
            validator_id(_USER, "channel_guest_missing_system_guest_role"),
            "The user is `channel_guest` in every channel but not `system_guest`. Add"
            " `system_guest` to the user's roles, or make them a regular channel member.",
        )
    return None


# --- validator: notify props and preferences -----------------------------------------------------
# (payload key, allowed values, error rule) in the server's order.
_NOTIFY_PROPS = (
    ("desktop", USER_NOTIFY_LEVELS, "notify_props_desktop_invalid"),
    ("desktop_sound", TRUE_FALSE, "notify_props_desktop_sound_invalid"),
    ("email", TRUE_FALSE, "notify_props_email_invalid"),
    ("mobile", USER_NOTIFY_LEVELS, "notify_props_mobile_invalid"),
    ("mobile_push_status", PUSH_STATUS_LEVELS, "notify_props_mobile_push_status_invalid"),
    ("channel", TRUE_FALSE, "notify_props_channel_trigger_invalid"),
    ("comments", COMMENTS_NOTIFY_LEVELS, "notify_props_comments_trigger_invalid"),
)
_VALIDATED_PREFERENCES = (
    ("feature_enabled_markdown_preview", TRUE_FALSE, "advanced_props_feature_markdown_preview"),
    ("formatting", TRUE_FALSE, "advanced_props_formatting"),
    ("show_unread_section", TRUE_FALSE, "advanced_props_show_unread_section"),
    ("email_interval", EMAIL_INTERVALS, "advanced_props_email_interval"),
)


def _choice_message(what: str, value: str, allowed: frozenset[str]) -> str:
    options = ", ".join(sorted(allowed))
    return f"{what} {shown(value)} is not valid; use one of: {options} (case-sensitive)."


def _check_enums(
    obj: dict[str, Any],
    path: str,
    record: str,
    checks: tuple[tuple[str, frozenset[str], str], ...],
) -> Issue | None:
    for key, allowed, rule in checks:
        value = obj.get(key)
        if value is not None and value not in allowed:
            return invalid(
                f"{path}.{key}",
                validator_id(record, rule),
                _choice_message(f"`{key}`", value, allowed),
                values={"found": kept(value)},
            )
    return None


# --- validator: team and channel memberships -----------------------------------------------------
_CHANNEL_NOTIFY = (
    ("desktop", CHANNEL_NOTIFY_LEVELS, "invalid_notify_props_desktop"),
    ("mobile", CHANNEL_NOTIFY_LEVELS, "invalid_notify_props_mobile"),
    ("mark_unread", CHANNEL_MARK_UNREAD_LEVELS, "invalid_notify_props_mark_unread"),
)
_THEME_TRIM = " \t\r"
_JSON_SPACE = " \t\n\r"
_json_decoder = json.JSONDecoder()


def is_valid_theme(theme: str) -> bool:
    """Go ``json.NewDecoder(theme).Decode(&map[string]string{})``: only the first JSON value is
    read (trailing text ignored); it must be an object of strings (or ``null``)."""
    try:
        value, _ = _json_decoder.raw_decode(theme, len(theme) - len(theme.lstrip(_JSON_SPACE)))
    except ValueError:
        return False
    if value is None:
        return True
    return isinstance(value, dict) and all(v is None or isinstance(v, str) for v in value.values())


def _check_channels(channels: list[dict[str, Any]], path: str) -> Issue | None:
    for index, channel in enumerate(channels):
        here = f"{path}[{index}]"
        if channel.get("name") is None:
            return missing(
                f"{here}.name",
                validator_id(_CHANNELS, "channel_name_missing"),
                "A channel membership has no channel name. Add `name`.",
            )
        roles = channel.get("roles")
        if roles is not None and not is_valid_user_roles(roles):
            return roles_issue(f"{here}.roles", validator_id(_CHANNELS, "invalid_roles"), roles)
        notify = channel.get("notify_props")
        if notify is not None and (
            issue := _check_enums(notify, f"{here}.notify_props", _CHANNELS, _CHANNEL_NOTIFY)
        ):
            return issue
    return None


def _check_teams(teams: list[dict[str, Any]]) -> Issue | None:
    for index, team in enumerate(teams):
        here = f"user.teams[{index}]"
        if team.get("name") is None:
            return missing(
                f"{here}.name",
                validator_id(_TEAMS, "team_name_missing"),
                "A team membership has no team name. Add `name`.",
            )
        roles = team.get("roles")
        if roles is not None and not is_valid_user_roles(roles):
            return roles_issue(f"{here}.roles", validator_id(_TEAMS, "invalid_roles"), roles)
        channels = team.get("channels")
        if channels is not None and (issue := _check_channels(channels, f"{here}.channels")):
            return issue
        theme = team.get("theme")
        if theme is not None and theme.strip(_THEME_TRIM) and not is_valid_theme(theme):
            return invalid(
                f"{here}.theme",
                validator_id(_TEAMS, "invalid_team_theme"),
                f"Team theme {shown(theme)} is not a JSON object of strings. Fix the JSON or"
                " remove `theme`.",
                values={"found": kept(theme)},
            )
    return None


def validate_user(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    """The validator layer for a `user` line: the server's first failing check, or None."""
    issue = (
        check_profile_image(data, "user")
        or check_username(data, "user")
        or _check_email(data.get("email"), data.get("username"))
        or _check_auth(data)
        or _check_profile_lengths(data)
    )
    if issue is not None:
        return issue
    roles = data.get("roles")
    if roles is not None and not is_valid_user_roles(roles):
        return roles_issue("user.roles", validator_id(_USER, "roles_invalid"), roles)
    if (issue := _check_guest_roles(data)) is not None:
        return issue
    notify = data.get("notify_props")
    if notify is not None and (
        issue := _check_enums(notify, "user.notify_props", _USER, _NOTIFY_PROPS)
    ):
        return issue
    if (issue := _check_enums(data, "user", _USER, _VALIDATED_PREFERENCES)) is not None:
        return issue
    teams = data.get("teams")
    return _check_teams(teams) if teams is not None else None


# --- email syntax: model.IsValidEmail -------------------------------------------------------------
_GO_SPACE = " \t"


def is_valid_email(email: str) -> bool:
    """model.IsValidEmail (current servers): already lowercase as Go lowers it, at most one
    ``@``, and Go's net/mail parses it as one address whose bare ``Address`` is the whole
    input (so no display name, angle brackets, comments, quotes or surrounding white space)."""
    return email_problem(email) is None


def email_problem(email: str) -> str | None:
    """Why model.IsValidEmail refuses `email` (a phrase for a message), or None."""
    if go_lower(email) != email:
        return "it has uppercase letters"
    if "@" not in email:
        return "it has no `@`"
    if email.count("@") > 1:
        return "it has more than one `@`"
    try:
        parsed = parse_address(email)
    except AddressError as exc:
        return f"Go's net/mail cannot parse it ({exc})"
    if parsed.address == email:
        return None
    if email != email.strip(_GO_SPACE):
        return "it has white space around it (the importer does not trim it)"
    if parsed.name:
        return f"it has a display name or comment ({parsed.name!r})"
    if "<" in email:
        return "the address is in angle brackets"
    if email.lstrip(_GO_SPACE).startswith('"'):
        return "its local part is quoted (Go drops the quotes, so the parsed address differs)"
    return f"Go's net/mail reads it as {parsed.address!r}, which differs from the text"


# --- locale: model.IsValidLocale -----------------------------------------------------------------
# language.Parse of golang.org/x/text without any error, within 5 bytes: a finite set, derived
# from x/text v0.16.0 by tools/oracles/locale and vendored in data/locales.txt (its tables are
# unchanged through v0.40.0, which current servers use).
X_TEXT_VERSION = "golang.org/x/text v0.16.0 (tables unchanged through v0.40.0)"
_PRIVATE_USE_RE = re.compile(r"x(-[a-z0-9]{1,8})+")
# Country codes written where a language code belongs (and that are no language code
# themselves: `se` is Northern Sami, `br` Breton): the language they usually mean.
_COUNTRY_NOT_LANGUAGE = {
    "jp": "ja",
    "cz": "cs",
    "dk": "da",
    "gr": "el",
    "ua": "uk",
    "cn": "zh",
    "vn": "vi",
    "il": "he",
    "gb": "en",
    "us": "en",
    "at": "de",
    "ir": "fa",
}


def is_valid_locale(locale: str) -> bool:
    """model.IsValidLocale: "" or at most 5 bytes that language.Parse accepts, read as the header
    of data/locales.txt says (Parse ignores case and takes ``_`` for ``-`` within 5 bytes)."""
    if locale == "":
        return True
    # isascii first: Python lowers some non-ASCII letters to ASCII ones (the Kelvin sign to k);
    # Parse refuses every non-ASCII byte. "*" only marks the region lines of the file.
    if not locale.isascii() or len(locale) > USER_LOCALE_MAX_BYTES or "*" in locale:
        return False
    s = locale.lower().replace("_", "-")
    entries = vendored.locales()
    return (
        s in entries
        or (len(s) == 5 and s[2] == "-" and s[:2] in entries and "*" + s[2:] in entries)
        or _PRIVATE_USE_RE.fullmatch(s) is not None
    )


def _locale_issue(locale: str) -> Issue:
    size = byte_len(locale)
    values: dict[str, Scalar] = {"found": kept(locale)}
    if size > USER_LOCALE_MAX_BYTES:
        why = f"it is {size} bytes; the server allows at most {USER_LOCALE_MAX_BYTES}"
        values.update(size=size, limit=USER_LOCALE_MAX_BYTES, unit="bytes")
    else:
        why = "it is not a language tag Go's language.Parse accepts"
        suggestion = _COUNTRY_NOT_LANGUAGE.get(locale.lower())
        if suggestion is not None:
            why += f" ({shown(locale)} is a country code; the language is probably `{suggestion}`)"
            values["suggestion"] = suggestion
    return apply_failure(
        "user.locale",
        "model.user.is_valid.locale.app_error",
        f"Locale {shown(locale)} is not valid: {why}. Use a language code, optionally with a"
        f" region, such as `en`, `de`, `pt_BR`, `zh-TW` (rule of {X_TEXT_VERSION}), or leave"
        " `locale` out for the server's default.",
        values=values,
    )


# --- apply layer ---------------------------------------------------------------------------------
_PASSWORD_SYMBOLS = frozenset(" !\"\\#$%&'()*+,-./:;<=>?@[]^_`|~")

# Preference fields (payload key), saved with Preference.IsValid when the user is written.
PREFERENCE_KEYS = (
    "theme",
    "military_time",
    "link_previews",
    "message_display",
    "collapse_consecutive_messages",
    "colorize_usernames",
    "channel_display_mode",
    "tutorial_step",
    "feature_enabled_markdown_preview",
    "formatting",
    "show_unread_section",
    "send_on_ctrl_enter",
    "code_block_ctrl_enter",
    "show_join_leave",
    "show_unread_scroll_position",
    "sync_drafts",
    "limit_visible_dms_gms",
    "name_format",
)
_SAVE_PREFERENCES = "app.import.import_user.save_preferences.error"
_SAVE_TEAM_PREFERENCES = "app.import.import_user_teams.save_preferences.error"


def password_policy_error(password: str, policy: PasswordPolicy) -> str | None:
    """users.IsPasswordValidWithSettings: the server error id, or None when it passes."""
    size = byte_len(password)
    suffix = ""
    if size < policy.minimum_length:
        suffix += "_min_length"
    if size > USER_PASSWORD_MAX_BYTES:
        suffix += "_max_length"
    if not suffix:
        if policy.lowercase and not any("a" <= c <= "z" for c in password):
            suffix += "_lowercase"
        if policy.uppercase and not any("A" <= c <= "Z" for c in password):
            suffix += "_uppercase"
        if policy.number and not any("0" <= c <= "9" for c in password):
            suffix += "_number"
        if policy.symbol and not any(c in _PASSWORD_SYMBOLS for c in password):
            suffix += "_symbol"
    return f"model.user.is_valid.pwd{suffix}.app_error" if suffix else None


def _password_requirements(policy: PasswordPolicy) -> str:
    parts = [f"at least {policy.minimum_length} bytes"]
    for flag, label in (
        (policy.lowercase, "a lowercase letter"),
        (policy.uppercase, "an uppercase letter"),
        (policy.number, "a digit"),
        (policy.symbol, "a symbol"),
    ):
        if flag:
            parts.append(label)
    return ", ".join(parts)


def _preference_issues(data: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    for key in PREFERENCE_KEYS:
        value = data.get(key)
        if value is None:
            continue
        if (runes := rune_len(value)) > PREFERENCE_VALUE_MAX_RUNES:
            issues.append(
                apply_failure(
                    f"user.{key}",
                    _SAVE_PREFERENCES,
                    too_long(
                        f"Preference `{key}`",
                        value,
                        runes,
                        "characters",
                        PREFERENCE_VALUE_MAX_RUNES,
                    ),
                    values=length(runes, PREFERENCE_VALUE_MAX_RUNES, "characters", value),
                )
            )
        elif key == "theme" and not is_valid_theme(value):
            issues.append(
                apply_failure(
                    "user.theme",
                    _SAVE_PREFERENCES,
                    f"Theme {shown(value)} is not a JSON object of strings; the server refuses"
                    " to save it (model.preference.is_valid.theme.app_error). Fix the JSON or"
                    " remove `theme`.",
                    values={"found": kept(value)},
                )
            )
        elif key == "limit_visible_dms_gms" and not (
            is_go_int(value) and 1 <= int(value) <= LIMIT_VISIBLE_DMS_GMS_MAX
        ):
            issues.append(
                apply_failure(
                    "user.limit_visible_dms_gms",
                    _SAVE_PREFERENCES,
                    f"`limit_visible_dms_gms` {shown(value)} must be a whole number from 1 to"
                    f" {LIMIT_VISIBLE_DMS_GMS_MAX}"
                    " (model.preference.is_valid.limit_visible_dms_gms.app_error).",
                    values={"found": kept(value), "minimum": 1, "limit": LIMIT_VISIBLE_DMS_GMS_MAX},
                )
            )
    for index, team in enumerate(data.get("teams") or ()):
        theme = team.get("theme")
        if theme is not None and (runes := rune_len(theme)) > PREFERENCE_VALUE_MAX_RUNES:
            issues.append(
                apply_failure(
                    f"user.teams[{index}].theme",
                    _SAVE_TEAM_PREFERENCES,
                    too_long("Team theme", theme, runes, "characters", PREFERENCE_VALUE_MAX_RUNES),
                    values=length(runes, PREFERENCE_VALUE_MAX_RUNES, "characters", theme),
                )
            )
    return issues


def apply_user(data: dict[str, Any], ctx: RuleContext) -> list[Issue]:
    """User.IsValid, the password policy and Preference.IsValid (only on a valid line)."""
    issues: list[Issue] = []
    email: str = data["email"]
    # The importer lowercases the email (strings.ToLower, no trimming) before User.IsValid.
    if (problem := email_problem(go_lower(email))) is not None:
        issues.append(
            apply_failure(
                "user.email",
                "model.user.is_valid.email.app_error",
                f"Email {shown(email)} is not valid: {problem}. The server lowercases it, then"
                " needs Go's net/mail to read exactly the text written as one bare address,"
                " like `name@example.com`. Fix it. (Servers before mattermost/mattermost#29661,"
                " 2025, only refused display names; mmctl import validate checks the length"
                " only.)",
                values={"found": email, "reason": problem},
            )
        )
    locale = data.get("locale")
    if locale is not None and not is_valid_locale(locale):
        issues.append(_locale_issue(locale))
    roles = data.get("roles")
    if roles is not None and (size := byte_len(roles)) > USER_ROLES_MAX_BYTES:
        issues.append(
            apply_failure(
                "user.roles",
                "model.user.is_valid.roles_limit.app_error",
                too_long("Roles string", roles, size, "bytes", USER_ROLES_MAX_BYTES),
                values=length(size, USER_ROLES_MAX_BYTES, "bytes", roles),
            )
        )
    password = data.get("password")
    if password is not None and (pwd_id := password_policy_error(password, ctx.password)):
        issues.append(
            apply_failure(
                "user.password",
                pwd_id,
                "The password does not meet the target server's password policy"
                f" ({_password_requirements(ctx.password)}). Change it, or remove `password`"
                " so that the server generates one.",
                values={"minimum": ctx.password.minimum_length, "unit": "bytes"},
            )
        )
    issues.extend(_preference_issues(data))
    return issues
