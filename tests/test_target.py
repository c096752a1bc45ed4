"""Loading the target server's configuration: file, MM_ environment, options, defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archivekit.check.rules.context import PasswordPolicy, RuleContext
from archivekit.check.target import (
    SETTINGS,
    SETTINGS_BY_ATTRIBUTE,
    TargetConfig,
    load_target,
    rule_context,
)
from archivekit.errors import UsageError


def write_config(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    return path


def test_nothing_given_means_server_defaults_and_not_explicit() -> None:
    config, explicit = load_target(env={})
    assert explicit is False
    assert config == TargetConfig()
    assert config.max_users_per_team == 50
    assert config.max_channels_per_team == 2000
    assert config.max_file_size == 104857600
    assert config.max_image_resolution == 33177600
    assert (config.read_timeout, config.write_timeout) == (300, 300)
    assert config.enable_file_attachments is True
    assert config.max_post_size == 16383
    assert config.source("max_users_per_team") == "default"


def test_config_file_values_are_read_and_missing_keys_fall_back_to_defaults(
    tmp_path: Path,
) -> None:
    path = write_config(
        tmp_path,
        {
            "TeamSettings": {"MaxUsersPerTeam": 500, "SiteName": "x"},
            "FileSettings": {"MaxFileSize": 1, "EnableFileAttachments": False},
            "ClusterSettings": {"Enable": True},
            "SqlSettings": {"DriverName": "postgres"},
        },
    )
    config, explicit = load_target(path, env={})
    assert explicit is True
    assert config.max_users_per_team == 500
    assert config.max_file_size == 1
    assert config.enable_file_attachments is False
    assert config.enable_cluster is True
    assert config.max_channels_per_team == 2000  # key missing
    assert config.read_timeout == 300  # section missing
    assert config.source("max_users_per_team") == "file"
    assert config.source("max_channels_per_team") == "default"


def test_an_empty_config_file_is_still_an_explicit_target(tmp_path: Path) -> None:
    config, explicit = load_target(write_config(tmp_path, {}), env={})
    assert explicit is True
    assert config == TargetConfig()


def test_null_values_fall_back_to_defaults(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, {"TeamSettings": {"MaxUsersPerTeam": None, "ExperimentalDefaultChannels": None}}
    )
    config, _ = load_target(path, env={})
    assert config.max_users_per_team == 50
    assert config.experimental_default_channels == []


def test_mmctl_config_show_json_output_is_accepted(tmp_path: Path) -> None:
    # Same shape as config.json (model.Config), secrets masked; also tolerate a 1-item array.
    shown = {
        "ServiceSettings": {"SiteURL": "https://chat", "ReadTimeout": 900, "GiphySdkKey": "****"},
        "TeamSettings": {"MaxChannelsPerTeam": 5000, "ExperimentalDefaultChannels": ["a", "b"]},
        "PasswordSettings": {"MinimumLength": 12, "Symbol": True},
    }
    for document in (shown, [shown]):
        config, explicit = load_target(write_config(tmp_path, document), env={})
        assert explicit
        assert config.read_timeout == 900
        assert config.max_channels_per_team == 5000
        assert config.experimental_default_channels == ["a", "b"]
        assert config.password_minimum_length == 12
        assert config.password_symbol is True


def test_bad_json_is_a_usage_error_with_position_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  "TeamSettings": {"MaxUsersPerTeam": 50,}\n}')
    with pytest.raises(UsageError, match=r"not valid JSON: .* line 2, column") as info:
        load_target(path, env={})
    assert info.value.exit_code == 2


def test_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read target config"):
        load_target(tmp_path / "missing.json", env={})


def test_non_utf8_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'{"TeamSettings": "\xff"}')
    with pytest.raises(UsageError, match="not UTF-8"):
        load_target(path, env={})


@pytest.mark.parametrize("document", [[], [1, 2], "text", 42, None])
def test_a_document_that_is_not_an_object_is_a_usage_error(tmp_path: Path, document: Any) -> None:
    with pytest.raises(UsageError, match="must be a JSON object"):
        load_target(write_config(tmp_path, document), env={})


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("TeamSettings", "MaxUsersPerTeam", "50"),
        ("TeamSettings", "MaxUsersPerTeam", True),
        ("TeamSettings", "MaxUsersPerTeam", 50.5),
        ("FileSettings", "EnableFileAttachments", "true"),
        ("FileSettings", "DriverName", 1),
        ("TeamSettings", "ExperimentalDefaultChannels", "a b"),
        ("TeamSettings", "ExperimentalDefaultChannels", ["a", 1]),
    ],
)
def test_wrong_type_is_a_usage_error_naming_the_setting(
    tmp_path: Path, section: str, key: str, value: Any
) -> None:
    path = write_config(tmp_path, {section: {key: value}})
    with pytest.raises(UsageError, match=f"{section}.{key} must be"):
        load_target(path, env={})


def test_a_section_that_is_not_an_object_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="TeamSettings must be an object"):
        load_target(write_config(tmp_path, {"TeamSettings": [1]}), env={})


def test_negative_limit_is_a_usage_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"FileSettings": {"MaxFileSize": -1}})
    with pytest.raises(UsageError, match=r"FileSettings\.MaxFileSize must not be negative"):
        load_target(path, env={})


def test_every_config_setting_has_its_server_env_name_and_a_cli_option() -> None:
    assert SETTINGS_BY_ATTRIBUTE["max_users_per_team"].env == "MM_TEAMSETTINGS_MAXUSERSPERTEAM"
    assert SETTINGS_BY_ATTRIBUTE["max_users_per_team"].option == "--max-users-per-team"
    assert SETTINGS_BY_ATTRIBUTE["max_file_size"].env == "MM_FILESETTINGS_MAXFILESIZE"
    assert SETTINGS_BY_ATTRIBUTE["read_timeout"].env == "MM_SERVICESETTINGS_READTIMEOUT"
    assert SETTINGS_BY_ATTRIBUTE["enable_cluster"].config_path == "ClusterSettings.Enable"
    assert SETTINGS_BY_ATTRIBUTE["max_post_size"].env is None  # not a config key
    for setting in SETTINGS:
        assert setting.option.startswith("--")
        assert setting.help
        if setting.config_path:
            assert setting.env == "MM_" + setting.config_path.replace(".", "_").upper()


def test_precedence_is_option_over_env_over_file_over_default(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {"TeamSettings": {"MaxUsersPerTeam": 100, "MaxChannelsPerTeam": 100}},
    )
    env = {"MM_TEAMSETTINGS_MAXUSERSPERTEAM": "200", "MM_SERVICESETTINGS_READTIMEOUT": "600"}
    config, explicit = load_target(path, env=env, overrides={"max_users_per_team": 300})
    assert explicit
    assert (config.max_users_per_team, config.source("max_users_per_team")) == (300, "option")
    assert (config.read_timeout, config.source("read_timeout")) == (600, "env")
    assert (config.max_channels_per_team, config.source("max_channels_per_team")) == (100, "file")
    assert (config.write_timeout, config.source("write_timeout")) == (300, "default")


def test_env_overrides_the_file_value(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"FileSettings": {"MaxFileSize": 5}})
    config, _ = load_target(path, env={"MM_FILESETTINGS_MAXFILESIZE": "7"})
    assert config.max_file_size == 7


def test_env_alone_makes_the_target_explicit() -> None:
    config, explicit = load_target(env={"MM_TEAMSETTINGS_MAXUSERSPERTEAM": "10"})
    assert explicit
    assert config.max_users_per_team == 10


def test_env_names_are_case_insensitive_like_the_server() -> None:
    config, _ = load_target(env={"mm_TeamSettings_MaxChannelsPerTeam": "9"})
    assert config.max_channels_per_team == 9


def test_unrelated_or_malformed_env_names_are_ignored() -> None:
    env = {
        "MMCTL_LOCAL": "true",
        "MM_SERVICESETTINGS_SITEURL": "https://x",
        "MM_TEAMSETTINGS": "1",
        "MMTEAMSETTINGS_MAXUSERSPERTEAM": "1",
        "PATH": "/usr/bin",
    }
    config, explicit = load_target(env=env)
    assert explicit is False
    assert config == TargetConfig()


def test_env_value_that_does_not_parse_is_ignored_as_the_server_does(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"TeamSettings": {"MaxUsersPerTeam": 80}})
    env = {
        "MM_TEAMSETTINGS_MAXUSERSPERTEAM": "lots",
        "MM_SERVICESETTINGS_READTIMEOUT": " 600",
        "MM_FILESETTINGS_ENABLEFILEATTACHMENTS": "yes",
    }
    config, _ = load_target(path, env=env)
    assert config.max_users_per_team == 80
    assert config.read_timeout == 300
    assert config.enable_file_attachments is True


def test_env_values_parse_like_go() -> None:
    env = {
        "MM_SERVICESETTINGS_READTIMEOUT": "+900",
        "MM_FILESETTINGS_ENABLEFILEATTACHMENTS": "F",
        "MM_CLUSTERSETTINGS_ENABLE": "1",
        "MM_TEAMSETTINGS_EXPERIMENTALDEFAULTCHANNELS": "news  random",
        "MM_FILESETTINGS_DRIVERNAME": "amazons3",
    }
    config, _ = load_target(env=env)
    assert config.read_timeout == 900
    assert config.enable_file_attachments is False
    assert config.enable_cluster is True
    assert config.experimental_default_channels == ["news", "", "random"]  # strings.Split
    assert config.driver_name == "amazons3"


def test_text_after_the_setting_name_is_ignored_but_the_exact_name_wins() -> None:
    config, _ = load_target(env={"MM_TEAMSETTINGS_MAXUSERSPERTEAM_OLD": "7"})
    assert config.max_users_per_team == 7
    both = {"MM_TEAMSETTINGS_MAXUSERSPERTEAM_OLD": "7", "MM_TEAMSETTINGS_MAXUSERSPERTEAM": "8"}
    config, _ = load_target(env=both)
    assert config.max_users_per_team == 8


def test_options_that_were_not_given_change_nothing() -> None:
    config, explicit = load_target(env={}, overrides={"max_users_per_team": None})
    assert not explicit
    assert config.max_users_per_team == 50


def test_option_of_the_wrong_type_or_unknown_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--max-users-per-team must be an integer"):
        load_target(env={}, overrides={"max_users_per_team": "many"})
    with pytest.raises(UsageError, match="unknown target setting"):
        load_target(env={}, overrides={"max_teams": 1})


def test_option_list_given_as_a_tuple_is_accepted() -> None:
    config, _ = load_target(env={}, overrides={"experimental_default_channels": ("a", "b")})
    assert config.experimental_default_channels == ["a", "b"]


def test_default_channels_are_town_square_and_off_topic() -> None:
    assert TargetConfig().default_channels() == ["town-square", "off-topic"]


def test_experimental_default_channels_replace_off_topic_without_duplicates() -> None:
    config = TargetConfig(experimental_default_channels=["news", "town-square", "news", "dev"])
    assert config.default_channels() == ["town-square", "news", "dev"]


def test_rule_context_carries_sizes_password_policy_and_locale() -> None:
    config, _ = load_target(
        env={
            "MM_PASSWORDSETTINGS_MINIMUMLENGTH": "12",
            "MM_PASSWORDSETTINGS_UPPERCASE": "true",
            "MM_LOCALIZATIONSETTINGS_DEFAULTCLIENTLOCALE": "de",
        },
        overrides={"max_post_size": 4000, "max_file_size": 5000, "max_image_resolution": 600},
    )
    assert rule_context(config) == RuleContext(
        max_post_size=4000,
        max_file_size=5000,
        max_image_resolution=600,
        password=PasswordPolicy(minimum_length=12, uppercase=True),
        default_locale="de",
    )
