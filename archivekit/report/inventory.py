"""What an archive holds, as `inspect` counts it: per type, per team and per channel.

Pure data (no reading, no printing): `archivekit.inspect` fills it, `report.render` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archivekit.check.facts import (
    Counts,
    add_counters,
    earliest,
    latest,
    take_later_definition,
)
from archivekit.check.table_counts import Team


@dataclass(slots=True)
class ChannelSummary:
    team: str
    name: str
    type: str | None = None
    defined_on: int | None = None
    posts: int = 0
    replies: int = 0
    attachments: int = 0
    first_post_at: int | None = None
    last_post_at: int | None = None

    def merge(self, other: ChannelSummary) -> None:
        """Add the summary of the same channel from another share of the lines."""
        add_counters(self, other, ("posts", "replies", "attachments"))
        take_later_definition(self, other, ("type",))
        self.first_post_at = earliest(self.first_post_at, other.first_post_at)
        self.last_post_at = latest(self.last_post_at, other.last_post_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "name": self.name,
            "type": self.type,
            "defined_on": self.defined_on,
            "posts": self.posts,
            "replies": self.replies,
            "attachments": self.attachments,
            "first_post_at": self.first_post_at,
            "last_post_at": self.last_post_at,
        }


@dataclass(slots=True)
class Inspection:
    archive: str
    jsonl: str
    kind: str
    size: int
    lines: int = 0
    undecodable: int = 0
    counts: Counts = field(default_factory=Counts)
    teams: dict[str, Team] = field(default_factory=dict)
    channels: dict[tuple[str, str], ChannelSummary] = field(default_factory=dict)
    group_channels: int = 0
    files: int = 0
    file_bytes: int = 0
    first_post_at: int | None = None
    last_post_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "jsonl": self.jsonl,
            "kind": self.kind,
            "size": self.size,
            "lines": self.lines,
            "undecodable_lines": self.undecodable,
            "counts": self.counts.to_dict(),
            "files": {"count": self.files, "bytes": self.file_bytes},
            "first_post_at": self.first_post_at,
            "last_post_at": self.last_post_at,
            "group_channels": self.group_channels,
            "teams": [t.to_dict() for t in sorted(self.teams.values(), key=lambda t: t.name)],
            "channels": [
                c.to_dict() for c in sorted(self.channels.values(), key=lambda c: (c.team, c.name))
            ],
        }
