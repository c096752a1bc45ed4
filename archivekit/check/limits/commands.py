"""The ``mmctl config set`` commands that would make an import pass, and their undo."""

from __future__ import annotations

from typing import Any

from archivekit.check.target import SETTINGS_BY_ATTRIBUTE, TargetConfig


def config_value(value: Any) -> str:
    """A setting's value as mmctl and MM_ variables spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(value)
    return str(value)


def config_commands(
    target: TargetConfig, limits: dict[str, dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """The `mmctl config set` commands that make every failing setting pass, and their undo.

    A setting that comes from an MM_ variable cannot be changed with mmctl (the variable
    wins over the stored config): for those the variable to set is printed instead.
    """
    change: list[str] = []
    revert: list[str] = []
    for attribute, row in limits.items():
        setting = SETTINGS_BY_ATTRIBUTE.get(attribute)
        if row["ok"] or setting is None or setting.config_path is None:
            continue
        needed = row["needed"]
        if attribute == "driver_name":
            needed = "local"
        note = "  # restart the server to apply" if attribute.endswith("_timeout") else ""
        if target.source(attribute) == "env":
            assert setting.env is not None
            change.append(
                f"export {setting.env}={config_value(needed)}  # in the server's environment"
            )
            revert.append(f"export {setting.env}={config_value(row['configured'])}")
            continue
        change.append(f"mmctl config set {setting.config_path} {config_value(needed)}{note}")
        revert.append(
            f"mmctl config set {setting.config_path} {config_value(row['configured'])}{note}"
        )
    return change, revert
