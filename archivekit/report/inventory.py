"""What an archive holds, as `inspect` counts it: per type, per team and per channel.

Pure data (no reading, no printing): `archivekit.inspect` fills it, `report.render` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archivekit.check.facts import Counts
from archivekit.check.table_counts import Place, Team


def channel_dict(place: Place) -> dict[str, Any]:
    """A channel as `inspect` reports it (its JSON's ``channels[]``)."""
    return {
        "team": place.team,
        "name": place.name,
        "type": place.type,
        "defined_on": place.defined_on,
        "posts": place.posts,
        "replies": place.replies,
        "attachments": place.files,
        "first_post_at": place.first_at,
        "last_post_at": place.last_at,
    }


@dataclass(slots=True)
class Inspection:
    """inspect's result. ``counts.attachments`` and each channel's ``attachments`` count the
    entries listed in attachment lists (any entry, as plain JSON sees them: see `Counts`);
    ``files`` and ``file_bytes`` the members under data/ themselves."""

    archive: str
    jsonl: str
    kind: str
    size: int
    lines: int = 0
    undecodable: int = 0
    counts: Counts = field(default_factory=Counts)
    teams: dict[str, Team] = field(default_factory=dict)
    channels: dict[tuple[str, str], Place] = field(default_factory=dict)
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
                channel_dict(c)
                for c in sorted(self.channels.values(), key=lambda c: (c.team, c.name))
            ],
        }
