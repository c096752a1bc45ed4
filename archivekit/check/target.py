"""The target server's configuration: the settings preflight needs, and how they are loaded.

Sources, lowest to highest precedence (reference §9):

1. the server defaults (``model.Config.SetDefaults``);
2. a ``config.json`` file, or the JSON ``mmctl config show --json`` prints — both are the
   marshalled ``model.Config`` (mmctl prints the single object as is, secrets masked), so
   one parser reads both; missing keys and ``null`` fall back to the default, as the
   server's ``SetDefaults`` does after decoding;
3. ``MM_<SECTION>_<SETTING>`` environment variables, applied the way the server's
   ``config/environment.go`` does (case-insensitive names, a value that does not parse is
   ignored and the previous value kept, lists split on single spaces);
4. explicit overrides (the CLI's ``--max-users-per-team`` ... options).

`SETTINGS` describes every setting once (attribute, config path, env name, CLI option,
type, help) so the CLI can generate its options from it.

`TargetConfig` is a plain frozen dataclass, not a pydantic model: the loader checks every
value as Go's decoder and the server's environment parser would, and importing pydantic
(and building a model) would cost a short ``archivekit validate`` most of its start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, NamedTuple

from archivekit.check.rules.context import (
    DEFAULT_CHANNELS,
    DEFAULT_MAX_POST_SIZE,
    TOWN_SQUARE,
    PasswordPolicy,
    RuleContext,
)
from archivekit.errors import UsageError
from archivekit.gosem.spec import INT64_MAX, INT64_MIN
from archivekit.gosem.strings import is_go_int

Source = Literal["default", "file", "env", "option"]


def _setting(default: Any, path: str | None, help: str, *, ge: int | None = None) -> Any:
    """A field that knows its config.json path (None: not a server config key), its help
    text and its lower bound."""
    metadata = {"config_path": path, "help": help, "ge": ge}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TargetConfig:
    """The settings of the target server that decide whether an import goes through.

    Values are checked as they are set: a wrong type or a value below its bound raises
    ValueError (`load_target` words the same checks for the user).
    """

    max_users_per_team: int = _setting(
        50, "TeamSettings.MaxUsersPerTeam", "Most active members a team may have.", ge=0
    )
    max_channels_per_team: int = _setting(
        2000,
        "TeamSettings.MaxChannelsPerTeam",
        "Most non-archived channels a team may have (default channels included).",
        ge=0,
    )
    experimental_default_channels: list[str] = _setting(
        [],
        "TeamSettings.ExperimentalDefaultChannels",
        "Channels created with every new team; when set they replace off-topic.",
    )
    max_file_size: int = _setting(
        104857600,
        "FileSettings.MaxFileSize",
        "Largest upload in bytes: the archive for 'mmctl import upload', each attachment.",
        ge=0,
    )
    enable_file_attachments: bool = _setting(
        True, "FileSettings.EnableFileAttachments", "Uploads allowed ('mmctl import upload')."
    )
    max_image_resolution: int = _setting(
        33177600,
        "FileSettings.MaxImageResolution",
        "Largest image in pixels (width x height); larger attachments are dropped.",
        ge=0,
    )
    driver_name: str = _setting(
        "local", "FileSettings.DriverName", "File store; empty makes every attachment fail."
    )
    read_timeout: int = _setting(
        300, "ServiceSettings.ReadTimeout", "Seconds the server waits for a whole request.", ge=0
    )
    write_timeout: int = _setting(
        300,
        "ServiceSettings.WriteTimeout",
        "Seconds from the end of the request headers to the end of the response.",
        ge=0,
    )
    enable_local_mode: bool = _setting(
        False, "ServiceSettings.EnableLocalMode", "Needed for 'mmctl --local ... --bypass-upload'."
    )
    enable_cluster: bool = _setting(
        False, "ClusterSettings.Enable", "High availability; --bypass-upload is refused when on."
    )
    password_minimum_length: int = _setting(
        8, "PasswordSettings.MinimumLength", "Minimum length of imported plaintext passwords.", ge=0
    )
    password_lowercase: bool = _setting(
        False, "PasswordSettings.Lowercase", "Passwords need a lowercase letter."
    )
    password_uppercase: bool = _setting(
        False, "PasswordSettings.Uppercase", "Passwords need an uppercase letter."
    )
    password_number: bool = _setting(False, "PasswordSettings.Number", "Passwords need a digit.")
    password_symbol: bool = _setting(False, "PasswordSettings.Symbol", "Passwords need a symbol.")
    default_client_locale: str = _setting(
        "en", "LocalizationSettings.DefaultClientLocale", "Locale of users without 'locale'."
    )
    max_post_size: int = _setting(
        DEFAULT_MAX_POST_SIZE,
        None,
        "Longest message in runes. Not a config key: derived from the posts.message column "
        "(16383 on a standard schema); mmctl reads it as MaxPostSize from the client config.",
        ge=0,
    )

    # Where each explicitly given value came from (see `source`); set by `load_target`.
    _sources: dict[str, Source] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for setting in SETTINGS:
            value = getattr(self, setting.attribute)
            if not _check_type(setting, value):
                raise ValueError(f"{setting.attribute} must be {_TYPE_NAMES[setting.type]}")
            if setting.minimum is not None and value < setting.minimum:
                raise ValueError(f"{setting.attribute} must be at least {setting.minimum}")

    def source(self, attribute: str) -> Source:
        """Where the value of `attribute` came from: default, file, env or option."""
        return self._sources.get(attribute, "default")

    def default_channels(self) -> list[str]:
        """The channels a new team is created with (server ``App.DefaultChannelNames``).

        town-square always; then off-topic, unless ExperimentalDefaultChannels is set, in
        which case those replace off-topic (deduplicated, town-square not repeated).
        """
        if not self.experimental_default_channels:
            return list(DEFAULT_CHANNELS)
        names = [TOWN_SQUARE]
        for name in self.experimental_default_channels:
            if name not in names:
                names.append(name)
        return names


class Setting(NamedTuple):
    """One setting: how it is named in the model, config.json, the environment and the CLI.
    (A named tuple: a frozen dataclass would cost start-up a millisecond.)"""

    attribute: str
    config_path: str | None  # "TeamSettings.MaxUsersPerTeam"; None if not a config key
    env: str | None  # "MM_TEAMSETTINGS_MAXUSERSPERTEAM"
    option: str  # "--max-users-per-team"
    type: type
    default: Any
    help: str
    minimum: int | None = None


# The annotations of TargetConfig's fields (strings: postponed evaluation) as Python types.
_ANNOTATION_TYPES: dict[str, type] = {"int": int, "bool": bool, "str": str, "list[str]": list}


def _build_settings() -> list[Setting]:
    settings = []
    for info in fields(TargetConfig):
        if not info.init:
            continue
        path = info.metadata["config_path"]
        default = info.default_factory() if callable(info.default_factory) else info.default
        settings.append(
            Setting(
                attribute=info.name,
                config_path=path,
                env=f"MM_{path.replace('.', '_').upper()}" if path else None,
                option="--" + info.name.replace("_", "-"),
                type=_ANNOTATION_TYPES[str(info.type)],
                default=default,
                help=info.metadata["help"],
                minimum=info.metadata["ge"],
            )
        )
    return settings


SETTINGS: list[Setting] = _build_settings()
SETTINGS_BY_ATTRIBUTE: dict[str, Setting] = {s.attribute: s for s in SETTINGS}


def _env_parts(config_path: str) -> tuple[str, str]:
    """(SECTION, SETTING) upper-cased, as the server's env matcher compares them."""
    section, key = config_path.upper().split(".")
    return section, key


_SETTINGS_BY_ENV_PARTS: dict[tuple[str, str], Setting] = {
    _env_parts(s.config_path): s for s in SETTINGS if s.config_path
}

_TYPE_NAMES = {int: "an integer", bool: "true or false", str: "a string", list: "a list of strings"}


def _check_type(setting: Setting, value: Any) -> bool:
    """True if `value` decodes into the Go field (json.Unmarshal is strict about types)."""
    if setting.type is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if setting.type is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, setting.type)


# --- file ------------------------------------------------------------------------------------


def _read_config_file(config_path: str | Path) -> dict[str, Any]:
    import json  # only a run with a config file pays for it

    path = Path(config_path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read target config {str(path)!r}: {exc.strerror}") from exc
    try:
        document = json.loads(text)
    except UnicodeDecodeError as exc:
        raise UsageError(f"target config {str(path)!r} is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"target config {str(path)!r} is not valid JSON: {exc.msg} "
            f"at line {exc.lineno}, column {exc.colno}"
        ) from exc
    # Tolerate a one-element array around the object (mmctl's JSON printer wraps several
    # printed objects in an array; `config show` prints a single one, unwrapped).
    if isinstance(document, list) and len(document) == 1:
        document = document[0]
    if not isinstance(document, dict):
        raise UsageError(
            f"target config {str(path)!r} must be a JSON object (a Mattermost config.json "
            "or the output of 'mmctl config show --json')"
        )
    return document


def _values_from_document(document: Mapping[str, Any], origin: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.config_path is None:
            continue
        section_name, key = setting.config_path.split(".")
        section = document.get(section_name)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise UsageError(f"{origin}: {section_name} must be an object")
        value = section.get(key)
        if value is None:  # absent or null: the server's SetDefaults fills the default
            continue
        if not _check_type(setting, value):
            raise UsageError(
                f"{origin}: {setting.config_path} must be {_TYPE_NAMES[setting.type]}, "
                f"not {_json_text(value)[:60]}"
            )
        values[setting.attribute] = value
    return values


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value)


# --- environment -----------------------------------------------------------------------------

_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def _parse_env_value(setting: Setting, raw: str) -> tuple[bool, Any]:
    """(ok, value) as the server's applyEnvKey parses it; not ok means 'ignored'."""
    if setting.type is int:
        # strconv.ParseInt(value, 10, 0): optional sign, decimal digits, no spaces.
        if not is_go_int(raw):
            return False, None
        number = int(raw)
        return INT64_MIN <= number <= INT64_MAX, number
    if setting.type is bool:
        if raw in _GO_TRUE:
            return True, True
        if raw in _GO_FALSE:
            return True, False
        return False, None
    if setting.type is list:
        return True, raw.split(" ")  # strings.Split(value, " "): single spaces, empties kept
    return True, raw


def _values_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Settings overridden by MM_ variables, matched like the server's applyEnvKey.

    The server upper-cases the name, strips "MM_", then walks the config struct splitting
    on the first "_" at each level: MM_TEAMSETTINGS_MAXUSERSPERTEAM names
    TeamSettings.MaxUsersPerTeam. Anything after the setting's name is ignored by that walk
    (MM_TEAMSETTINGS_MAXUSERSPERTEAM_X sets it too); we apply those first so an exact name
    wins when both are present (the server's map order would make it random).
    """
    exact: dict[str, Any] = {}
    suffixed: dict[str, Any] = {}
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith("MM_"):
            continue
        parts = upper[3:].split("_", 2)
        if len(parts) < 2:
            continue
        setting = _SETTINGS_BY_ENV_PARTS.get((parts[0], parts[1]))
        if setting is None:
            continue
        ok, value = _parse_env_value(setting, env[name])
        if ok:
            (suffixed if len(parts) == 3 else exact)[setting.attribute] = value
    return {**suffixed, **exact}


# --- overrides -------------------------------------------------------------------------------


def _values_from_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attribute, value in overrides.items():
        if value is None:  # an option not given
            continue
        setting = SETTINGS_BY_ATTRIBUTE.get(attribute)
        if setting is None:
            raise UsageError(f"unknown target setting {attribute!r}")
        if setting.type is list and isinstance(value, tuple):
            value = list(value)
        if not _check_type(setting, value):
            raise UsageError(f"{setting.option} must be {_TYPE_NAMES[setting.type]}")
        values[attribute] = value
    return values


def load_target(
    config_path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[TargetConfig, bool]:
    """The target configuration, and whether anything explicit (file/env/option) was given.

    `env` defaults to ``os.environ``. Raises `UsageError` for an unreadable file, bad JSON,
    a setting of the wrong type or a negative limit.
    """
    layers: list[tuple[Source, dict[str, Any]]] = []
    explicit = False
    if config_path is not None:
        explicit = True
        document = _read_config_file(config_path)
        layers.append(("file", _values_from_document(document, str(config_path))))
    env_values = _values_from_env(os.environ if env is None else env)
    layers.append(("env", env_values))
    override_values = _values_from_overrides(overrides or {})
    layers.append(("option", override_values))
    explicit = explicit or bool(env_values) or bool(override_values)

    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for source, layer in layers:
        for attribute, value in layer.items():
            values[attribute] = value
            sources[attribute] = source
    bad = [
        SETTINGS_BY_ATTRIBUTE[a]
        for a, v in values.items()
        if isinstance(v, int) and not isinstance(v, bool) and v < 0
    ]
    if bad:
        setting = bad[0]
        raise UsageError(
            f"{setting.config_path or setting.option} must not be negative "
            f"(from {sources[setting.attribute]})"
        )
    config = TargetConfig(**values)
    config._sources.update(sources)
    return config, explicit


def rule_context(target: TargetConfig) -> RuleContext:
    """What the per-line rules need from the target: post size, password policy, locale."""
    return RuleContext(
        max_post_size=target.max_post_size,
        max_file_size=target.max_file_size,
        max_image_resolution=target.max_image_resolution,
        password=PasswordPolicy(
            minimum_length=target.password_minimum_length,
            lowercase=target.password_lowercase,
            uppercase=target.password_uppercase,
            number=target.password_number,
            symbol=target.password_symbol,
        ),
        default_locale=target.default_client_locale,
        default_channels=tuple(target.default_channels()),
    )
