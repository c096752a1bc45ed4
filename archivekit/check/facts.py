"""What the engine finds in a run of lines, as plain data.

Counts of the lines of each type for now; the facts and issues of a batch follow.
"""

from __future__ import annotations

from dataclasses import dataclass

COUNT_KEYS = (
    "teams",
    "channels",
    "users",
    "bots",
    "roles",
    "schemes",
    "emojis",
    "posts",
    "replies",
    "reactions",
    "direct_channels",
    "direct_posts",
    "attachments",
)


@dataclass(slots=True)
class Counts:
    """Lines of each type (valid or not); replies, reactions and attachments are the objects
    inside post and direct_post lines (attachments: non-empty paths, replies included)."""

    teams: int = 0
    channels: int = 0
    users: int = 0
    bots: int = 0
    roles: int = 0
    schemes: int = 0
    emojis: int = 0
    posts: int = 0
    replies: int = 0
    reactions: int = 0
    direct_channels: int = 0
    direct_posts: int = 0
    attachments: int = 0

    def to_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in COUNT_KEYS}
