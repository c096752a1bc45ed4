"""The vendored name lists in archivekit/data: complete, well-formed, loadable by vendored.py."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from archivekit.check.rules import vendored

EMOJI_NAME = re.compile(r"[a-zA-Z0-9+_-]+")
PERMISSION_ID = re.compile(r"[a-z0-9_]+")

# `SystemEmojis` really has a key with a space ("thank you", an alias of "pray"). It is kept
# because the list is the map's keys, and it is harmless: a custom emoji name with a space
# fails the name syntax check before the system-name check ever runs.
EMOJI_KEYS_OUTSIDE_NAME_SYNTAX = {"thank you"}


def data_lines(name: str) -> list[str]:
    """The file's entries in file order (comments and blank lines dropped, like the loader)."""
    text = files("archivekit").joinpath("data", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def header(name: str) -> list[str]:
    text = files("archivekit").joinpath("data", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.startswith("#")]


@pytest.mark.parametrize("name", ["system_emoji.txt", "permissions.txt"])
def test_file_is_sorted_and_unique(name: str) -> None:
    lines = data_lines(name)
    assert lines == sorted(set(lines))


@pytest.mark.parametrize(
    ("name", "source_path"),
    [
        ("system_emoji.txt", "server/public/model/emoji_data.go"),
        ("permissions.txt", "server/public/model/permission.go"),
    ],
)
def test_header_names_the_source_and_says_the_names_are_facts(name: str, source_path: str) -> None:
    first, *rest = header(name)
    assert "mattermost/mattermost" in first
    assert source_path in first
    assert re.search(r"commit [0-9a-f]{40}", first)
    assert any("facts" in line and "vendored as data" in line for line in rest)
    assert not any("INCOMPLETE" in line for line in [first, *rest])


def test_system_emojis_load_through_vendored_and_match_the_file() -> None:
    emojis = vendored.system_emojis()
    assert emojis == frozenset(data_lines("system_emoji.txt"))
    assert 4400 <= len(emojis) <= 4500


@pytest.mark.parametrize("name", ["smile", "+1", "-1", "thumbsup", "100", "1234", "mattermost"])
def test_well_known_system_emojis_are_present(name: str) -> None:
    assert name in vendored.system_emojis()


def test_not_every_word_is_a_system_emoji() -> None:
    assert "party_parrot" not in vendored.system_emojis()
    assert "Smile" not in vendored.system_emojis()  # keys are case-sensitive


def test_every_system_emoji_but_the_known_one_has_custom_emoji_name_syntax() -> None:
    outside = {n for n in vendored.system_emojis() if not EMOJI_NAME.fullmatch(n)}
    assert outside == EMOJI_KEYS_OUTSIDE_NAME_SYNTAX


def test_permissions_load_through_vendored_and_match_the_file() -> None:
    permissions = vendored.permissions()
    assert permissions == frozenset(data_lines("permissions.txt"))
    assert 250 <= len(permissions) <= 350


@pytest.mark.parametrize(
    "permission",
    [
        "create_post",
        "manage_system",
        "read_channel",
        # from DeprecatedPermissions: a target server still accepts these in a role
        "manage_webhooks",
        "permanent_delete_user",
        "sysconsole_read_authentication",
    ],
)
def test_well_known_permissions_are_present(permission: str) -> None:
    assert permission in vendored.permissions()


def test_moderated_pseudo_permissions_are_not_permission_ids() -> None:
    # ChannelModeratedPermissions names like "create_reactions" are UI groupings, not ids.
    assert "create_reactions" not in vendored.permissions()
    assert "manage_members" not in vendored.permissions()


def test_every_permission_id_is_lowercase_snake_case() -> None:
    assert all(PERMISSION_ID.fullmatch(p) for p in vendored.permissions())
