"""Pipeline facts for the target-limit checks: image dimensions and the `Needs` forwarding."""

from __future__ import annotations

from typing import Any

from archivekit.check.engine import Hooks
from archivekit.check.files import FileRef
from archivekit.check.limits import is_image_name
from archivekit.errors import ArchiveError
from archivekit.gosem.images import HEAD_BYTES, image_dimensions
from archivekit.read import Archive


class Dimensions:
    """Image dimensions of members, read from their first bytes once per member."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._cache: dict[str, tuple[str, int, int] | None] = {}

    def __call__(self, member: Any, *, any_name: bool = False) -> tuple[str, int, int] | None:
        """Dimensions of an image member: attachments only when the server would measure
        them (by extension); profile images whatever their name (`any_name`)."""
        if not any_name and not is_image_name(member.key):
            return None
        key = member.key
        if key in self._cache:
            return self._cache[key]
        dims = None
        readable = member.method in (0, 8) and not member.encrypted
        if readable:
            try:
                dims = image_dimensions(self.archive.read_member_head(member, HEAD_BYTES))
            except ArchiveError:
                # A damaged attachment must not stop the whole validation.
                dims = None
        if len(self._cache) < 1_000_000:
            self._cache[key] = dims
        return dims


class NeedsHooks(Hooks):
    """Forwards pipeline facts to a `Needs`-shaped sink (the real one, or a recorder)."""

    def __init__(self, needs: Any, dimensions: Dimensions) -> None:
        self.needs = needs
        self.dimensions = dimensions

    def team(self, line: int, name: str) -> None:
        self.needs.team(line, name)

    def channel(self, line: int, team: str, name: str, deleted_at: int | None) -> None:
        self.needs.channel(line, team, name, deleted_at)

    def user_teams(self, line: int, username: str, active: bool, teams: list[str]) -> None:
        self.needs.user_teams(line, username, active, teams)

    def attachment(self, line: int, ref: FileRef) -> None:
        member = ref.member
        self.needs.attachment(line, ref.field, member.name, member.size, self.dimensions(member))

    def attachment_totals(
        self, count: int, total_bytes: int, largest: int, line: int, field: str
    ) -> None:
        self.needs.attachment_totals(count, total_bytes, largest, line, field)

    def profile_image(self, line: int, ref: FileRef) -> None:
        member = ref.member
        dims = self.dimensions(member, any_name=True)
        self.needs.profile_image(line, ref.field, member.name, member.size, dims)

    def post_message(self, line: int, field: str, runes: int) -> None:
        self.needs.post_message(line, field, runes)

    def post_files(self, line: int, field: str, count: int) -> None:
        self.needs.post_files(line, field, count)
