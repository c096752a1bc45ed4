"""Settings the per-line rules depend on (target server facts), with the server defaults.

Named tuples, not dataclasses: both are read-only records, and every run creates these
classes at start-up, where a frozen dataclass costs a millisecond each.
"""

from __future__ import annotations

from typing import NamedTuple

# model.PostMessageMaxRunesV2: the MaxPostSize of a standard PostgreSQL schema.
DEFAULT_MAX_POST_SIZE = 16383
# MaxPostSize is no config key: what decides it, for messages that name it (reference §10:
# max(character_maximum_length of posts.message / 4, 16383)).
MAX_POST_SIZE = "MaxPostSize"
MAX_POST_SIZE_SOURCE = (
    "the server derives it from the size of its database's posts.message column, "
    f"{DEFAULT_MAX_POST_SIZE:,} characters on a standard schema"
)
# The channels every new team gets (App.DefaultChannelNames without
# ExperimentalDefaultChannels): they count against MaxChannelsPerTeam and can be referenced
# without a channel line.
TOWN_SQUARE = "town-square"
DEFAULT_CHANNELS = (TOWN_SQUARE, "off-topic")


class PasswordPolicy(NamedTuple):
    """PasswordSettings.* (applied to plaintext `password` fields at apply time)."""

    minimum_length: int = 8
    lowercase: bool = False
    uppercase: bool = False
    number: bool = False
    symbol: bool = False


class RuleContext(NamedTuple):
    """What a rule needs to know about the target server.

    `permissions` / `system_emojis` default to the lists vendored in ``archivekit/data``.
    """

    max_post_size: int = DEFAULT_MAX_POST_SIZE
    # FileSettings.MaxFileSize; None (unknown) keeps lines with files off the fast path.
    max_file_size: int | None = None
    # FileSettings.MaxImageResolution; None (unknown): every image the fast path measures
    # becomes a fact, not only those that are over it or larger than all before.
    max_image_resolution: int | None = None
    password: PasswordPolicy = PasswordPolicy()
    default_locale: str = "en"
    default_channels: tuple[str, ...] = DEFAULT_CHANNELS
